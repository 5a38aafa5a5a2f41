"""Reading the owner's login tokens (auth_state) from the JupyterHub API.

``GET {JUPYTERHUB_API_URL}/users/{JUPYTERHUB_USER}`` with the server's own API token. The
Hub fills ``auth_state`` only on this endpoint (``/user`` always returns null) and only when
the token holds ``admin:auth_state!user``. Any authenticated Hub request also lets the Hub
run its ``refresh_user`` for the owner, so asking again is how this server gets a renewed
id_token: the extension never redeems a refresh token itself.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..identity import hub_user
from ..logs import log
from .cache import CredentialError


@dataclass
class HubEnv:
    """What JupyterHub tells a single-user server about itself, through its environment."""

    api_url: str = ""
    api_token: str = field(default="", repr=False)
    user: str = ""

    @classmethod
    def from_environ(cls, environ=os.environ) -> HubEnv:
        return cls(
            environ.get("JUPYTERHUB_API_URL", "").rstrip("/"),
            environ.get("JUPYTERHUB_API_TOKEN", "") or environ.get("JPY_API_TOKEN", ""),
            hub_user(environ),
        )

    @property
    def present(self) -> bool:
        return bool(self.api_url and self.api_token and self.user)


class HubClient:
    def __init__(self, env: HubEnv, http: AsyncHTTPClient | None = None):
        self.env = env
        self._http = http or AsyncHTTPClient()
        self.calls = 0

    async def auth_state(self) -> dict:
        """The owner's auth_state, or a ``CredentialError`` saying why it is not there."""
        if not self.env.present:
            raise CredentialError("not-under-hub")
        self.calls += 1
        url = f"{self.env.api_url}/users/{quote(self.env.user, safe='')}"
        request = HTTPRequest(
            url,
            headers={"Authorization": f"token {self.env.api_token}", "Accept": "application/json"},
            request_timeout=20,
        )
        try:
            response = await self._http.fetch(request)
        except HTTPClientError as err:
            log.warning("Small Fry: Hub API answered HTTP %s for the owner's model", err.code)
            if err.code == 401 or (err.code == 403 and _token_unknown(err)):
                raise CredentialError("hub-refused") from None
            if err.code in (403, 404):
                # The Hub hides users a token may not read as 404; both mean "no scope".
                raise CredentialError("missing-scope") from None
            raise CredentialError("hub-unreachable") from None
        except OSError as err:
            log.warning("Small Fry: Hub API unreachable (%s)", type(err).__name__)
            raise CredentialError("hub-unreachable") from None
        model = json.loads(response.body)
        if "auth_state" not in model:
            raise CredentialError("missing-scope")
        if not model["auth_state"]:
            raise CredentialError("no-auth-state")
        return model["auth_state"]


#: What JupyterHub (2 and later) answers, with HTTP 403, when it does not know the token at
#: all (revoked, expired, or from before the Hub's database was reset). A token it knows but
#: that lacks a scope gets "requires any of [...]" or a 404 instead.
_UNKNOWN_TOKEN = "Missing or invalid credentials"


def _token_unknown(err: HTTPClientError) -> bool:
    """Whether a Hub 403 means "who are you?" rather than "you may not"."""
    body = err.response.body if err.response is not None else b""
    try:
        message = json.loads(body or b"{}").get("message", "")
    except (ValueError, AttributeError):
        return False
    return isinstance(message, str) and message.startswith(_UNKNOWN_TOKEN)


def jwt_claims(token: str) -> dict:
    """The claims of a JWT, *unverified*: only to read ``exp``, ``iss``, ``aud`` and groups.

    STS verifies the token; this server only needs to know when it expires and what to show
    when STS rejects it.
    """
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
        return claims if isinstance(claims, dict) else {}
    except (IndexError, ValueError):
        return {}


def groups_of(auth_state: dict, claims: dict) -> list[str]:
    """Group names from the id_token's ``groups`` claim, else from the stored user info."""
    groups = claims.get("groups")
    if groups is None:
        for value in auth_state.values():
            if isinstance(value, dict) and "groups" in value:
                groups = value["groups"]
                break
    if isinstance(groups, str):
        groups = [groups]
    return [str(g) for g in groups or []]
