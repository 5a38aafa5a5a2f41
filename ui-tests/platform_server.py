"""The team platform for the UI test of scheduling through JupyterHub and Airflow.

Started by Playwright as a `webServer` (see playwright.config.js), or by hand:

    sudo python platform_server.py        # Ctrl-C, SIGTERM or closing stdin stops everything

It starts the platform exactly as ``smallfry-platform up`` does (``Platform`` from
``jupyterlab_smallfry.platform.launcher``) with the test pieces the end-to-end test
``tests/test_platform_end_to_end.py`` uses: moto enforcing IAM (``team_aws``), a real OIDC
provider whose login form takes a ``sub`` field, PostgreSQL, Airflow 3 with its real
scheduler, the users' venv, JupyterHub with configurable-http-proxy and the Small Fry Hub
service. The one user is ``ui-alice`` (not the end-to-end test's ``tp-alice``), group
``ui-team-alice``, whose role may read and write ``s3://team-lake/home/ui-alice/``, where
``sales-report.ipynb`` waits.

Users' servers also load Galata's in-page helper extension and expose the app in the browser
(``c.Spawner.args`` in an extra Hub config), so Galata's `page` helpers work behind the Hub.

When everything answers it prints one line Playwright waits for:

    Small Fry platform ready: hub=http://127.0.0.1:<port> user=ui-alice info=<json file>

and writes the same facts (and the Airflow URL, the log folder) to that JSON file.

Needs root: JupyterHub creates a Unix account per user and starts each server as it. The
account is removed at the end, as are the state folder and the users' homes.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

UI_TESTS = Path(__file__).resolve().parent
SERVER_EXT = UI_TESTS.parent / "server-ext"
# The test helpers are not part of the wheel; use the source tree's (the same code).
sys.path.insert(0, str(SERVER_EXT))

#: The user the spec logs in as, and her IdP group (mapped to her role).
USER = "ui-alice"
GROUP = "ui-team-alice"
#: Shared with the end-to-end test: built once per machine, reused by both.
USER_ENV_BASE = os.environ.get("SMALLFRY_USER_ENV_BASE", "/var/cache/smallfry/test-user-envs")
#: Where the facts for the spec go (also printed on the ready line).
INFO_FILE = Path(
    os.environ.get(
        "SMALLFRY_PLATFORM_INFO", Path(tempfile.gettempdir()) / "smallfry-ui-platform.json"
    )
)

#: Loaded by JupyterHub after the platform's own config: Galata's in-page helpers in the
#: users' servers (the venv's own JupyterLab ships them), nothing else changes.
GALATA_HUB_CONFIG = """\
import glob, json, os
c = get_config()  # noqa: F821
_bin = json.load(open(os.environ["SMALLFRY_HUB_SETTINGS"]))["user_env_bin"]
_galata = glob.glob(os.path.join(_bin, "..", "lib", "python3*", "site-packages", "jupyterlab", "galata"))
if not _galata:
    raise RuntimeError(f"no jupyterlab/galata in the users' venv of {_bin}")
