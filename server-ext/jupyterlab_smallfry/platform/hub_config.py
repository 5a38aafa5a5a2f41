"""JupyterHub configuration for the one-machine Small Fry team platform.

Load it with ``jupyterhub -f <this file>`` (``CONFIG_FILE``), as root: the Hub creates a Unix
account for every user the identity provider signs in, and starts each user's server *as that
account*, so one user's kernel secret and managed AWS profile (``0700`` runtime folder, ``0600``
files) cannot be read by another user.

Settings come from a JSON file named by the environment variable ``SMALLFRY_HUB_SETTINGS``
(keep it ``0600`` when it holds the client secret). Keys (``*`` = required)::

    {
      "public_url": "https://notebooks.example.com",   * where users open the Hub (proxy binds it)
      "data_dir": "/var/lib/smallfry/hub",             * Hub database and cookie secret (made 0700)
      "hub_bind_url": "http://127.0.0.1:8081",           the Hub's own address (default shown)
      "proxy_api_url": "http://127.0.0.1:8001",          configurable-http-proxy's API (default)
      "proxy_command": ["configurable-http-proxy"],      how to start the proxy
      "oidc": {
        "client_id": "...",                            *
        "client_secret": "...",                          or env SMALLFRY_OIDC_CLIENT_SECRET
        "well_known_url": "https://idp/.well-known/openid-configuration",
        "authorize_url": "...", "token_url": "...", "userinfo_url": "...",
                                                       * the well-known URL, or all three
        "userdata_from_id_token": false,                 true: claims from the id_token, not
                                                         the userinfo endpoint (Entra ID)
        "callback_url": "<public_url>/hub/oauth_callback",
        "username_claim": "preferred_username",          the claim that becomes the Unix name
        "username_domain": "",                           e.g. "example.com": the claim must be
                                                         <name>@example.com; <name> is used
        "groups_claim": "groups",                        Hub groups follow this claim
        "admin_groups": ["platform-admins"],             members are Hub admins
        "allowed_groups": [],                            empty: anyone the IdP signs in
        "scope": ["openid", "profile", "email"]
      },
      "users": {"home_base": "/home", "shell": "/bin/bash", "min_uid": 1000,
                "max_uid": 59999},                 accounts outside are never used
      "user_env_bin": "/opt/smallfry/user-envs/env-<hash>/bin",
                                                       * platform.user_env.ensure_user_env()
      "service": {                                     * the Small Fry Hub service
        "url": "http://127.0.0.1:8765",                *
        "command": ["python3", "-m", "jupyterlab_smallfry.hub.service"],
        "environment": {"AWS_ROLE_ARN": "..."},          the service's own AWS identity etc.
        "scopes": ["read:users:groups"]
      },
      "smallfry": {"s3_endpoint_url": "", "sts_endpoint_url": "", "region": "",
                   "args": ["--SmallFry.roots=['corp-notebooks']"]},
      "spawner_environment": {},                         more variables for users' servers
      "start_timeout": 120
    }

Also needed in the Hub's environment: ``JUPYTERHUB_CRYPT_KEY`` (``openssl rand -hex 32``),
which encrypts auth_state. Identity providers: see ``idp_examples.md`` beside this file.

Importing this module does nothing; ``configure(c, settings)`` applies a settings dict to a
JupyterHub config object, and ``load_settings()`` reads the JSON file.
"""

from __future__ import annotations

import json
import os
import pwd
import stat
import urllib.request
from pathlib import Path

from oauthenticator.generic import LocalGenericOAuthenticator

CONFIG_FILE = Path(__file__).resolve()
SETTINGS_ENV = "SMALLFRY_HUB_SETTINGS"
SECRET_ENV = "SMALLFRY_OIDC_CLIENT_SECRET"
SERVICE_NAME = "smallfry"
ACCESS_SERVICE = f"access:services!service={SERVICE_NAME}"

