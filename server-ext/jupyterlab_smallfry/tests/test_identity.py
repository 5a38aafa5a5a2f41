"""Who owns the server and who makes a request: the one rule jobs and credentials share.

The handlers are stand-ins carrying what a Jupyter handler carries (its identity provider
and the user it authenticated); the providers are the real ones of jupyter_server and
JupyterHub, since the rule depends on which provider the server runs.
"""

from __future__ import annotations

import getpass
from types import SimpleNamespace

import pytest
from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider, User
from jupyterhub.singleuser.extension import JupyterHubIdentityProvider

from ..identity import is_server_owner, request_user, server_owner

HUB = {"JUPYTERHUB_USER": "alice"}


class NamedProvider(IdentityProvider):
    """An identity provider of the site's own (SSO proxy, LDAP) that names its users."""


def request(provider: IdentityProvider, username: str) -> SimpleNamespace:
    return SimpleNamespace(identity_provider=provider, current_user=User(username=username))


@pytest.mark.parametrize("provider", [IdentityProvider, PasswordIdentityProvider])
def test_single_user_token_or_password_login_is_the_servers_account(provider):
    anonymous = request(provider(), "anonymous-Io-4f0a")  # what jupyter_server makes up
    assert server_owner({}) == getpass.getuser()
    assert request_user(anonymous, {}) == getpass.getuser()
    assert is_server_owner(anonymous, {})


def test_under_jupyterhub_the_owner_is_jupyterhub_user_and_others_are_themselves():
    hub = JupyterHubIdentityProvider()
    assert server_owner(HUB) == "alice"
    assert request_user(request(hub, "alice"), HUB) == "alice"
    assert is_server_owner(request(hub, "alice"), HUB)
    # bob reaches alice's server through JupyterHub sharing: his jobs are his, her keys are not
    assert request_user(request(hub, "bob"), HUB) == "bob"
    assert not is_server_owner(request(hub, "bob"), HUB)


def test_server_token_under_jupyterhub_acts_for_jupyterhub_user():
    assert request_user(request(IdentityProvider(), "anonymous-Io-4f0a"), HUB) == "alice"


def test_a_named_identity_provider_names_the_user():
    named = NamedProvider()
    assert request_user(request(named, "carol"), {}) == "carol"
    # outside JupyterHub the server is one person's: whoever the provider lets in acts for it
    assert is_server_owner(request(named, "carol"), {})
    # under JupyterHub only the Hub user is the owner
    assert request_user(request(named, "carol"), HUB) == "carol"
    assert not is_server_owner(request(named, "carol"), HUB)


def test_a_request_that_names_nobody_is_not_the_owner():
    nobody = SimpleNamespace(identity_provider=NamedProvider(), current_user=None)
    assert request_user(nobody, {}) == ""
    assert not is_server_owner(nobody, {})
