"""What a real JupyterHub answers when it no longer knows a server's API token.

JupyterHub 2 and later answer an unknown (revoked, expired, pre-reset) token with HTTP 403
"Missing or invalid credentials." rather than 401, and a known token that lacks a scope with
403 "requires any of [...]" (or 404 for a user it may not see). The first means "log in
again / restart your server" (``hub-refused``, needs-login), the second is an admin's fix
(``missing-scope``). Checked here against JupyterHub itself, with its dummy authenticator:
no OIDC provider is needed to get a token refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

from ..credentials.cache import CredentialError
from ..credentials.hub import HubClient, HubEnv
from .hub_stack import find_proxy
from .processes import _stop, free_port, wait_for_url

BARE_HUB_CONFIG = """
import os
c = get_config()
c.JupyterHub.bind_url = os.environ["BARE_HUB_PUBLIC_URL"]
c.JupyterHub.hub_bind_url = os.environ["BARE_HUB_API_BIND"]
c.ConfigurableHTTPProxy.command = [os.environ["BARE_HUB_CHP"]]
c.ConfigurableHTTPProxy.api_url = os.environ["BARE_HUB_PROXY_API"]
c.JupyterHub.db_url = "sqlite:///" + os.environ["BARE_HUB_DIR"] + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = os.environ["BARE_HUB_DIR"] + "/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = set(os.environ["BARE_HUB_USERS"].split(","))
c.JupyterHub.services = [{"name": "bare-admin", "api_token": os.environ["BARE_HUB_ADMIN_TOKEN"]}]
c.JupyterHub.load_roles = [
    {"name": "bare-admin", "services": ["bare-admin"], "scopes": ["admin:users", "tokens"]}
]
"""


class BareHub:
    """A running JupyterHub: ``url`` is the public (proxy) URL, ``api_url`` its REST API."""

    def __init__(self, url: str, api_url: str, admin_token: str, proc, log_path: Path):
        self.url = url
        self.api_url = api_url
        self.admin_token = admin_token
        self.proc = proc
        self.log_path = log_path

    def admin(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method,
            f"{self.api_url}{path}",
            headers={"Authorization": f"token {self.admin_token}"},
            timeout=30,
            **kwargs,
        )


@contextlib.contextmanager
def bare_jupyterhub(users=("alice",), port: int | None = None):
    """JupyterHub with the dummy authenticator and its proxy on 127.0.0.1; no spawns."""
    folder = Path(tempfile.mkdtemp(prefix="smallfry-bare-hub-"))
    (folder / "jupyterhub_config.py").write_text(BARE_HUB_CONFIG)
    public, hub_port, proxy_api = port or free_port(), free_port(), free_port()
    admin_token = secrets.token_hex(16)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTERHUB_"))},
        "BARE_HUB_PUBLIC_URL": f"http://127.0.0.1:{public}",
        "BARE_HUB_API_BIND": f"http://127.0.0.1:{hub_port}",
        "BARE_HUB_PROXY_API": f"http://127.0.0.1:{proxy_api}",
        "BARE_HUB_CHP": find_proxy(),
        "BARE_HUB_DIR": str(folder),
        "BARE_HUB_USERS": ",".join(users),
        "BARE_HUB_ADMIN_TOKEN": admin_token,
    }
    log_path = folder / "hub.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(folder / "jupyterhub_config.py")],
            env=env,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    hub = BareHub(
        f"http://127.0.0.1:{public}",
        f"http://127.0.0.1:{public}/hub/api",
        admin_token,
        proc,
        log_path,
    )
    try:
        wait_for_url(hub.api_url, proc, timeout=90, log=log_path.read_text)
        yield hub
    finally:
        _stop(proc)  # the Hub stops the proxy it started


@pytest.fixture(scope="module")
def hub():
    with bare_jupyterhub() as hub:
        yield hub


def auth_state_error(hub: BareHub, token: str) -> CredentialError:
    client = HubClient(HubEnv(hub.api_url, token, "alice"))
    with pytest.raises(CredentialError) as err:
        asyncio.run(client.auth_state())
    return err.value


def test_a_token_the_hub_does_not_know_means_log_in_again(hub):
    err = auth_state_error(hub, "revoked-" + secrets.token_hex(16))
    assert err.code == "hub-refused" and err.state == "needs-login"
    assert "Log in to JupyterHub again" in err.hint


def test_a_revoked_server_token_means_log_in_again(hub):
    created = hub.admin("POST", "/users/alice/tokens", json={"note": "server", "scopes": []})
    created.raise_for_status()
    token, token_id = created.json()["token"], created.json()["id"]
    assert auth_state_error(hub, token).code == "missing-scope"  # known, but lacks the scope
    hub.admin("DELETE", f"/users/alice/tokens/{token_id}").raise_for_status()
    assert auth_state_error(hub, token).code == "hub-refused"


def test_a_known_token_without_the_auth_state_scope_is_an_admin_fix(hub):
    scopes = ["read:users!user=alice"]  # may read alice, but not her auth_state
    created = hub.admin("POST", "/users/alice/tokens", json={"note": "read", "scopes": scopes})
    created.raise_for_status()
    err = auth_state_error(hub, created.json()["token"])
    assert err.code == "missing-scope" and err.state == "error"
    assert "admin:auth_state!user" in err.hint