_KNOWN = {
    "": {
        "public_url",
        "data_dir",
        "hub_bind_url",
        "proxy_api_url",
        "proxy_command",
        "oidc",
        "users",
        "user_env_bin",
        "service",
        "smallfry",
        "spawner_environment",
        "start_timeout",
    },
    "oidc": {
        "client_id",
        "client_secret",
        "well_known_url",
        "authorize_url",
        "token_url",
        "userinfo_url",
        "userdata_from_id_token",
        "callback_url",
        "username_claim",
        "username_domain",
        "groups_claim",
        "admin_groups",
        "allowed_groups",
        "scope",
    },
    "users": {"home_base", "shell", "min_uid", "max_uid"},
    "service": {"url", "command", "environment", "scopes"},
    "smallfry": {"s3_endpoint_url", "sts_endpoint_url", "region", "args"},
}

#: Variables that would give users' servers (and so every kernel) one shared AWS identity,
#: or override the per-user managed profile. Users' servers get their keys from the service.
_FORBIDDEN_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)

#: A Unix user name: lower case, starts with a letter, at most 32 characters.
USERNAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


class SettingsError(ValueError):
    """The platform settings are incomplete or unsafe; the message says which key."""


class PlatformAuthenticator(LocalGenericOAuthenticator):
    """LocalGenericOAuthenticator whose ``allowed_groups`` are the IdP's groups only.

    LocalAuthenticator reads ``allowed_groups`` as *Unix* groups and looks the account up
    before it exists (so a first login would fail). On this platform the IdP's groups claim
    decides, through oauthenticator's ``manage_groups`` check.
    """

    def check_allowed_groups(self, username, authentication=None):
        return False


def load_settings(path: str | os.PathLike | None = None) -> dict:
    """The settings dict from ``path`` or the file named by ``$SMALLFRY_HUB_SETTINGS``."""
    path = path or os.environ.get(SETTINGS_ENV)
    if not path:
        raise SettingsError(f"set {SETTINGS_ENV} to the platform settings JSON file")
    settings = json.loads(Path(path).read_text())
    secret = (settings.get("oidc") or {}).get("client_secret")
    if secret and stat.S_IMODE(os.stat(path).st_mode) & 0o077:
        raise SettingsError(f"{path} holds the OIDC client secret: make it readable by root only")
    return settings


