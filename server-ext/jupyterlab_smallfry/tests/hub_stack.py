"""A real JupyterHub for end-to-end tests: configurable-http-proxy, GenericOAuthenticator
against a real OIDC provider, SimpleLocalProcessSpawner starting single-user servers with
Small Fry, and a browser-like scripted login (HTTP with a cookie jar).

The Hub loads the shipped example ``jupyterhub_config_<mode>.py`` and adds only what a test
machine needs (ports, the proxy binary, local spawner, where moto and STS are).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .processes import _stop, free_port, wait_for_url

EXAMPLES = Path(__file__).resolve().parents[1] / "hub" / "examples"
SERVER_EXT = Path(__file__).resolve().parents[2]


def find_proxy() -> str:
    """configurable-http-proxy: $SMALLFRY_CHP, then the repo's npm devDependency, then PATH."""
    candidates = [
        os.environ.get("SMALLFRY_CHP", ""),
        str(SERVER_EXT.parent / "node_modules/.bin/configurable-http-proxy"),
        shutil.which("configurable-http-proxy") or "",
    ]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise RuntimeError(
        "configurable-http-proxy not found: run `npm ci` at the repository root (it is a "
        "devDependency), or put it on PATH or in SMALLFRY_CHP"
    )


TEST_CONFIG = """
import os
c = get_config()
load_subconfig(os.environ["E2E_EXAMPLE"])
c.JupyterHub.bind_url = os.environ["E2E_PUBLIC_URL"]
c.JupyterHub.hub_bind_url = os.environ["E2E_HUB_URL"]
c.ConfigurableHTTPProxy.command = [os.environ["E2E_CHP"]]
c.ConfigurableHTTPProxy.api_url = os.environ["E2E_PROXY_API"]
c.JupyterHub.db_url = "sqlite:///" + os.environ["E2E_DIR"] + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = os.environ["E2E_DIR"] + "/cookie_secret"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = os.environ["E2E_DIR"] + "/home/{username}"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.args.extend([
    "--allow-root",
    "--SmallFry.sts_endpoint_url=" + os.environ["E2E_STS"],
    "--SmallFry.endpoint_url=" + os.environ["E2E_S3"],
])
c.Spawner.environment = {"PYTHONPATH": os.environ["E2E_PYTHONPATH"], "AWS_DEFAULT_REGION": "us-east-1"}
c.GenericOAuthenticator.username_claim = "preferred_username"
# A test-only admin service: creates API tokens, shares alice's server with bob, and reads
# auth_state so the test can compare the id_token that reached STS.
c.JupyterHub.services.append({"name": "e2e-admin", "api_token": os.environ["E2E_ADMIN_TOKEN"]})
c.JupyterHub.load_roles.extend([
    {
        "name": "e2e-admin",
        "services": ["e2e-admin"],
        "scopes": ["admin:users", "admin:auth_state", "tokens", "shares", "list:users", "read:users"],
    }
])
"""


