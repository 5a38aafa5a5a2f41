"""The Small Fry credential broker: a JupyterHub-managed service that vends per-user AWS keys.

A user's server POSTs to ``<service>/credentials`` with its Hub API token. The broker asks the
Hub whose token it is (never trusting a name in the request), picks the role from the user's
Hub groups, and calls STS ``AssumeRole`` with ``RoleSessionName`` = the Hub user,
``SourceIdentity`` = the Hub user and session tags (``jupyterhub_user``), so CloudTrail names
the person and IAM policies can use ``${aws:PrincipalTag/jupyterhub_user}``. The broker's own
AWS identity (env, instance role, IRSA) and the users' refresh tokens never leave the Hub.

Run as a Hub service (see ``examples/jupyterhub_config_broker.py``)::

    python -m jupyterlab_smallfry.hub.broker --SmallFryBroker.role_arn=arn:aws:iam::...:role/nb
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
from typing import ClassVar
from urllib.parse import quote, urlparse

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from jupyterhub.services.auth import HubAuth
from tornado import ioloop, web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from traitlets import Dict, Integer, List, Unicode
from traitlets.config import Application

from ..credentials.errors import code_for_sts_error, problem
from ..credentials.sts import session_name
from ..safe_names import USER_TAG_KEY, tag_value


class ServiceHandler(web.RequestHandler):
    """Base of the service's API: JSON, never cached, Hub API tokens only (no cookies)."""

    def initialize(self, broker: SmallFryBroker):
        self.broker = broker

    def set_default_headers(self):
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")

    def check_xsrf_cookie(self):
        pass  # token-authenticated API: no cookies are accepted at all

    def fail(self, status: int, code: str, roles=None):
        self.set_status(status)
        reply = {"code": code, "message": problem(code).message}
        if roles is not None:
            reply["roles"] = roles
        self.finish(json.dumps(reply))


class CredentialsHandler(ServiceHandler):
    """``POST …/credentials`` ``{"role": optional ARN}`` with ``Authorization: token <hub token>``."""

    async def post(self):
        user = await self.broker.identify(self)
        if user is None:
            return
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = {}
        name = user["name"]
        groups = await self.broker.groups_of(name, user)
        roles = self.broker.roles_for(groups)
        wanted = body.get("role") or (roles[0] if roles else "")
        if not roles:
            return self.fail(403, "no-role", roles=roles)
        if wanted not in roles:
            return self.fail(403, "role-not-allowed", roles=roles)
        try:
            reply = await self.broker.assume(name, wanted)
        except ClientError as err:
            aws_code = err.response.get("Error", {}).get("Code", "")
            self.broker.log.warning("AssumeRole for %s failed: %s", name, aws_code)
            code = code_for_sts_error(aws_code)
            return self.fail(502 if problem(code).retryable else 403, code, roles=roles)
        except BotoCoreError as err:
            self.broker.log.warning("AssumeRole for %s failed: %s", name, type(err).__name__)
            return self.fail(502, "sts-unreachable", roles=roles)
        creds = reply["Credentials"]
        expiry = creds["Expiration"].astimezone(dt.timezone.utc)
        self.broker.log.info(
            "Issued %s credentials for %s until %s", wanted, name, expiry.isoformat()
        )
        self.finish(
            json.dumps(
                {
                    "AccessKeyId": creds["AccessKeyId"],
                    "SecretAccessKey": creds["SecretAccessKey"],
                    "SessionToken": creds["SessionToken"],
                    "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "arn": reply.get("AssumedRoleUser", {}).get("Arn", ""),
                    "source_identity": reply.get("SourceIdentity", "") or "",
                    "role": wanted,
                    "roles": roles,
                }
            )
        )


