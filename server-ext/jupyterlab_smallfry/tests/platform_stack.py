"""The whole team platform for tests, benchmarks and UI tests: what ``smallfry-platform up``
starts (through :class:`~jupyterlab_smallfry.platform.launcher.Platform`), plus moto enforcing
IAM (``platform_aws.py``) and a real OIDC provider, with throw-away Unix accounts.

Needs root (the Hub creates a Unix account per user) and PostgreSQL's binaries.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ..platform.launcher import Platform
from .airflow_env import ensure_venv
from .hub_stack import Hub, find_proxy
from .oidc_provider import oidc_provider
from .platform_aws import BUCKET, role_arn, team_aws
from .processes import free_port

#: Where the users' venv is cached between runs (every account must be able to traverse it).
USER_ENV_BASE = os.environ.get("SMALLFRY_USER_ENV_BASE", "/var/cache/smallfry/test-user-envs")
RUNS = f"s3://{BUCKET}/smallfry/runs/"
ADMIN_GROUP = "platform-admins"


def remove_accounts(names) -> None:
    """Delete the Unix accounts (and homes) a run created; missing ones are fine."""
    for name in names:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)


def _keep_logs(state: Path, keep: Path) -> None:
    shutil.rmtree(keep, ignore_errors=True)
    keep.mkdir(parents=True)
    for log in [state / "hub" / "jupyterhub.log", *state.glob("airflow/process-logs/*")]:
        with contextlib.suppress(OSError):
            shutil.copy(log, keep / log.name)


@contextlib.contextmanager
def team_platform(
    users: dict[str, list[str]],
    name: str = "e2e",
    *,
    parse_interval: int = 5,
    extra_hub_config: str | os.PathLike | None = None,
    log=print,
):
    """The platform with ``users`` (name -> IdP groups). Each non-admin user gets the group
    ``team-<user>`` mapped to their own notebook role ``nb-<user>`` and a copy of the demo's
    sales report in ``s3://team-lake/home/<user>/``. Yields the :class:`Platform` with
    ``aws``, ``idp``, ``hub`` (for scripted logins) and ``started_in`` (seconds) added.
    ``extra_hub_config``: a JupyterHub config file loaded after the platform's; ``log`` gets
    the platform's progress lines.

    The Hub's and Airflow's logs of the last run are copied to ``$TMPDIR/smallfry-<name>-last``.
    """
    members = [u for u, groups in users.items() if ADMIN_GROUP not in groups]
    remove_accounts(users)  # left over by an interrupted run
    root = Path(tempfile.mkdtemp(prefix=f"smallfry-{name}-", dir="/var/tmp"))
    root.chmod(0o755)  # users reach their homes, PostgreSQL its folder, through it
    (root / "home").mkdir(mode=0o755)
    python = ensure_venv(log=log)
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, root, True)
        stack.callback(remove_accounts, users)
        aws = stack.enter_context(team_aws(tuple(members)))
        idp = stack.enter_context(oidc_provider())
        for user, groups in users.items():
            idp.set_user(user, preferred_username=user, email=f"{user}@example.com", groups=groups)
        settings = {
            "state_dir": str(root / "state"),
            "public_url": f"http://127.0.0.1:{free_port()}",
            "postgres_port": free_port(),
            "postgres_durable": False,
            "idp": {
                "well_known_url": f"{idp.issuer}/.well-known/openid-configuration",
                "client_id": "smallfry-platform",
                "client_secret": "platform-secret",
                "admin_groups": [ADMIN_GROUP],
            },
            "aws": {
                "region": "us-east-1",
                "s3_endpoint_url": aws.url,
                "sts_endpoint_url": aws.url,
                "runs_uri": RUNS,
                "roots": [BUCKET],
                "role_map": {f"team-{u}": role_arn(f"nb-{u}") for u in members},
                "service_env": aws.env(aws.service),
                "worker_env": aws.env(aws.worker),
            },
            "airflow": {
                "public_url": f"http://127.0.0.1:{free_port()}",
                "python": str(python),
                "parse_interval": parse_interval,
            },
            "hub": {
                "bind_url": f"http://127.0.0.1:{free_port()}",
                "proxy_api_url": f"http://127.0.0.1:{free_port()}",
                "proxy_command": [find_proxy()],
                "service_port": free_port(),
                "users": {"home_base": str(root / "home")},
            },
            "python": {"user_env_base": USER_ENV_BASE},
        }
        if extra_hub_config:
            settings["hub"]["extra_config"] = str(extra_hub_config)
        stack.callback(
            _keep_logs, root / "state", Path(tempfile.gettempdir()) / f"smallfry-{name}-last"
        )
        started = time.monotonic()
        platform = stack.enter_context(Platform(settings, log=log))
        platform.started_in = time.monotonic() - started
        platform.aws, platform.idp = aws, idp
        platform.hub = Hub(platform.public_url, "", platform.hub_proc, platform.hub_log, root)
        platform.root = root
        yield platform
