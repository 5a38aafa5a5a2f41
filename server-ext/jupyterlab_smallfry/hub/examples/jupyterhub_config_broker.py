"""JupyterHub + Small Fry in 'broker' mode (recommended for production).

The 'smallfry-broker' Hub service holds the only AWS identity (its environment, an instance
role or IRSA). A user's server presents its Hub API token; the broker asks the Hub whose token
it is and calls STS AssumeRole with RoleSessionName and SourceIdentity = the Hub user and the
session tag jupyterhub_user=<user>. Refresh tokens and the IdP client secret never leave the
Hub, and IAM policies use ${aws:PrincipalTag/jupyterhub_user} (iam/permissions-home-prefix.json).

Also needed: an IAM role trusting the broker's principal with sts:TagSession and
sts:SetSourceIdentity (iam/trust-broker.json), and iam/broker-permissions.json on the broker.
"""

import os
import sys

c = get_config()  # noqa: F821 (provided by JupyterHub)

# --- Login with any OpenID Connect provider (Entra ID, Okta, Keycloak, ...) -----------------
c.JupyterHub.authenticator_class = "generic-oauth"
c.GenericOAuthenticator.client_id = os.environ["OIDC_CLIENT_ID"]
c.GenericOAuthenticator.client_secret = os.environ["OIDC_CLIENT_SECRET"]
c.GenericOAuthenticator.oauth_callback_url = os.environ["OAUTH_CALLBACK_URL"]
c.GenericOAuthenticator.authorize_url = os.environ["OIDC_AUTHORIZE_URL"]
c.GenericOAuthenticator.token_url = os.environ["OIDC_TOKEN_URL"]
c.GenericOAuthenticator.userdata_url = os.environ["OIDC_USERINFO_URL"]
c.GenericOAuthenticator.username_claim = os.environ.get("OIDC_USERNAME_CLAIM", "preferred_username")
c.GenericOAuthenticator.scope = ["openid", "profile", "email"]
c.GenericOAuthenticator.allow_all = True  # or allowed_groups / allowed_users
# The broker maps Hub groups to roles: take them from the IdP's groups claim.
c.GenericOAuthenticator.manage_groups = True
c.GenericOAuthenticator.auth_state_groups_key = "oauth_user.groups"
c.Authenticator.enable_auth_state = True  # needs JUPYTERHUB_CRYPT_KEY (manage_groups uses it)

# --- The broker service -----------------------------------------------------------------------
BROKER_PORT = int(os.environ.get("SMALLFRY_BROKER_PORT", "8765"))
BROKER_URL = f"http://127.0.0.1:{BROKER_PORT}/services/smallfry-broker/"
broker_args = [
    sys.executable,
    "-m",
    "jupyterlab_smallfry.hub.broker",
    f"--SmallFryBroker.role_arn={os.environ.get('SMALLFRY_ROLE_ARN', '')}",
    f"--SmallFryBroker.role_map={os.environ.get('SMALLFRY_ROLE_MAP', '{}')}",
    "--SmallFryBroker.session_duration=3600",
]
if os.environ.get("SMALLFRY_STS_ENDPOINT_URL"):
    broker_args.append(
        f"--SmallFryBroker.sts_endpoint_url={os.environ['SMALLFRY_STS_ENDPOINT_URL']}"
    )
c.JupyterHub.services = [
    {
        "name": "smallfry-broker",
        "url": f"http://127.0.0.1:{BROKER_PORT}",
        "command": broker_args,
        # The broker's own AWS identity: prefer an instance role / IRSA to keys here.
        "environment": {
            key: os.environ[key]
            for key in (
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_DEFAULT_REGION",
                "AWS_PROFILE",
                "AWS_ROLE_ARN",
                "AWS_WEB_IDENTITY_TOKEN_FILE",
            )
            if key in os.environ
        },
    }
]

# --- Who may call whom ------------------------------------------------------------------------
ACCESS_BROKER = "access:services!service=smallfry-broker"
c.JupyterHub.load_roles = [
    {"name": "user", "scopes": ["self", ACCESS_BROKER]},
    {"name": "server", "scopes": ["users:activity!user", "access:servers!server", ACCESS_BROKER]},
    # the broker reads users' group memberships to pick their role
    {"name": "smallfry-broker", "services": ["smallfry-broker"], "scopes": ["read:users:groups"]},
]

# --- Small Fry in the single-user servers ----------------------------------------------------
c.Spawner.default_url = "/lab"
c.Spawner.args = [
    "--SmallFry.credentials_mode=broker",
    f"--SmallFry.broker_url={BROKER_URL}",
]
# Never put AWS keys in the spawner environment (c.Spawner.environment / env_keep): they would
# override the per-user profile in kernels. JupyterHub's default env_keep has no AWS_* names.
