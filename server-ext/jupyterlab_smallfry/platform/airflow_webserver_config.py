"""Airflow's ``webserver_config.py`` for the Small Fry team platform: single sign-on and
per-user DAG access with the FAB auth manager.

``airflow_stack`` copies this file unchanged into ``$AIRFLOW_HOME/webserver_config.py``; the API
server reads it once at start (so do FAB's CLI commands). It runs inside Airflow's virtual
environment, never in Jupyter. Every deployment-specific value comes from the environment:

- ``SMALLFRY_AIRFLOW_OIDC_METADATA_URL``: the IdP's ``/.well-known/openid-configuration``;
- ``SMALLFRY_AIRFLOW_OIDC_CLIENT_ID`` / ``SMALLFRY_AIRFLOW_OIDC_CLIENT_SECRET``: the OAuth client
  registered for Airflow (redirect URI ``<airflow>/auth/oauth-authorized/<provider name>``);
- ``SMALLFRY_AIRFLOW_OIDC_NAME``: the provider name in those URLs (default ``sso``);
- ``SMALLFRY_AIRFLOW_ADMIN_GROUP``: members of this ``groups`` claim value become Airflow Admins.

Who gets what:

- everyone who logs in is registered on first login and gets, at every login, the base role
  ``SmallFryUser`` (the built-in "User" role minus the global DAG read/edit/delete, so a user
  sees no DAG unless a DAG grants it) and their own owner role ``smallfry-user-<name>``
  (created when missing), which every Small Fry DAG of theirs names in its ``access_control``;
- the admin group additionally gets ``Admin``;
- the Hub service's machine account (role ``SmallFryService``) can never be taken over by an
  SSO login of the same name: it only logs in with its password at ``POST /auth/token``.

Roles are recomputed at each login (``AUTH_ROLES_SYNC_AT_LOGIN``), so roles handed out by hand in
the UI to an SSO user are replaced at their next login; grant access through IdP groups.
"""

from __future__ import annotations

import logging
import os
from typing import ClassVar

from airflow.providers.fab.auth_manager.security_manager.override import (
    FabAirflowSecurityManagerOverride,
)
from airflow.providers.fab.www.security import permissions
from flask_appbuilder.const import AUTH_OAUTH

from jupyterlab_smallfry.airflow.naming import owner_role

log = logging.getLogger("smallfry.airflow")

#: The base role of every SSO user.
BASE_ROLE = "SmallFryUser"
#: The role of the Hub service's machine account: trigger any DAG, create owner roles.
SERVICE_ROLE = "SmallFryService"

_GLOBAL_DAG_RIGHTS = {
    (permissions.ACTION_CAN_READ, permissions.RESOURCE_DAG),
    (permissions.ACTION_CAN_EDIT, permissions.RESOURCE_DAG),
    (permissions.ACTION_CAN_DELETE, permissions.RESOURCE_DAG),
}
_USER_RIGHTS = [
    *FabAirflowSecurityManagerOverride.VIEWER_PERMISSIONS,
    *FabAirflowSecurityManagerOverride.USER_PERMISSIONS,
]
# Without the global rights on DAG Runs, Task Instances and HITL Detail that "User" has, FAB
# answers 403 to the DAG list itself; only the global DAG rights must go.
BASE_PERMISSIONS = [p for p in _USER_RIGHTS if p not in _GLOBAL_DAG_RIGHTS]
SERVICE_PERMISSIONS = [
    *_USER_RIGHTS,
    (permissions.ACTION_CAN_READ, permissions.RESOURCE_ROLE),
    (permissions.ACTION_CAN_CREATE, permissions.RESOURCE_ROLE),
]


class SmallFrySecurityManager(FabAirflowSecurityManagerOverride):
    """FAB's security manager plus Small Fry's roles and the per-owner role at SSO login."""

    ROLE_CONFIGS: ClassVar[list[dict]] = [
        *FabAirflowSecurityManagerOverride.ROLE_CONFIGS,
        {"role": BASE_ROLE, "perms": BASE_PERMISSIONS},
        {"role": SERVICE_ROLE, "perms": SERVICE_PERMISSIONS},
    ]

    def auth_user_oauth(self, userinfo, rotate_session_id=True):
        name = userinfo.get("username") or userinfo.get("email")
        existing = self.find_user(username=name) if name else None
        # FAB stores a password hash for SSO users too, so the role tells the machine account.
        if existing is not None and any(r.name == SERVICE_ROLE for r in existing.roles):
            log.warning("refusing SSO login as %r: that is the Hub service's account", name)
            return None
        return super().auth_user_oauth(userinfo, rotate_session_id=rotate_session_id)

    def _oauth_calculate_user_roles(self, userinfo):
        roles = {r.name: r for r in super()._oauth_calculate_user_roles(userinfo)}
        name = userinfo.get("username") or userinfo.get("email")
        if name:
            if self.find_role(BASE_ROLE) is None:
                self.bulk_sync_roles([{"role": BASE_ROLE, "perms": BASE_PERMISSIONS}])
            for role_name in (BASE_ROLE, owner_role(name)):
                roles[role_name] = self.add_role(role_name)  # add_role returns an existing one
        return list(roles.values())


SECURITY_MANAGER_CLASS = SmallFrySecurityManager

AUTH_TYPE = AUTH_OAUTH
AUTH_USER_REGISTRATION = True
AUTH_USER_REGISTRATION_ROLE = "Public"
AUTH_ROLES_SYNC_AT_LOGIN = True
_admin_group = os.environ.get("SMALLFRY_AIRFLOW_ADMIN_GROUP", "")
AUTH_ROLES_MAPPING = {_admin_group: ["Admin"]} if _admin_group else {}

OAUTH_PROVIDERS = [
    {
        "name": os.environ.get("SMALLFRY_AIRFLOW_OIDC_NAME", "sso"),
        "icon": "fa-key",
        "token_key": "access_token",
        "remote_app": {
            "client_id": os.environ.get("SMALLFRY_AIRFLOW_OIDC_CLIENT_ID", ""),
            "client_secret": os.environ.get("SMALLFRY_AIRFLOW_OIDC_CLIENT_SECRET", ""),
            "server_metadata_url": os.environ.get("SMALLFRY_AIRFLOW_OIDC_METADATA_URL", ""),
            # preferred_username (the Airflow user name) comes with "profile".
            "client_kwargs": {"scope": "openid email profile"},
        },
    }
]
