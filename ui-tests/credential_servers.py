"""Real servers for the credentials UI tests, one per state of the AWS credentials widget.

Started by Playwright as a `webServer` (see playwright.config.js), or by hand:

    python credential_servers.py          # Ctrl-C (or SIGTERM) stops everything

Everything binds 127.0.0.1. The servers are `jupyter lab` with Galata's test configuration
(`jupyter_server_test_config.py`, without the embedded demo), each in a distinct situation:

- 8890 ok: `ambient` mode; the only AWS configuration is a profile whose `credential_process`
  asks moto's STS to AssumeRole `analyst` as session `alice` for one hour, so the widget
  shows a real assumed-role identity and a real expiry (the spec moves the browser clock to
  see `expiring` and `expired`).
- 8891 not-configured: `ambient` mode on a machine with no AWS credentials at all
  (`no-credentials`).
- 8892 error: `broker` mode whose broker URL is a closed port (`broker-unreachable`; the
  server retries with backoff for about 6 s before it says so).
- 8893 needs-login: `web-identity` mode on alice's server whose Hub API token the real
  JupyterHub on 8894 does not know (`hub-refused`); the login link leads to that Hub.

Ports are fixed because the spec names them (tests/helpers.ts, `credentialServers`).
The needs-login server is started last, so once it answers all are up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

UI_TESTS = Path(__file__).resolve().parent
SERVER_EXT = UI_TESTS.parent / "server-ext"
# The test helpers are not part of the wheel; use the source tree's (the same code).
sys.path.insert(0, str(SERVER_EXT))

from jupyter_server.auth.identity import IdentityProvider, User

#: Where each state's server listens; keep in sync with tests/helpers.ts.
PORTS = {"ok": 8890, "not-configured": 8891, "error": 8892, "needs-login": 8893}
HUB_PORT = 8894

ACCOUNT = "123456789012"  # moto's default account
ROLE = "analyst"
SESSION = "alice"

#: The credential_process of the ok server: one STS AssumeRole at moto per lookup.
ASSUME_ROLE_SCRIPT = """
import json, sys
import boto3

sts = boto3.client(
    "sts", endpoint_url=sys.argv[1], region_name="us-east-1",
    aws_access_key_id="AKIAMOTOCALLER000001", aws_secret_access_key="moto-caller-secret",
)
reply = sts.assume_role(RoleArn=sys.argv[2], RoleSessionName=sys.argv[3], DurationSeconds=3600)
creds = reply["Credentials"]
print(json.dumps({
    "Version": 1,
    "AccessKeyId": creds["AccessKeyId"],
    "SecretAccessKey": creds["SecretAccessKey"],
    "SessionToken": creds["SessionToken"],
    "Expiration": creds["Expiration"].isoformat(),
}))
"""


class HubOwner(IdentityProvider):
    """Every browser request is the server's owner (`JUPYTERHUB_USER`), as on a single-user
    server behind JupyterHub, whose OAuth would tell alice apart. Without it the server's
    owner check refuses Galata's anonymous user."""

    async def get_user(self, handler):
        return User(os.environ["JUPYTERHUB_USER"])


def log(message: str) -> None:
    print(f"[credential servers] {message}", flush=True)


