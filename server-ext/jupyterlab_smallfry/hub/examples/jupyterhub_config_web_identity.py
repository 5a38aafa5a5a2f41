"""JupyterHub + Small Fry in 'web-identity' mode: each user's server exchanges the user's own
OIDC id_token (from the Hub's encrypted auth_state) for AWS keys with AssumeRoleWithWebIdentity.

Simple to deploy (no AWS identity on the Hub), but the user's server can read the user's whole
auth_state, refresh token included: prefer the broker mode in production.

Fill in the values read from the environment below (or write them in). Also needed:
  export JUPYTERHUB_CRYPT_KEY=$(openssl rand -hex 32)   # encrypts auth_state
and in IAM: an OIDC identity provider for OIDC_ISSUER with OIDC_CLIENT_ID as audience, and a
role trusting it (iam/trust-web-identity.json, iam/permissions-home-prefix.json).
"""

import os

from jupyterlab_smallfry.hub.refresh import make_refresh_user_hook

c = get_config()  # noqa: F821 (provided by JupyterHub)

# --- Login with any OpenID Connect provider (Entra ID, Okta, Keycloak, ...) -----------------
c.JupyterHub.authenticator_class = "generic-oauth"
c.GenericOAuthenticator.client_id = os.environ["OIDC_CLIENT_ID"]
c.GenericOAuthenticator.client_secret = os.environ["OIDC_CLIENT_SECRET"]
c.GenericOAuthenticator.oauth_callback_url = os.environ[
    "OAUTH_CALLBACK_URL"
]  # https://hub/hub/oauth_callback
c.GenericOAuthenticator.authorize_url = os.environ["OIDC_AUTHORIZE_URL"]
c.GenericOAuthenticator.token_url = os.environ["OIDC_TOKEN_URL"]
c.GenericOAuthenticator.userdata_url = os.environ["OIDC_USERINFO_URL"]
c.GenericOAuthenticator.username_claim = os.environ.get("OIDC_USERNAME_CLAIM", "preferred_username")
# 'openid' gives the id_token STS needs; 'offline_access' a refresh token (some IdPs, e.g.
# node oidc-provider, also need prompt=consent for it).
c.GenericOAuthenticator.scope = ["openid", "profile", "email", "offline_access"]
c.GenericOAuthenticator.allow_all = True  # or allowed_groups / allowed_users
# Hub groups from the token's groups claim (used by role_map and by allowed_groups).
c.GenericOAuthenticator.manage_groups = True
c.GenericOAuthenticator.auth_state_groups_key = "oauth_user.groups"

# --- Keep tokens, and renew them before the id_token expires --------------------------------
c.Authenticator.enable_auth_state = True  # needs JUPYTERHUB_CRYPT_KEY
c.Authenticator.auth_refresh_age = 60  # the Hub may renew a user's tokens once a minute
c.Authenticator.refresh_pre_spawn = True
c.GenericOAuthenticator.refresh_user_hook = make_refresh_user_hook(margin=600)

# --- Let each user's server read its owner's auth_state (and nobody else's) -----------------
c.JupyterHub.load_roles = [
    {"name": "user", "scopes": ["self", "admin:auth_state!user"]},
    {
        "name": "server",
        "scopes": ["users:activity!user", "access:servers!server", "admin:auth_state!user"],
    },
]

# --- Small Fry in the single-user servers ----------------------------------------------------
c.Spawner.default_url = "/lab"
c.Spawner.args = [
    "--SmallFry.credentials_mode=web-identity",
    # a default role, and/or group -> role (users in several mapped groups can switch):
    f"--SmallFry.role_arn={os.environ.get('SMALLFRY_ROLE_ARN', '')}",
    f"--SmallFry.role_map={os.environ.get('SMALLFRY_ROLE_MAP', '{}')}",
    "--SmallFry.session_duration=3600",
]
# Never put AWS keys in the spawner environment: they would override the per-user profile.
