"""Token identities for server tests: each API token names a Hub user, as under JupyterHub.

Lets a plain ``jupyter server`` tell its owner (``JUPYTERHUB_USER``) from another Hub user
who can reach it (JupyterHub sharing) without running a Hub. The real-Hub end-to-end test
checks the same refusal through JupyterHub's own identity provider.
"""

from __future__ import annotations

from jupyter_server.auth.identity import IdentityProvider, User
from traitlets import Dict


class NamedTokens(IdentityProvider):
    users = Dict(config=True, help="API token -> user name")

    async def get_user(self, handler):
        scheme, _, token = handler.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "token" and token in self.users:
            handler._token_authenticated = True
            return User(self.users[token])
        return await super().get_user(handler)
