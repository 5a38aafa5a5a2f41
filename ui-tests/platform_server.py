"""The team platform for the UI test of scheduling through JupyterHub and Airflow.

Started by Playwright as a `webServer` (see playwright.config.js), or by hand:

    sudo python platform_server.py        # Ctrl-C, SIGTERM or closing stdin stops everything

It starts the platform exactly as ``smallfry-platform up`` does (``Platform`` from
``jupyterlab_smallfry.platform.launcher``) with the test pieces the end-to-end test
``tests/test_platform_end_to_end.py`` uses: moto enforcing IAM (``team_aws``), a real OIDC
provider whose login form takes a ``sub`` field, PostgreSQL, Airflow 3 with its real
scheduler, the users' venv, JupyterHub with configurable-http-proxy and the Small Fry Hub
service. The one user is ``ui-alice`` (not the end-to-end test's ``tp-alice``), group
``team-ui-alice``, whose role may read and write ``s3://team-lake/home/ui-alice/``, where
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
import shutil
import signal
import stat
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
GROUP = "team-ui-alice"
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


def main() -> None:
    from jupyterlab_smallfry.tests.platform_aws import BUCKET
    from jupyterlab_smallfry.tests.platform_stack import team_platform

    if os.geteuid() != 0:
        log("needs root: JupyterHub creates a Unix account per user and runs servers as it")
        sys.exit(2)
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        stack.callback(log, "stopped")
        stack.callback(INFO_FILE.unlink, missing_ok=True)
        extra = Path(tempfile.mkdtemp(prefix="smallfry-ui-galata-")) / "galata_hub_config.py"
        stack.callback(shutil.rmtree, extra.parent, True)
        extra.write_text(GALATA_HUB_CONFIG)
        platform = stack.enter_context(
            team_platform({USER: [GROUP]}, "ui-platform", extra_hub_config=extra, log=log)
        )
        keep = Path(tempfile.gettempdir()) / "smallfry-ui-platform-last"
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
