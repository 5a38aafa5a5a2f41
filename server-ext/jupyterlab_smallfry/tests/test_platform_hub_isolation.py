"""The one-machine team platform keeps users apart: each server runs as its user's own account.

Real processes only: JupyterHub loading ``platform/hub_config.py`` unchanged (plus a test-only
admin service), configurable-http-proxy, ``LocalGenericOAuthenticator`` against a real OIDC
provider creating the Unix accounts ``sf-alice`` and ``sf-bob`` on first login,
``LocalProcessSpawner`` starting ``jupyterhub-singleuser`` from the users' venv
(``platform/user_env.py``, built from Debian's Python), the broker as the ``smallfry`` Hub
service, and moto enforcing IAM for STS. The accounts and their homes are deleted at the end.

Needs root (it creates Unix accounts and starts servers as them).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
from traitlets.config import Config

from ..platform.hub_config import CONFIG_FILE, SettingsError, configure
from ..platform.user_env import ensure_user_env
from .hub_aws import ACCOUNT, enforcing_moto, role_arn
from .hub_kernel import run_in_kernel
from .hub_stack import Hub, find_proxy
from .oidc_provider import oidc_provider
from .processes import _stop, free_port, wait_for_url

ALICE, BOB = "sf-alice", "sf-bob"
GROUPS = {ALICE: ["team-alice", "platform-admins"], BOB: ["team-bob"]}
ROLE_MAP = {"team-alice": role_arn("nb-alice"), "team-bob": role_arn("nb-bob")}
#: Where the users' venv is cached between test sessions (must be traversable by everyone).
USER_ENV_BASE = os.environ.get("SMALLFRY_USER_ENV_BASE", "/var/cache/smallfry/test-user-envs")
#: Test homes live here, so a leftover account from an interrupted run is recognisably ours.
TEST_ROOT_PREFIX = "/var/tmp/smallfry-platform-"

TEST_CONFIG = """
import os
c = get_config()
load_subconfig(os.environ["PLATFORM_HUB_CONFIG"])
# Test-only: a service that reads server state (pids) and makes API tokens for the users.
c.JupyterHub.services.append(
    {"name": "platform-test-admin", "api_token": os.environ["PLATFORM_ADMIN_TOKEN"]}
)
c.JupyterHub.load_roles.append({
    "name": "platform-test-admin",
    "services": ["platform-test-admin"],
    "scopes": ["admin:users", "admin:server_state", "read:servers", "tokens", "list:users", "read:users"],
})
"""


def _test_accounts_exist() -> list[str]:
    found = []
    for name in (ALICE, BOB):
        try:
            home = pwd.getpwnam(name).pw_dir
        except KeyError:
            continue
        if not home.startswith(TEST_ROOT_PREFIX):
            raise RuntimeError(f"a real account {name} exists (home {home}); not touching it")
        found.append(name)
    return found


def _remove_accounts(names) -> None:
    for name in names:
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            continue
        # Whatever the Hub left running as the test account (it stops servers on exit).
        for proc in psutil.process_iter(["uids"]):
            if proc.info["uids"] and proc.info["uids"].real == uid:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)


@pytest.fixture(scope="module")
def user_env() -> Path:
    """The users' venv, built once and cached across test sessions."""
    if os.geteuid() != 0:
        pytest.skip("creates Unix accounts and starts servers as them: needs root")
    return ensure_user_env(USER_ENV_BASE)