def clean_env(**extra: str) -> dict:
    """This environment without any AWS or JupyterHub setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTERHUB_", "JPY_"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"  # never ask an instance role
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SERVER_EXT), str(UI_TESTS), os.environ.get("PYTHONPATH", "")) if p
    )
    env.update(extra)
    return env


def start_lab(name: str, port: int, folder: Path, args: list[str], env: dict):
    log_path = folder / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--config={UI_TESTS / 'jupyter_server_test_config.py'}",
        f"--ServerApp.port={port}",
        "--SmallFry.embedded=False",
        "--ServerApp.log_level=WARN",
        *args,
    ]
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    return proc, log_path


def wait_lab(name: str, port: int, proc, log_path: Path, wait_for_url) -> None:
    try:
        wait_for_url(f"http://127.0.0.1:{port}/api/status", proc, timeout=150)
    except (RuntimeError, TimeoutError) as err:
        raise RuntimeError(
            f"the {name} server did not start ({err}); its log:\n{log_path.read_text()[-3000:]}"
        ) from None
    log(f"{name}: http://127.0.0.1:{port}/lab")


def main() -> None:
    import boto3

    from jupyterlab_smallfry.tests.processes import _stop, free_port, moto_server, wait_for_url
    from jupyterlab_smallfry.tests.test_credentials_hub_refusal import bare_jupyterhub

    folder = Path(tempfile.mkdtemp(prefix="smallfry-credential-servers-"))
    with contextlib.ExitStack() as stack:
        stack.callback(log, "stopped")
        moto = stack.enter_context(moto_server())
        role_arn = boto3.client(
            "iam",
            endpoint_url=moto,
            region_name="us-east-1",
            aws_access_key_id="AKIAMOTOCALLER000001",
            aws_secret_access_key="moto-caller-secret",
        ).create_role(
            RoleName=ROLE,
            AssumeRolePolicyDocument=(
                '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
                f'{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}'
            ),
        )["Role"]["Arn"]
        log(f"moto {moto}, role {role_arn}")

        script = folder / "assume_role.py"
        script.write_text(ASSUME_ROLE_SCRIPT)
        aws_config = folder / "aws-config"
        aws_config.write_text(
            textwrap.dedent(
                f"""\
                [default]
                region = us-east-1
                credential_process = {sys.executable} {script} {moto} {role_arn} {SESSION}
                """
            )
        )
        nowhere = str(folder / "no-such-file")
        endpoints = [f"--SmallFry.endpoint_url={moto}", f"--SmallFry.sts_endpoint_url={moto}"]
        # alice's single-user server under the Hub on HUB_PORT, as the spawner would set it up.
        hub_url = f"http://127.0.0.1:{HUB_PORT}"
        alice = {
            "JUPYTERHUB_USER": SESSION,
            "JUPYTERHUB_API_URL": f"{hub_url}/hub/api",
            # A token from before the Hub's database was reset: the Hub does not know it.
            "JUPYTERHUB_API_TOKEN": "revoked-0123456789abcdef0123456789abcdef",
            # Under the Hub this is a path on the same origin; here the server is not behind
            # the Hub's proxy, so give the whole URL for the login link to reach the Hub.
            "JUPYTERHUB_BASE_URL": f"{hub_url}/",
            "JUPYTERHUB_SERVICE_PREFIX": f"/user/{SESSION}/",
        }
        owner = ["--ServerApp.identity_provider_class=credential_servers.HubOwner"]
        # Nothing listens there: the broker service is down.
        broker_url = f"http://127.0.0.1:{free_port()}/services/smallfry-broker/"

        stack.enter_context(bare_jupyterhub(users=(SESSION,), port=HUB_PORT))
        log(f"JupyterHub {hub_url}")

        servers = {
            "ok": (
                endpoints,
                clean_env(AWS_CONFIG_FILE=str(aws_config), AWS_SHARED_CREDENTIALS_FILE=nowhere),
            ),
            "not-configured": (
                endpoints,
                clean_env(AWS_CONFIG_FILE=nowhere, AWS_SHARED_CREDENTIALS_FILE=nowhere),
            ),
            "error": (
                [
                    *endpoints,
                    *owner,
                    "--SmallFry.credentials_mode=broker",
                    f"--SmallFry.broker_url={broker_url}",
                ],
                clean_env(**alice),
            ),
            "needs-login": (
                [
                    *endpoints,
                    *owner,
                    "--SmallFry.credentials_mode=web-identity",
                    f"--SmallFry.role_arn={role_arn}",
                ],
                clean_env(**alice),
            ),
        }
        started = []
        for name, (args, env) in servers.items():
            if name == "needs-login":
                for earlier in started:
                    wait_lab(*earlier, wait_for_url)
            proc, log_path = start_lab(name, PORTS[name], folder, args, env)
            stack.callback(_stop, proc)
            started.append((name, PORTS[name], proc, log_path))
        wait_lab(*started[-1], wait_for_url)
        log(f"ready (logs in {folder})")
        while all(proc.poll() is None for _, _, proc, _ in started):
            time.sleep(1)
        for name, _, proc, log_path in started:
            if proc.poll() is not None:
                log(f"the {name} server exited with {proc.returncode}; see {log_path}")
        sys.exit(1)


def _stop_on_signal(signum, _frame):
    # Playwright ends its web servers with SIGTERM (gracefulShutdown); unwind the ExitStack.
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    main()
