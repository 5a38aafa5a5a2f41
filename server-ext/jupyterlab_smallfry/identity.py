"""Who owns this Jupyter server and who makes a request: the one rule jobs and credentials share.

- Under JupyterHub the server belongs to ``JUPYTERHUB_USER``, and JupyterHub's identity provider
  names whoever makes a request: the owner, or another Hub user the server is shared with.
- A single-user server's token or password login names nobody (each request gets a random
  anonymous user), so whoever holds it is the server's owner: the Unix account that runs it.
- Any other identity provider names its users, and that name is who makes the request.

Jobs are owned by the user making the request. Credentials are shown only to the server's
owner under JupyterHub; outside it the server is one person's, and everyone its identity
provider lets in acts for it (they reach its S3 gateway and its kernels too).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping

from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider

#: The identity providers of a plain single-user server, whose users carry no real name.
_NAMELESS_PROVIDERS = (IdentityProvider, PasswordIdentityProvider)


def hub_user(environ: Mapping[str, str] | None = None) -> str:
    """The Hub user this server was spawned for; empty outside JupyterHub."""
    return (os.environ if environ is None else environ).get("JUPYTERHUB_USER", "")


def server_owner(environ: Mapping[str, str] | None = None) -> str:
    """The server's owner: its Hub user, else the Unix account running it."""
    return hub_user(environ) or getpass.getuser()


def request_user(handler, environ: Mapping[str, str] | None = None) -> str:
    """The user name a Jupyter request is made by (empty if it names nobody).

    ``handler`` is an authenticated Jupyter server handler. Token or password login of a
    single-user server counts as the server's owner; any other identity provider's user name
    counts as given.
    """
    if type(handler.identity_provider) in _NAMELESS_PROVIDERS:
        return server_owner(environ)
    user = handler.current_user
    return getattr(user, "username", None) or getattr(user, "name", None) or ""


def is_server_owner(handler, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the request may act as the server's owner (see its AWS credentials)."""
    name = request_user(handler, environ)
    if not name:
        return False
    owner = hub_user(environ)
    return not owner or name == owner
