"""A ``refresh_user_hook`` for OAuthenticator that renews tokens *before the id_token expires*.

OAuthenticator's own ``refresh_user`` redeems the refresh token only when the IdP rejects the
access token; it never looks at the id_token's ``exp`` (oauthenticator#790), and with
``userdata_from_id_token`` an expired id_token even fails the refresh (oauthenticator#793).
An id_token usually lives shorter than the access token, so without this hook the Hub hands
out expired id_tokens and STS answers ``ExpiredTokenException``.

Use it in ``jupyterhub_config.py``::

    from jupyterlab_smallfry.hub.refresh import make_refresh_user_hook
    c.GenericOAuthenticator.refresh_user_hook = make_refresh_user_hook(margin=600)
    c.Authenticator.auth_refresh_age = 60   # how often the Hub may call it per user

Only the Hub ever redeems the refresh token; user servers just read the renewed id_token.

Only the identity provider refusing the refresh token logs a user out. When the provider is
unreachable, slow or answers 5xx/429, the session is kept unchanged and the Hub asks again
after ``auth_refresh_age``: an outage of the IdP must not log everybody out.
"""

from __future__ import annotations

import base64
import json
import time

from tornado import web
from tornado.httpclient import HTTPClientError

#: OAuth 2.0 token-endpoint errors (RFC 6749 5.2, RFC 6750 3.1) that mean "this refresh token
#: is no good any more": revoked, expired, session ended, or not this client's.
REFUSALS = frozenset({"invalid_grant", "invalid_token", "unauthorized_client"})


def refusal(err: Exception) -> str | None:
    """The OAuth error code if ``err`` is the provider refusing the refresh token, else None.

    OAuthenticator's ``get_token_info`` raises tornado's ``HTTPClientError`` for an HTTP error
    status (``code`` 599 and no response when the connection failed or timed out),
    ``tornado.web.HTTPError(403)`` when a 2xx answer carries an OAuth error (GitHub's way of
    refusing), and lets ``OSError`` (connection refused, reset) through unchanged.
    """
    if isinstance(err, HTTPClientError):
        if err.code not in (400, 401) or err.response is None:
            return None
        try:
            body = json.loads(err.response.body or b"")
        except ValueError:
            return None
        code = body.get("error") if isinstance(body, dict) else None
        return code if code in REFUSALS else None
    if isinstance(err, web.HTTPError) and err.status_code == 403:
        return "error"  # an OAuth error in a 2xx body; get_token_info keeps only its text
    return None


def _problem(err: Exception) -> str:
    """A short, secret-free description of a failed token request, for the Hub log."""
    if isinstance(err, HTTPClientError):
        if err.response is None:
            return f"{type(err).__name__}: {err.message}"  # no answer: timeout, connection
        return f"HTTP {err.code}"
    if isinstance(err, web.HTTPError):
        return f"HTTP {err.status_code}"
    return type(err).__name__


def id_token_expiry(auth_state: dict | None) -> float | None:
    """The ``exp`` of the stored id_token (unverified: it is our own stored token)."""
    token = (auth_state or {}).get("id_token")
    if not token:
        return None
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        exp = json.loads(base64.urlsafe_b64decode(payload)).get("exp")
    except (IndexError, ValueError, AttributeError):
        return None
    return float(exp) if isinstance(exp, (int, float)) else None


def make_refresh_user_hook(margin: float = 600):
    """A hook that redeems the refresh token when the id_token expires within ``margin`` s.

    Returns ``None`` (OAuthenticator's default refresh) while the id_token is fresh, the new
    auth model after a successful renewal, ``False`` (log in again) when the IdP refuses the
    refresh token, and ``True`` (auth state unchanged, try again later) when the IdP could not
    be asked: down, timing out, or answering 5xx or 429. Even with an id_token that has
    already expired, ``True`` is right then: the user's server reports ``ExpiredToken`` until
    the IdP is back, and nobody has to log in again because of the IdP's outage.
    """

    async def refresh_user_hook(authenticator, user, auth_state):
        expiry = id_token_expiry(auth_state)
        if expiry is None or expiry - time.time() > margin:
            return None
        refresh_token = (auth_state or {}).get("refresh_token")
        if not refresh_token:
            authenticator.log.info(
                "Small Fry: id_token of %s expires soon and there is no refresh token", user.name
            )
            return None if expiry > time.time() else False
        params = authenticator.build_refresh_token_request_params(refresh_token)
        try:
            token_info = await authenticator.get_token_info(None, params)
        except Exception as err:  # noqa: BLE001 - sorted into refusal / outage below
            refused = refusal(err)
            if refused:  # the IdP said no (revoked, session ended): log in again
                authenticator.log.info(
                    "Small Fry: the identity provider refused to renew the id_token of %s "
                    "(%s); login required",
                    user.name,
                    refused,
                )
                return False
            authenticator.log.warning(
                "Small Fry: could not renew the id_token of %s (%s); keeping the session and "
                "trying again after auth_refresh_age",
                user.name,
                _problem(err),
            )
            return True
        if not token_info.get("refresh_token"):
            token_info["refresh_token"] = refresh_token
        if not token_info.get("id_token"):
            # Some IdPs issue id_tokens only at login. Keep the old one so the user's server
            # can say "expired, log in again" instead of "no id_token".
            authenticator.log.warning(
                "Small Fry: the identity provider returned no id_token on refresh; %s will "
                "have to log in again when the current one expires",
                user.name,
            )
            token_info["id_token"] = auth_state.get("id_token")
        # The same path OAuthenticator's refresh_user takes after a refresh grant (17.x).
        auth_model = await authenticator._token_to_auth_model(token_info)
        authenticator.log.info("Small Fry: renewed the id_token of %s before it expired", user.name)
        return auth_model

    return refresh_user_hook


#: The hook with a 10-minute margin.
refresh_user_hook = make_refresh_user_hook()
