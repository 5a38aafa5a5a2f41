"""A stand-in for JupyterHub's identity provider in tests: each token is one named user.

Set ``SMALLFRY_TEST_USERS`` to a JSON map ``{"token": "username"}`` in the server's
environment and start it with
``--ServerApp.identity_provider_class=jupyterlab_smallfry.tests.jobs_identity.TokenPerUserIdentityProvider``.
The server's own token keeps working (as an anonymous user), so readiness checks still pass.
"""

from __future__ import annotations

import json
import os

from jupyter_server.auth.identity import IdentityProvider, User


class TokenPerUserIdentityProvider(IdentityProvider):
    def get_user(self, handler):
        users = json.loads(os.environ.get("SMALLFRY_TEST_USERS", "{}"))
        auth = handler.request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "token" and token in users:
            handler._token_authenticated = True
            return User(username=users[token], name=users[token])
        return super().get_user(handler)
