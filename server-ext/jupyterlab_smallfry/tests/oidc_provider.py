"""A real OpenID Connect provider process (``oidc-provider-mock`` from PyPI) and a scripted login.

The provider signs RS256 id_tokens with its own key, publishes them at ``/jwks``, accepts any
client ID/secret, and logs in whoever submits the ``sub`` form field. ``PUT /users/<sub>`` sets
a user's extra claims (groups, preferred_username, ...), which go into the id_token.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import requests

from .processes import _stop, free_port, wait_for_url

SOURCE = str(Path(__file__).resolve().parents[2])


@dataclass
class OidcProvider:
    issuer: str  # what the id_tokens carry as ``iss``

    @property
    def authorize_url(self) -> str:
        return f"{self.issuer}/oauth2/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/oauth2/token"

    @property
    def userinfo_url(self) -> str:
        return f"{self.issuer}/userinfo"

    def set_user(self, sub: str, **claims) -> None:
        requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=10).raise_for_status()

    def tokens_for(
        self, sub: str, client_id: str = "smallfry-test", secret: str = "s3cret"
    ) -> dict:
        """Log ``sub`` in through the authorization-code flow; returns the token response."""
        redirect = "http://127.0.0.1/callback"
        query = urlencode(
            {
                "client_id": client_id,
                "redirect_uri": redirect,
                "response_type": "code",
                "scope": "openid profile email",
                "state": "xyz",
            }
        )
        form = requests.post(
            f"{self.authorize_url}?{query}", data={"sub": sub}, allow_redirects=False, timeout=10
        )
        location = form.headers["Location"]
        code = parse_qs(urlparse(location).query)["code"][0]
        reply = requests.post(
            self.token_url,
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            auth=(client_id, secret),
            timeout=10,
        )
        reply.raise_for_status()
        return reply.json()


@contextlib.contextmanager
def oidc_provider(token_max_age: int = 3600, id_token_on_refresh: bool = False):
    """Start the provider on 127.0.0.1; id_tokens live ``token_max_age`` seconds.

    ``id_token_on_refresh``: also issue a new id_token when a refresh token is redeemed, as
    Okta, Keycloak and Entra ID do (see ``oidc_provider_renewing``).
    """
    port = free_port()
    module = (
        "jupyterlab_smallfry.tests.oidc_provider_renewing"
        if id_token_on_refresh
        else "oidc_provider_mock"
    )
    # The tests are not in the wheel: import them from this source tree.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SOURCE, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            module,
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
            "-e",
            str(token_max_age),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_for_url(f"{issuer}/.well-known/openid-configuration", proc)
        yield OidcProvider(issuer)
    finally:
        _stop(proc)