@pytest.fixture(scope="module")
def platform(user_env):
    if os.geteuid() != 0:
        pytest.skip("creates Unix accounts and starts servers as them: needs root")
    _remove_accounts(_test_accounts_exist())  # left by an interrupted run
    root = Path(tempfile.mkdtemp(prefix=TEST_ROOT_PREFIX.rsplit("/", 1)[1], dir="/var/tmp"))
    root.chmod(0o755)  # users reach their homes through it
    (root / "home").mkdir(mode=0o755)
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, root, True)
        stack.callback(_remove_accounts, (ALICE, BOB))
        aws = stack.enter_context(enforcing_moto())
        idp = stack.enter_context(oidc_provider())
        for name, groups in GROUPS.items():
            idp.set_user(name, preferred_username=name, email=f"{name}@example.com", groups=groups)
        port, hub_port, proxy_port, service_port = (free_port() for _ in range(4))
        url = f"http://127.0.0.1:{port}"
        settings = {
            "public_url": url,
            "data_dir": str(root / "hub"),
            "hub_bind_url": f"http://127.0.0.1:{hub_port}",
            "proxy_api_url": f"http://127.0.0.1:{proxy_port}",
            "proxy_command": [find_proxy()],
            "oidc": {
                "client_id": "jupyterhub-platform",
                "client_secret": "platform-secret",
                "well_known_url": f"{idp.issuer}/.well-known/openid-configuration",
                "admin_groups": ["platform-admins"],
            },
            "users": {"home_base": str(root / "home")},
            "user_env_bin": str(user_env),
            "service": {
                "url": f"http://127.0.0.1:{service_port}",
                "command": [
                    sys.executable, "-m", "jupyterlab_smallfry.hub.broker",
                    f"--SmallFryBroker.role_map={json.dumps(ROLE_MAP)}",
                    f"--SmallFryBroker.sts_endpoint_url={aws.url}",
                ],
                # The service's own AWS identity (moto's admin); users' servers never see it.
                "environment": {
                    "AWS_ACCESS_KEY_ID": aws.admin["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": aws.admin["SecretAccessKey"],
                    "AWS_DEFAULT_REGION": "us-east-1",
                },
            },
            "smallfry": {"s3_endpoint_url": aws.url, "sts_endpoint_url": aws.url,
                         "region": "us-east-1"},
        }  # fmt: skip
        settings_file = root / "settings.json"
        settings_file.write_text(json.dumps(settings))
        settings_file.chmod(0o600)
        config = root / "jupyterhub_config.py"
        config.write_text(TEST_CONFIG)
        admin_token = secrets.token_hex(16)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTERHUB_"))},
            "JUPYTERHUB_CRYPT_KEY": secrets.token_hex(32),
            "SMALLFRY_HUB_SETTINGS": str(settings_file),
            "PLATFORM_HUB_CONFIG": str(CONFIG_FILE),
            "PLATFORM_ADMIN_TOKEN": admin_token,
        }
        log_path = root / "hub.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config), "--debug"],
                env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        stack.callback(_stop, proc)  # the Hub stops users' servers, the proxy and the service
        hub = Hub(url, admin_token, proc, log_path, root)
        wait_for_url(f"{url}/hub/api", proc, timeout=120, log=hub.log_text)
        hub.aws = aws
        hub.bin = user_env
        for name in GROUPS:
            hub.login(name)
        yield hub


def server_pid(hub: Hub, name: str) -> int:
    reply = hub.admin("GET", f"/users/{name}")
    reply.raise_for_status()
    return reply.json()["servers"][""]["state"]["pid"]


def runtime_folder(name: str, pid: int) -> Path:
    """``<runtime_dir>/smallfry-<pid>`` of the user's server, wherever Jupyter put it."""
    found = list(Path(pwd.getpwnam(name).pw_dir).rglob(f"smallfry-{pid}"))
    assert len(found) == 1, found
    return found[0]


def run_as(hub: Hub, name: str, code: str, **env) -> subprocess.CompletedProcess:
    """``code`` in the users' Python, as the Unix account ``name``, with only ``env``."""
    account = pwd.getpwnam(name)
    base = {"PATH": f"{hub.bin}:/usr/bin:/bin", "HOME": account.pw_dir, "LANG": "C.UTF-8"}
    variables = [f"{k}={v}" for k, v in {**base, **env}.items()]
    return subprocess.run(
        ["runuser", "-u", name, "--", "/usr/bin/env", "-i", *variables,
         str(hub.bin / "python"), "-c", code],
        capture_output=True, text=True, cwd="/", timeout=120, check=False,
    )  # fmt: skip


def test_each_server_runs_as_its_own_unix_account_from_the_users_venv(platform):
    accounts = {name: pwd.getpwnam(name) for name in GROUPS}
    assert accounts[ALICE].pw_uid != accounts[BOB].pw_uid
    for name, account in accounts.items():
        assert 1000 <= account.pw_uid < 60000 and account.pw_dir.startswith(TEST_ROOT_PREFIX)
        home = os.stat(account.pw_dir)
        assert home.st_uid == account.pw_uid and stat.S_IMODE(home.st_mode) == 0o700
        server = psutil.Process(server_pid(platform, name))
        assert set(server.uids()) == {account.pw_uid}, (name, server.uids())
        assert set(server.gids()) == {account.pw_gid}, (name, server.gids())
        command = server.cmdline()
        assert str(platform.bin / "jupyterhub-singleuser") in command
        assert "--SmallFry.credentials_mode=broker" in command
        environ = server.environ()
        assert environ["HOME"] == account.pw_dir and environ["USER"] == name
        assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & set(
            environ
        )


def test_groups_claim_makes_hub_groups_and_admins(platform):
    alice = platform.admin("GET", f"/users/{ALICE}").json()
    bob = platform.admin("GET", f"/users/{BOB}").json()
    assert alice["admin"] is True and set(alice["groups"]) == set(GROUPS[ALICE])
    assert bob["admin"] is False and bob["groups"] == ["team-bob"]


def test_alice_runtime_folder_is_hers_alone(platform):
    uid = pwd.getpwnam(ALICE).pw_uid
    folder = runtime_folder(ALICE, server_pid(platform, ALICE))
    info = os.stat(folder)
    assert info.st_uid == uid and stat.S_IMODE(info.st_mode) == 0o700
    for name in ("server.json", "aws-config"):
        info = os.stat(folder / name)
        assert info.st_uid == uid and stat.S_IMODE(info.st_mode) == 0o600, name