class SmallFryBroker(Application):
    """Settings of the broker service (``--SmallFryBroker.x=y`` or a config file)."""

    name = "smallfry-broker"
    description = "Vends per-user AWS credentials to Small Fry servers of this JupyterHub."

    role_arn = Unicode("", config=True, help="Role assumed for users whose groups map to none.")
    role_map = Dict(
        config=True, help="Hub group name -> role ARN. Users in several groups may switch."
    )
    session_duration = Integer(
        3600,
        config=True,
        help="Seconds the keys last (900 to the role's MaxSessionDuration; at most 3600 when "
        "the broker itself runs under an assumed role: role chaining).",
    )
    sts_endpoint_url = Unicode("", config=True, help="STS endpoint; empty: the regional AWS one.")
    region = Unicode("", config=True, help="AWS region for STS; empty: botocore's configured one.")
    tag_key = Unicode(USER_TAG_KEY, config=True, help="Session tag that carries the Hub user name.")
    transitive = List(
        Unicode(),
        default_value=["jupyterhub_user"],
        config=True,
        help="Session tag keys that survive role chaining.",
    )
    extra_tags = Dict(config=True, help="More fixed session tags, e.g. {'team': 'data'}.")
    port = Integer(0, config=True, help="Port; 0: from JUPYTERHUB_SERVICE_URL.")

    aliases: ClassVar[dict] = {
        "role-arn": "SmallFryBroker.role_arn",
        "sts-endpoint-url": "SmallFryBroker.sts_endpoint_url",
        "region": "SmallFryBroker.region",
        "session-duration": "SmallFryBroker.session_duration",
        "port": "SmallFryBroker.port",
    }

    async def identify(self, handler: web.RequestHandler) -> dict | None:
        """The Hub user whose API token ``handler``'s request carries, asked of the Hub (never
        taken from the request); None after answering the refusal with ``handler.fail``."""
        scheme, _, token = handler.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token:
            handler.fail(401, "broker-refused")
            return None
        try:
            user = await self.hub_auth.user_for_token(token, use_cache=False, sync=False)
        except Exception as err:  # noqa: BLE001 - the Hub is down or answered oddly
            self.log.warning("Hub check failed: %s", type(err).__name__)
            handler.fail(503, "hub-unreachable")
            return None
        if not user or user.get("kind", "user") != "user":
            handler.fail(403, "broker-refused")
            return None
        if not self.hub_auth.check_scopes(self.hub_auth.access_scopes, user):
            self.log.warning("Refused %s: token lacks access to this service", user["name"])
            handler.fail(403, "broker-refused")
            return None
        return user

    def roles_for(self, groups) -> list[str]:
        roles = [self.role_map[g] for g in groups if g in self.role_map]
        if self.role_arn:
            roles.append(self.role_arn)
        return list(dict.fromkeys(roles))

    def tags_for(self, name: str) -> list[tuple[str, str]]:
        tags = [(self.tag_key, tag_value(name))]
        tags += [(k, tag_value(str(v))) for k, v in self.extra_tags.items()]
        return tags

    async def groups_of(self, name: str, user: dict) -> list[str]:
        """The user's Hub groups, read with the broker's own token (``read:users:groups``)."""
        if "groups" in user:
            return list(user["groups"])
        url = f"{self.hub_auth.api_url}/users/{quote(name, safe='')}"
        request = HTTPRequest(url, headers={"Authorization": f"token {self.hub_auth.api_token}"})
        try:
            response = await AsyncHTTPClient().fetch(request)
        except Exception as err:  # noqa: BLE001 - no groups is the safe answer
            self.log.warning("Could not read the groups of %s: %s", name, type(err).__name__)
            return []
        return list(json.loads(response.body).get("groups", []))

    async def assume(self, name: str, role_arn: str) -> dict:
        kwargs = {
            "RoleArn": role_arn,
            "RoleSessionName": session_name(name),
            "SourceIdentity": session_name(name),
            "DurationSeconds": self.session_duration,
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags_for(name)],
            "TransitiveTagKeys": list(self.transitive),
        }
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: self._sts.assume_role(**kwargs))

    def initialize(self, argv=None):
        super().initialize(argv)
        logging.basicConfig(
            level=logging.INFO, format="[smallfry-broker %(levelname)s] %(message)s"
        )
        self.log = logging.getLogger("smallfry-broker")
        session = botocore.session.get_session()
        self._sts = session.create_client(
            "sts",
            region_name=self.region or session.get_config_variable("region") or "us-east-1",
            endpoint_url=self.sts_endpoint_url or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5),
        )
        self.hub_auth = HubAuth(cache_max_age=0)

    def routes(self, prefix: str) -> list:
        """URL patterns under the service prefix (and at the root, for direct calls)."""
        return [
            (prefix + "/credentials", CredentialsHandler, {"broker": self}),
            (r"/credentials", CredentialsHandler, {"broker": self}),
        ]

    def start(self):
        service_url = os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8765/")
        url = urlparse(service_url)
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/").rstrip("/")
        app = web.Application(self.routes(prefix))
        app.listen(self.port or url.port or 8765, url.hostname or "127.0.0.1")
        self.log.info("Small Fry %s listening on %s", self.name, service_url)
        ioloop.IOLoop.current().start()


main = SmallFryBroker.launch_instance

if __name__ == "__main__":
    main()