def configure(c, settings: dict) -> None:
    """Apply ``settings`` (see the module docstring) to the JupyterHub config ``c``."""
    _check_keys(settings)
    public_url = _required(settings, "public_url").rstrip("/")
    oidc = settings.get("oidc") or {}
    users = settings.get("users") or {}
    service = settings.get("service") or {}
    smallfry = settings.get("smallfry") or {}
    uids = range(int(users.get("min_uid", 1000)), int(users.get("max_uid", 59999)) + 1)

    # --- The Hub and its proxy -----------------------------------------------------------------
    data_dir = Path(_required(settings, "data_dir"))
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    c.JupyterHub.bind_url = public_url
    c.JupyterHub.hub_bind_url = settings.get("hub_bind_url", "http://127.0.0.1:8081")
    c.JupyterHub.db_url = f"sqlite:///{data_dir}/jupyterhub.sqlite"
    c.JupyterHub.cookie_secret_file = str(data_dir / "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.api_url = settings.get("proxy_api_url", "http://127.0.0.1:8001")
    if settings.get("proxy_command"):
        c.ConfigurableHTTPProxy.command = list(settings["proxy_command"])

    # --- Login with the organisation's OpenID Connect provider -------------------------------
    endpoints = _oidc_endpoints(oidc)
    c.JupyterHub.authenticator_class = PlatformAuthenticator
    c.GenericOAuthenticator.client_id = _required(oidc, "client_id", "oidc.")
    c.GenericOAuthenticator.client_secret = oidc.get("client_secret") or os.environ.get(
        SECRET_ENV, ""
    )
    if not c.GenericOAuthenticator.client_secret:
        raise SettingsError(f"oidc.client_secret (or {SECRET_ENV}) is required")
    c.GenericOAuthenticator.oauth_callback_url = oidc.get(
        "callback_url", f"{public_url}/hub/oauth_callback"
    )
    c.GenericOAuthenticator.authorize_url = endpoints["authorize_url"]
    c.GenericOAuthenticator.token_url = endpoints["token_url"]
    if oidc.get("userdata_from_id_token"):
        # Entra ID's userinfo endpoint has neither groups nor preferred_username.
        c.GenericOAuthenticator.userdata_from_id_token = True
    else:
        c.GenericOAuthenticator.userdata_url = endpoints["userinfo_url"]
    c.GenericOAuthenticator.scope = list(oidc.get("scope", ["openid", "profile", "email"]))
    c.GenericOAuthenticator.username_claim = _username_claim(
        oidc.get("username_claim", "preferred_username"), oidc.get("username_domain", "")
    )
    # Hub groups follow the IdP's groups claim; the service maps them to AWS roles.
    c.GenericOAuthenticator.manage_groups = True
    c.GenericOAuthenticator.auth_state_groups_key = (
        f"oauth_user.{oidc.get('groups_claim', 'groups')}"
    )
    c.GenericOAuthenticator.admin_groups = set(oidc.get("admin_groups", []))
    if oidc.get("allowed_groups"):
        c.GenericOAuthenticator.allowed_groups = set(oidc["allowed_groups"])
    else:
        c.GenericOAuthenticator.allow_all = True
    c.Authenticator.enable_auth_state = True
    if not os.environ.get("JUPYTERHUB_CRYPT_KEY"):
        raise SettingsError("set JUPYTERHUB_CRYPT_KEY (openssl rand -hex 32) for auth_state")

    # --- One Unix account per user -------------------------------------------------------------
    # IdP names become Unix names one to one: only plain names, and never a system account.
    c.Authenticator.username_pattern = USERNAME_PATTERN
    c.Authenticator.blocked_users = {p.pw_name for p in pwd.getpwall() if p.pw_uid not in uids}
    c.LocalAuthenticator.create_system_users = True
    c.LocalAuthenticator.add_user_cmd = [
        "useradd",
        "--create-home",
        "--base-dir", users.get("home_base", "/home"),
        "--key", "HOME_MODE=0700",  # homes private whatever /etc/login.defs says
        "--user-group",
        "--shell", users.get("shell", "/bin/bash"),  # JupyterLab terminals start this shell
        "--comment", "Small Fry user",
    ]  # fmt: skip
    # (no password is set: the account is locked for password logins)

    # --- Users' servers, each as its own account ---------------------------------------------
    bin_dir = Path(_required(settings, "user_env_bin"))
    service_url = _required(service, "url", "service.").rstrip("/")
    service_endpoint = f"{service_url}/services/{SERVICE_NAME}/"
    c.JupyterHub.spawner_class = "localprocess"
    c.Spawner.cmd = [str(bin_dir / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.start_timeout = int(settings.get("start_timeout", 120))
    c.Spawner.http_timeout = int(settings.get("start_timeout", 120))
    args = [
        "--SmallFry.credentials_mode=broker",
        f"--SmallFry.broker_url={service_endpoint}",
        f"--SmallFry.jobs_service_url={service_endpoint}",
    ]
    if smallfry.get("s3_endpoint_url"):
        args.append(f"--SmallFry.endpoint_url={smallfry['s3_endpoint_url']}")
    if smallfry.get("sts_endpoint_url"):
        args.append(f"--SmallFry.sts_endpoint_url={smallfry['sts_endpoint_url']}")
    if smallfry.get("region"):
        args.append(f"--SmallFry.region={smallfry['region']}")
    c.Spawner.args = args + list(smallfry.get("args", []))
    c.Spawner.env_keep = ["LANG", "LC_ALL", "TZ"]  # not the Hub's PATH or PYTHONPATH
    c.Spawner.environment = _user_environment(bin_dir, smallfry, settings)
    c.Spawner.pre_spawn_hook = _refuse_system_accounts(uids)

    # --- The Small Fry Hub service -------------------------------------------------------------
    command = _required(service, "command", "service.")
    c.JupyterHub.services = [
        {
            "name": SERVICE_NAME,
            "url": service_url,
            "command": list(command),
            "environment": dict(service.get("environment", {})),
            "display": False,
        }
    ]
    c.JupyterHub.load_roles = [
        {"name": "user", "scopes": ["self", ACCESS_SERVICE]},
        {
            "name": "server",
            "scopes": ["users:activity!user", "access:servers!server", ACCESS_SERVICE],
        },
        {
            "name": f"{SERVICE_NAME}-service",
            "services": [SERVICE_NAME],
            "scopes": list(service.get("scopes", ["read:users:groups"])),
        },
    ]


def _check_keys(settings: dict) -> None:
    for section, known in _KNOWN.items():
        values = settings if not section else settings.get(section) or {}
        unknown = set(values) - known
        if unknown:
            where = f"{section}." if section else ""
            raise SettingsError(
                f"unknown settings: {', '.join(where + k for k in sorted(unknown))}"
            )


def _required(values: dict, key: str, prefix: str = ""):
    if not values.get(key):
        raise SettingsError(f"{prefix}{key} is required")
    return values[key]


def _oidc_endpoints(oidc: dict) -> dict:
    keys = ("authorize_url", "token_url", "userinfo_url")
    if oidc.get("userdata_from_id_token"):
        keys = keys[:2]
    if all(oidc.get(k) for k in keys):
        return {k: oidc[k] for k in keys}
    if not oidc.get("well_known_url"):
        raise SettingsError(
            "oidc.well_known_url, or oidc.authorize_url, token_url and userinfo_url, is required"
        )
    with urllib.request.urlopen(oidc["well_known_url"], timeout=15) as reply:
        document = json.load(reply)
    found = {
        "authorize_url": document.get("authorization_endpoint"),
        "token_url": document.get("token_endpoint"),
        "userinfo_url": document.get("userinfo_endpoint"),
    }
    return {k: oidc.get(k) or found[k] for k in keys}


def _username_claim(claim: str, domain: str):
    if not domain:
        return claim
    suffix = "@" + domain.lower()

    def local_part(user_info: dict) -> str | None:
        # Only this domain: alice@other.example must not become the same account as alice.
        value = str(user_info.get(claim) or "").lower()
        return value[: -len(suffix)] if value.endswith(suffix) else None

    return local_part


def _user_environment(bin_dir: Path, smallfry: dict, settings: dict) -> dict:
    extra = dict(settings.get("spawner_environment", {}))
    refused = sorted(k for k in extra if k.upper() in _FORBIDDEN_ENV)
    if refused:
        raise SettingsError(
            f"spawner_environment must not set {', '.join(refused)}: users' servers get AWS "
            "credentials per user from the Small Fry service"
        )
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        # Never fall back to the machine's instance role when the managed profile fails.
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if smallfry.get("region"):
        env["AWS_DEFAULT_REGION"] = smallfry["region"]
    if smallfry.get("sts_endpoint_url"):
        env["AWS_ENDPOINT_URL_STS"] = smallfry["sts_endpoint_url"]  # kernels' STS clients too
    return {**env, **extra}


def _refuse_system_accounts(uids: range):
    def refuse(spawner) -> None:
        uid = pwd.getpwnam(spawner.user.name).pw_uid
        if uid not in uids:
            raise PermissionError(
                f"{spawner.user.name} is a system account (uid {uid}); Small Fry starts "
                f"servers only for accounts with uids {uids.start}-{uids.stop - 1}"
            )

    return refuse


if "get_config" in globals():  # loaded by JupyterHub with -f
    configure(get_config(), load_settings())  # noqa: F821
