"""The refresh_user_hook with OAuthenticator's real GenericOAuthenticator and a real IdP."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest
import requests
from oauthenticator.generic import GenericOAuthenticator

from ..hub.refresh import id_token_expiry, make_refresh_user_hook
from .oidc_provider import oidc_provider
from .oidc_provider_broken import broken_token_endpoint


class HubUser:
    name = "alice"


@pytest.fixture(scope="module")
def idp():
    with oidc_provider(token_max_age=3600) as idp:
        idp.set_user("alice", preferred_username="alice", groups=["team-alice"])
        yield idp


def authenticator_for(token_url: str, userinfo_url: str, **kwargs) -> GenericOAuthenticator:
    return GenericOAuthenticator(
        client_id="hub-client",
        client_secret="hub-secret",
        token_url=token_url,
        userdata_url=userinfo_url,
        username_claim="sub",
        enable_auth_state=True,
        basic_auth=True,  # this IdP's refresh grant accepts client_secret_basic only
        **kwargs,
    )


@pytest.fixture
def authenticator(idp):
    return authenticator_for(idp.token_url, idp.userinfo_url)


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
    userinfo = await asyncio.to_thread(
        requests.get,
        idp.userinfo_url,
        headers={"Authorization": f"Bearer {renewed['access_token']}"},
        timeout=10,
    )
    assert userinfo.status_code == 200 and userinfo.json()["sub"] == "alice"


async def test_refused_refresh_means_log_in_again(idp, authenticator):
    state = auth_state_for(idp)
    revoke = f"{idp.issuer}/users/alice/revoke-tokens"
    (await asyncio.to_thread(requests.post, revoke, timeout=10)).raise_for_status()
    assert await make_refresh_user_hook(margin=7200)(authenticator, HubUser, state) is False


async def test_an_unknown_refresh_token_means_log_in_again(idp, authenticator):
    state = {**auth_state_for(idp), "refresh_token": "not-a-token-this-provider-issued"}
    assert await make_refresh_user_hook(margin=7200)(authenticator, HubUser, state) is False


async def test_a_provider_that_is_down_keeps_the_session(caplog):
    with oidc_provider(token_max_age=3600) as stopped:
        stopped.set_user("alice", preferred_username="alice")
        state = auth_state_for(stopped)
        authenticator = authenticator_for(stopped.token_url, stopped.userinfo_url)
    # The provider process has exited: the token endpoint refuses connections.
    result = await make_refresh_user_hook(margin=7200)(authenticator, HubUser, state)
    assert result is True  # auth state unchanged; the Hub asks again after auth_refresh_age
    assert "keeping the session" in caplog.text


@pytest.mark.parametrize("status", [503, 502, 500, 429])
async def test_a_provider_answering_an_error_status_keeps_the_session(idp, status, caplog):
    state = auth_state_for(idp)
    with broken_token_endpoint(status=status) as token_url:
        authenticator = authenticator_for(token_url, idp.userinfo_url)
        result = await make_refresh_user_hook(margin=7200)(authenticator, HubUser, state)
    assert result is True
    assert f"HTTP {status}" in caplog.text


async def test_a_provider_that_never_answers_keeps_the_session(idp):
    state = auth_state_for(idp)
    with broken_token_endpoint(hang=True) as token_url:
        authenticator = authenticator_for(
            token_url, idp.userinfo_url, http_request_kwargs={"request_timeout": 1}
        )
        started = time.monotonic()
        result = await make_refresh_user_hook(margin=7200)(authenticator, HubUser, state)
    assert result is True and time.monotonic() - started < 10


async def test_an_expired_id_token_is_kept_while_the_provider_is_down(idp):
    # The id_token has already expired: the user's server reports ExpiredToken until the
    # provider is back, but nobody is logged out for the provider's outage.
    state = auth_state_for(idp)
    with broken_token_endpoint(status=503) as token_url:
        authenticator = authenticator_for(token_url, idp.userinfo_url)
        hook = make_refresh_user_hook(margin=7200)
        expired = {**state, "id_token": _with_exp(state["id_token"], time.time() - 60)}
        assert await hook(authenticator, HubUser, expired) is True


def _with_exp(token: str, exp: float) -> str:
    """The same (unsigned) token with another ``exp``: the hook reads it unverified."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode({**claims, "exp": int(exp)}, key="", algorithm="none")


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
        await asyncio.sleep(1.1)  # so the new token's iat/exp are visibly later
        model = await make_refresh_user_hook(margin=600)(authenticator, HubUser, state)
        renewed = model["auth_state"]["id_token"]
        assert renewed != state["id_token"]
        jwks = await asyncio.to_thread(requests.get, f"{renewing.issuer}/jwks", timeout=10)
        # the provider signs with one key and names no kid
        [key] = jwt.PyJWKSet.from_dict(jwks.json()).keys
        claims = jwt.decode(
            renewed,
            key.key,
            algorithms=["RS256"],
            audience="hub-client",
        )
        assert claims["sub"] == "alice" and claims["iss"] == renewing.issuer
        assert claims["exp"] > old_claims["exp"]
        assert id_token_expiry(model["auth_state"]) == claims["exp"]
