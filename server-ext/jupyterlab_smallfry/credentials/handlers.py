"""``/smallfry/credentials``: status, refresh, role switch, and the kernel helper's endpoint.

Every answer is for the server's owner only: JupyterHub sharing can let another Hub user
reach this server, and they must get nothing credential-shaped. Responses are never cached.
Only the kernel helper's endpoint returns keys, only to a token-authenticated caller (never
to a browser session), and never in a log line.
"""

from __future__ import annotations

import datetime as dt
import json

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from ..logs import log
from .broker import CredentialError
from .service import CredentialService


class _CredentialHandler(APIHandler):
    @property
    def credentials(self) -> CredentialService:
        return self.settings["smallfry"].credentials

    def set_default_headers(self):
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")
        self.set_header("Pragma", "no-cache")

    def require_owner(self) -> None:
        user = self.current_user
        name = getattr(user, "username", None) or getattr(user, "name", None)
        if not self.credentials.is_owner(name):
            log.warning("Small Fry: refused credentials to %r: not the server's owner", name)
            raise tornado.web.HTTPError(
                403, "Only the owner of this server can see its AWS credentials."
            )

    async def status(self) -> dict:
        return await self.credentials.describe()


class StatusHandler(_CredentialHandler):
    """``GET /smallfry/credentials``: who you are on AWS and for how long; never secrets."""

    @tornado.web.authenticated
    async def get(self):
        self.require_owner()
        self.finish(json.dumps(await self.status()))


class RefreshHandler(_CredentialHandler):
    """``POST /smallfry/credentials/refresh``: get new keys now (XSRF-checked)."""

    @tornado.web.authenticated
    async def post(self):
        self.require_owner()
        try:
            await self.credentials.broker.refresh()
        except CredentialError:
            pass  # the status carries the error
        self.finish(json.dumps(await self.status()))


class RoleHandler(_CredentialHandler):
    """``POST /smallfry/credentials/role`` ``{"role": "<arn>"}``: switch to another allowed role."""

    @tornado.web.authenticated
    async def post(self):
        self.require_owner()
        body = self.get_json_body() or {}
        arn = body.get("role")
        if not isinstance(arn, str) or not arn:
            raise tornado.web.HTTPError(400, "Send {\"role\": \"<role ARN>\"}.")
        try:
            await self.credentials.choose_role(arn)
        except CredentialError as err:
            raise tornado.web.HTTPError(400, str(err)) from None
        self.finish(json.dumps(await self.status()))


class ProcessHandler(_CredentialHandler):
    """``GET /smallfry/credentials/process``: keys for the ``credential_process`` helper.

    Token authentication only (the helper sends the Hub API token kernels have, or the
    server's token): a browser session never receives keys, whatever page asks.
    """

    @tornado.web.authenticated
    async def get(self):
        self.require_owner()
        if not self.token_authenticated:
            raise tornado.web.HTTPError(
                403, "This endpoint is for the credential_process helper (token auth only)."
            )
        try:
            creds = await self.credentials.broker.get()
        except CredentialError as err:
            self.set_status(503)
            self.finish(json.dumps({"code": err.code, "message": str(err), "hint": err.hint}))
            return
        reply = {
            "Version": 1,
            "AccessKeyId": creds.access_key,
            "SecretAccessKey": creds.secret_key,
        }
        if creds.token:
            reply["SessionToken"] = creds.token
        if creds.expiry is not None:
            expiry = creds.expiry.astimezone(dt.timezone.utc)
            reply["Expiration"] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
        if creds.identity is not None and creds.identity.account:
            reply["AccountId"] = creds.identity.account
        self.finish(json.dumps(reply))


def credential_routes(base_url: str) -> list:
    return [
        (url_path_join(base_url, "smallfry/credentials"), StatusHandler),
        (url_path_join(base_url, "smallfry/credentials/refresh"), RefreshHandler),
        (url_path_join(base_url, "smallfry/credentials/role"), RoleHandler),
        (url_path_join(base_url, "smallfry/credentials/process"), ProcessHandler),
    ]