def test_bob_cannot_read_alice_server_json_or_profile(platform):
    folder = runtime_folder(ALICE, server_pid(platform, ALICE))
    for target in (folder / "server.json", folder / "aws-config"):
        result = run_as(platform, BOB, f"print(open({str(target)!r}).read())")
        assert result.returncode == 1 and "PermissionError" in result.stderr, result
        assert result.stdout == ""
    result = run_as(platform, BOB, f"print(__import__('os').listdir({str(folder)!r}))")
    assert "PermissionError" in result.stderr and result.stdout == ""
    # The credential helper itself, pointed at alice's server by bob: nothing comes back.
    helper = run_as(
        platform, BOB,
        "import sys; from jupyterlab_smallfry.credential_process import main; "
        f"sys.exit(main(['--server-info', {str(folder / 'server.json')!r}]))",
    )  # fmt: skip
    assert helper.returncode == 1 and helper.stdout == "", helper
    # ...while alice's own account reads it (the files are private, not broken).
    mine = run_as(platform, ALICE, f"print(len(open({str(folder / 'server.json')!r}).read()))")
    assert mine.returncode == 0 and int(mine.stdout) > 0, mine


IDENTITY = """
import os, pwd, boto3
print("uid", os.getuid(), pwd.getpwuid(os.getuid()).pw_name)
print("config", os.environ.get("AWS_CONFIG_FILE"))
print("env-key", "AWS_ACCESS_KEY_ID" in os.environ)
print("arn", boto3.client("sts").get_caller_identity()["Arn"])
"""


async def test_alice_kernel_is_alice_on_aws_and_bob_cannot_use_her_profile(platform):
    alice = pwd.getpwnam(ALICE)
    folder = runtime_folder(ALICE, server_pid(platform, ALICE))
    result = await run_in_kernel(
        f"{platform.url}/user/{ALICE}/", platform.token_for(ALICE), IDENTITY
    )
    assert result["error"] is None, result
    lines = dict(line.split(" ", 1) for line in result["stdout"].splitlines())
    assert lines["uid"] == f"{alice.pw_uid} {ALICE}"
    assert lines["config"] == str(folder / "aws-config") and lines["env-key"] == "False"
    assert lines["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/nb-alice/{ALICE}"

    # bob's account, told to use alice's managed profile, gets no identity at all.
    stolen = run_as(
        platform, BOB, IDENTITY,
        AWS_CONFIG_FILE=str(folder / "aws-config"), AWS_PROFILE="smallfry",
        AWS_ENDPOINT_URL_STS=platform.aws.url, AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )  # fmt: skip
    assert stolen.returncode != 0, stolen
    assert "arn " not in stolen.stdout and "assumed-role" not in stolen.stdout + stolen.stderr


def minimal_settings(tmp_path, **changes) -> dict:
    settings = {
        "public_url": "https://notebooks.example.com",
        "data_dir": str(tmp_path / "hub"),
        "oidc": {
            "client_id": "hub",
            "client_secret": "secret",
            "authorize_url": "https://idp.example.com/authorize",
            "token_url": "https://idp.example.com/token",
            "userinfo_url": "https://idp.example.com/userinfo",
        },
        "user_env_bin": "/opt/smallfry/user-envs/env-x/bin",
        "service": {"url": "http://127.0.0.1:8765", "command": ["smallfry-service"]},
    }
    for key, value in changes.items():
        settings[key] = {**settings.get(key, {}), **value} if isinstance(value, dict) else value
    return settings


@pytest.fixture
def crypt_key(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_CRYPT_KEY", secrets.token_hex(32))


def test_settings_refuse_shared_aws_keys_for_users_servers(tmp_path, crypt_key):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "aws_secret_access_key"):
        settings = minimal_settings(tmp_path, spawner_environment={name: "x"})
        with pytest.raises(SettingsError, match=name):
            configure(Config(), settings)
    with pytest.raises(SettingsError, match="oidc.scopes"):
        configure(Config(), minimal_settings(tmp_path, oidc={"scopes": ["openid"]}))


def test_system_accounts_never_get_a_server(tmp_path, crypt_key):
    c = Config()
    configure(c, minimal_settings(tmp_path))
    assert {"root", "daemon", "nobody"} <= c.Authenticator.blocked_users
    for name in ("root", "nobody"):
        with pytest.raises(PermissionError, match="system account"):
            c.Spawner.pre_spawn_hook(SimpleNamespace(user=SimpleNamespace(name=name)))
    assert stat.S_IMODE(os.stat(tmp_path / "hub").st_mode) == 0o700


def test_username_domain_takes_only_that_domain(tmp_path, crypt_key):
    c = Config()
    configure(c, minimal_settings(tmp_path, oidc={"username_domain": "example.com"}))
    claim = c.GenericOAuthenticator.username_claim
    assert claim({"preferred_username": "Alice@Example.com"}) == "alice"
    assert claim({"preferred_username": "alice@other.example"}) is None
