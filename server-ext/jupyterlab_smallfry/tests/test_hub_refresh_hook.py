"""The refresh_user_hook with OAuthenticator's real GenericOAuthenticator and a real IdP."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from oauthenticator.generic import GenericOAuthenticator

from ..hub.refresh import id_token_expiry, make_refresh_user_hook
from .oidc_provider import oidc_provider


class HubUser:
    name = "alice"


@pytest.fixture(scope="module")
def idp():
    with oidc_provider(token_max_age=3600) as idp:
        idp.set_user("alice", preferred_username="alice", groups=["team-alice"])
        yield idp


@pytest.fixture
def authenticator(idp):
    return GenericOAuthenticator(
        client_id="hub-client",
        client_secret="hub-secret",
        token_url=idp.token_url,
        userdata_url=idp.userinfo_url,
        username_claim="sub",
        enable_auth_state=True,
        basic_auth=True,  # this IdP's refresh grant accepts client_secret_basic only
    )


def auth_state_for(idp) -> dict:
    tokens = idp.tokens_for("alice", client_id="hub-client", secret="hub-secret")
    return {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "id_token": tokens["id_token"],
        "token_response": tokens,
    }


async def test_fresh_id_token_leaves_oauthenticator_default_refresh(idp, authenticator):
    state = auth_state_for(idp)
    assert id_token_expiry(state) > 0
    assert await make_refresh_user_hook(margin=600)(authenticator, HubUser, state) is None


async def test_id_token_close_to_expiry_is_renewed_with_the_refresh_token(idp, authenticator):
    state = auth_state_for(idp)
    # margin longer than the token's life: "expires soon" without waiting an hour
    model = await make_refresh_user_hook(margin=7200)(authenticator, HubUser, state)
    assert model["name"] == "alice"
    renewed = model["auth_state"]
    assert renewed["access_token"] != state["access_token"]  # the refresh grant really ran
    assert renewed["refresh_token"] == state["refresh_token"]  # kept when the IdP sends none
    # this IdP issues id_tokens only at login: the old one is kept, never dropped
    assert renewed["id_token"] == state["id_token"]
    userinfo = requests.get(
        idp.userinfo_url, headers={"Authorization": f"Bearer {renewed['access_token']}"}, timeout=10
    )
    assert userinfo.status_code == 200 and userinfo.json()["sub"] == "alice"


async def test_refused_refresh_means_log_in_again(idp, authenticator):
    state = auth_state_for(idp)
    requests.post(f"{idp.issuer}/users/alice/revoke-tokens", timeout=10).raise_for_status()
    assert await make_refresh_user_hook(margin=7200)(authenticator, HubUser, state) is False


async def test_a_new_id_token_from_the_idp_replaces_the_old_one():
    # An IdP that sends a fresh id_token with the refresh grant (Okta, Keycloak, Entra ID).
    with oidc_provider(token_max_age=120, id_token_on_refresh=True) as renewing:
        renewing.set_user("alice", preferred_username="alice", groups=["team-alice"])
        authenticator = GenericOAuthenticator(
            client_id="hub-client",
            client_secret="hub-secret",
            token_url=renewing.token_url,
            userdata_url=renewing.userinfo_url,
            username_claim="sub",
            enable_auth_state=True,
            basic_auth=True,
        )
        state = auth_state_for(renewing)
        old_claims = jwt.decode(state["id_token"], options={"verify_signature": False})
        time.sleep(1.1)  # so the new token's iat/exp are visibly later
        model = await make_refresh_user_hook(margin=600)(authenticator, HubUser, state)
        renewed = model["auth_state"]["id_token"]
        assert renewed != state["id_token"]
        [key] = jwt.PyJWKSet.from_dict(
            requests.get(f"{renewing.issuer}/jwks", timeout=10).json()
        ).keys  # the provider signs with one key and names no kid
        claims = jwt.decode(
            renewed,
            key.key,
            algorithms=["RS256"],
            audience="hub-client",
        )
        assert claims["sub"] == "alice" and claims["iss"] == renewing.issuer
        assert claims["exp"] > old_claims["exp"]
        assert id_token_expiry(model["auth_state"]) == claims["exp"]
