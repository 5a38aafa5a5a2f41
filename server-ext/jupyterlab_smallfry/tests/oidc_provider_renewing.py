"""``oidc-provider-mock`` that also issues a new id_token on the refresh-token grant.

Many production IdPs (Okta, Keycloak, Entra ID) send a fresh id_token when a refresh token is
redeemed; ``oidc-provider-mock`` sends one only at login. This entry point adds authlib's own
OpenID token hook to the mock's refresh grant, then runs the mock's command line unchanged,
so the refresh hook's renewal path is tested against a real provider process signing real
RS256 tokens. It patches one private class name of the mock (pinned in pyproject.toml).

    python -m jupyterlab_smallfry.tests.oidc_provider_renewing -H 127.0.0.1 -p 9400
"""

from __future__ import annotations

import datetime as dt
import runpy

import oidc_provider_mock._app as mock_app


class _RefreshGrantWithIdToken(mock_app.RefreshTokenGrant):
    def __init__(self, request, server):
        super().__init__(request, server)
        # The same hook the authorization-code grant uses: sign an id_token for the user
        # the refresh token belongs to, when the scope includes openid.
        age = flask_config_token_age()
        mock_app.OpenIDCode(require_nonce=False, token_max_age=age)(self)


def flask_config_token_age() -> dt.timedelta:
    import flask

    return flask.g.oidc_provider_mock_config.access_token_max_age


def main() -> None:
    mock_app.RefreshTokenGrant = _RefreshGrantWithIdToken
    runpy.run_module("oidc_provider_mock", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