@dataclass
class Hub:
    url: str  # public URL (the proxy), ends without "/"
    admin_token: str
    proc: subprocess.Popen
    log_path: Path
    folder: Path
    sessions: dict = field(default_factory=dict)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def admin(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method,
            f"{self.url}/hub/api{path}",
            headers={"Authorization": f"token {self.admin_token}"},
            timeout=60,
            **kwargs,
        )

    def token_for(self, user: str) -> str:
        reply = self.admin(
            "POST", f"/users/{user}/tokens", json={"note": "e2e", "expires_in": 3600}
        )
        reply.raise_for_status()
        return reply.json()["token"]

    def login(self, user: str) -> requests.Session:
        """Log ``user`` in as a browser would: Hub -> IdP form -> callback -> spawned server."""
        browser = requests.Session()
        page = browser.get(f"{self.url}/hub/oauth_login?next=%2Fhub%2Fspawn", timeout=60)
        assert "/oauth2/authorize" in page.url, page.url  # the IdP's login form
        browser.post(page.url, data={"sub": user}, timeout=180)  # follows to the Hub callback
        self.wait_for_server(browser, user)
        self.sessions[user] = browser
        return browser

    def wait_for_server(self, browser: requests.Session, owner: str, timeout: float = 180) -> None:
        """Open ``/user/<owner>/lab`` until the server itself answers (OAuth done too)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            page = browser.get(f"{self.url}/user/{owner}/lab", timeout=60)
            if page.status_code == 200 and "/hub/api/oauth2/authorize" in page.url:
                # Someone else's (shared) server: the Hub asks to confirm access, once.
                page = browser.post(page.url, data=form_fields(page.text), timeout=60)
            if page.status_code == 200 and page.url.rstrip("/").endswith(f"/user/{owner}/lab"):
                return
            time.sleep(1)
        raise TimeoutError(f"{owner}'s server did not come up; hub log:\n{self.log_text()[-4000:]}")


@contextlib.contextmanager
def jupyterhub(mode: str, idp, sts_url: str, s3_url: str, env: dict):
    """Start JupyterHub with the example config of ``mode`` ('web_identity' or 'broker')."""
    folder = Path(tempfile.mkdtemp(prefix=f"smallfry-hub-{mode}-"))
    (folder / "home").mkdir()
    config = folder / "jupyterhub_config.py"
    config.write_text(TEST_CONFIG)
    port, hub_port, proxy_port = free_port(), free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    admin_token = secrets.token_hex(16)
    hub_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTERHUB_"))},
        "JUPYTERHUB_CRYPT_KEY": secrets.token_hex(32),
        "E2E_EXAMPLE": str(EXAMPLES / f"jupyterhub_config_{mode}.py"),
        "E2E_PUBLIC_URL": url,
        "E2E_HUB_URL": f"http://127.0.0.1:{hub_port}",
        "E2E_PROXY_API": f"http://127.0.0.1:{proxy_port}",
        "E2E_CHP": find_proxy(),
        "E2E_DIR": str(folder),
        "E2E_STS": sts_url,
        "E2E_S3": s3_url,
        "E2E_PYTHONPATH": str(SERVER_EXT),
        "E2E_ADMIN_TOKEN": admin_token,
        "PYTHONPATH": str(SERVER_EXT),
        "OIDC_CLIENT_ID": "jupyterhub-test",
        "OIDC_CLIENT_SECRET": "hub-secret",
        "OAUTH_CALLBACK_URL": f"{url}/hub/oauth_callback",
        "OIDC_AUTHORIZE_URL": idp.authorize_url,
        "OIDC_TOKEN_URL": idp.token_url,
        "OIDC_USERINFO_URL": idp.userinfo_url,
        **env,
    }
    log_path = folder / "hub.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config), "--debug"],
            env=hub_env,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    hub = Hub(url, admin_token, proc, log_path, folder)
    try:
        wait_for_url(f"{url}/hub/api", proc, timeout=120, log=hub.log_text)
        yield hub
    finally:
        _stop(proc)  # the Hub stops the spawned servers and the proxy it started


def xsrf_of(browser: requests.Session, path: str) -> str:
    """The ``_xsrf`` cookie a server set for ``path`` (what JupyterLab sends back as a header)."""
    for cookie in browser.cookies:
        scope = cookie.path or "/"
        if cookie.name == "_xsrf" and path.startswith(scope) and scope != "/hub/":
            return cookie.value
    raise KeyError(f"no _xsrf cookie for {path}")


def form_fields(html: str) -> list[tuple[str, str]]:
    """The name/value pairs an HTML form would submit (hidden inputs and checked boxes)."""
    fields = []
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and "disabled" not in tag and ('type="checkbox"' not in tag or "checked" in tag):
            fields.append((name.group(1), value.group(1) if value else ""))
    return fields


def secrets_in(text: str) -> list[str]:
    return re.findall(r"ASIA[A-Z0-9]{16}|eyJ[\w-]{20,}", text)