c.Spawner.args.extend([
    "--LabApp.expose_app_in_browser=True",
    "--LabServerApp.extra_labextensions_path=" + os.path.realpath(_galata[0]),
])
"""


def log(message: str) -> None:
    print(f"[platform server] {message}", flush=True)


def remove_account(name: str) -> None:
    with contextlib.suppress(KeyError):
        pwd.getpwnam(name)
        subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)
        log(f"removed the Unix account {name}")


def keep_logs(state: Path, keep: Path) -> None:
    """Copy the Hub's and Airflow's logs where whoever debugs a failure finds them."""
    shutil.rmtree(keep, ignore_errors=True)
    keep.mkdir(parents=True)
    for path in [state / "hub" / "jupyterhub.log", *state.glob("airflow/process-logs/*")]:
        with contextlib.suppress(OSError):
            shutil.copy(path, keep / path.name)


def settings_for(root: Path, idp, aws, python: Path) -> dict:
    """The platform's settings, as the end-to-end test's fixture writes them."""
    from jupyterlab_smallfry.tests.hub_stack import find_proxy
    from jupyterlab_smallfry.tests.platform_aws import BUCKET, role_arn
    from jupyterlab_smallfry.tests.processes import free_port

    extra = root / "galata_hub_config.py"
    extra.write_text(GALATA_HUB_CONFIG)
    return {
        "state_dir": str(root / "state"),
        "public_url": f"http://127.0.0.1:{free_port()}",
        "postgres_port": free_port(),
        "postgres_durable": False,
        "idp": {
            "well_known_url": f"{idp.issuer}/.well-known/openid-configuration",
            "client_id": "smallfry-platform",
            "client_secret": "platform-secret",
            "admin_groups": ["platform-admins"],
        },
        "aws": {
            "region": "us-east-1",
            "s3_endpoint_url": aws.url,
            "sts_endpoint_url": aws.url,
            "runs_uri": f"s3://{BUCKET}/smallfry/runs/",
            "roots": [BUCKET],
            "role_map": {GROUP: role_arn(f"nb-{USER}")},
            "service_env": aws.env(aws.service),
            "worker_env": aws.env(aws.worker),
        },
        "airflow": {
            "public_url": f"http://127.0.0.1:{free_port()}",
            "python": str(python),
            "parse_interval": 5,
        },
        "hub": {
            "bind_url": f"http://127.0.0.1:{free_port()}",
            "proxy_api_url": f"http://127.0.0.1:{free_port()}",
            "proxy_command": [find_proxy()],
            "service_port": free_port(),
            "users": {"home_base": str(root / "home")},
            "extra_config": str(extra),
        },
        "python": {"user_env_base": USER_ENV_BASE},
    }


def main() -> None:
    from jupyterlab_smallfry.platform.launcher import Platform
    from jupyterlab_smallfry.tests.airflow_env import ensure_venv
    from jupyterlab_smallfry.tests.oidc_provider import oidc_provider
    from jupyterlab_smallfry.tests.platform_aws import BUCKET, team_aws

    if os.geteuid() != 0:
        log("needs root: JupyterHub creates a Unix account per user and runs servers as it")
        sys.exit(2)
    remove_account(USER)  # left over by an interrupted run
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="smallfry-ui-platform-", dir="/var/tmp"))
    root.chmod(0o755)  # users reach their homes, PostgreSQL its folder, through it
    (root / "home").mkdir(mode=0o755)
    with contextlib.ExitStack() as stack:
        stack.callback(log, "stopped")
        stack.callback(shutil.rmtree, root, True)
        stack.callback(remove_account, USER)
        stack.callback(INFO_FILE.unlink, missing_ok=True)
        python = ensure_venv(log=log)
        aws = stack.enter_context(team_aws((USER,)))
        idp = stack.enter_context(oidc_provider())
        idp.set_user(USER, preferred_username=USER, email=f"{USER}@example.com", groups=[GROUP])
        settings = settings_for(root, idp, aws, python)
        keep = Path(tempfile.gettempdir()) / "smallfry-ui-platform-last"
        stack.callback(keep_logs, root / "state", keep)
        platform = stack.enter_context(Platform(settings, log=log))
        info = {
            "hub_url": platform.public_url,
            "user": USER,
            "notebook": f"s3://{BUCKET}/home/{USER}/sales-report.ipynb",
            "airflow_url": platform.airflow_url,
            "logs": str(keep),
        }
        INFO_FILE.write_text(json.dumps(info, indent=2))
        log(f"up in {time.monotonic() - started:.0f} s; logs are kept in {keep} at the end")
        print(
            f"Small Fry platform ready: hub={platform.public_url} user={USER} info={INFO_FILE}",
            flush=True,
        )
        while platform.hub_proc.poll() is None:
            time.sleep(1)
        log(f"JupyterHub exited with {platform.hub_proc.returncode}:\n{platform.hub_log_tail()}")
        sys.exit(1)


def _stop_on_signal(signum, _frame):
    # Playwright ends its web servers with SIGTERM (gracefulShutdown); unwind the ExitStack.
    raise SystemExit(128 + signum)


def _stop_when_stdin_closes() -> None:
    """Stop when whoever started us goes away without a signal (its end of the pipe closes).

    Only for a pipe: a terminal or /dev/null on stdin says nothing about the parent."""
    try:
        if not stat.S_ISFIFO(os.fstat(0).st_mode):
            return
    except OSError:
        return

    def watch() -> None:
        while sys.stdin.buffer.read1(4096):
            pass
        log("stdin closed: stopping")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    _stop_when_stdin_closes()
    main()
