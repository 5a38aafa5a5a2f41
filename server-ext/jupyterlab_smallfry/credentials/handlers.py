"""``/smallfry/credentials``: status, refresh, role switch, and the kernel helper's endpoint.

Every answer is for the server's owner only: JupyterHub sharing can let another Hub user
reach this server, and they must get nothing credential-shaped. Responses are never cached.
Only the kernel helper's endpoint returns keys, only to a caller that presents the kernel
secret (see ``kernels.py``), and never in a log line. Jupyter authentication counts for
nothing there: the Jupyter token is in every JupyterLab page, so browser scripts have it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json

import tornado.web
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from ..contract import server_path
from ..credential_process import SECRET_HEADER
from ..identity import is_server_owner, request_user
from ..logs import log
from .cache import CredentialError
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
        if not is_server_owner(self):
            name = request_user(self)
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
            await self.credentials.cache.refresh()
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
            raise tornado.web.HTTPError(400, 'Send {"role": "<role ARN>"}.')
        try:
            await self.credentials.choose_role(arn)
        except CredentialError as err:
            raise tornado.web.HTTPError(400, str(err)) from None
        self.finish(json.dumps(await self.status()))


class ProcessHandler(tornado.web.RequestHandler):
    """``GET /smallfry/credentials/process``: keys for the ``credential_process`` helper.

    A plain tornado handler, on purpose: Jupyter's identity (token, cookie, Hub OAuth) grants
    nothing here. The one credential is the kernel secret in the ``X-Smallfry-Kernel-Secret``
    header, which only processes of this server's Unix user can read from ``server.json``.
    Registered only when the managed profile is installed (not in ``ambient`` mode).
    """

    def initialize(self, secret: str):
        self._secret = secret.encode()

    @property
    def credentials(self) -> CredentialService:
        return self.settings["smallfry"].credentials

    def set_default_headers(self):
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.set_header("Pragma", "no-cache")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")

    def check_xsrf_cookie(self):
        pass  # no cookie counts here, so there is no cross-site request to forge

    def write_error(self, status_code: int, **kwargs) -> None:
        self.finish(json.dumps({"message": self._reason}))

    def log_exception(self, typ, value, tb):
        # tornado's own line names the full URI, and a caller may have put a token in it.
        if isinstance(value, tornado.web.HTTPError):
            log.warning("Small Fry: kernel credentials endpoint: HTTP %s", value.status_code)
        else:
            log.error("Small Fry: kernel credentials endpoint failed", exc_info=(typ, value, tb))

    # Not Jupyter's authentication but its own (the kernel secret); saying so keeps
    # ServerApp.allow_unauthenticated_access=False from flagging the route.
    @allow_unauthenticated
    async def get(self):
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not given or not hmac.compare_digest(given, self._secret):
            log.warning("Small Fry: refused kernel credentials: no valid kernel secret")
            self.set_status(403)
            self.finish(
                json.dumps(
                    {
                        "code": "not-the-kernel-helper",
                        "message": "Only the credential_process helper of this server's kernels "
                        f"gets keys here: it sends the kernel secret (in {SECRET_HEADER}) from the "
                        "server's private server.json. Jupyter tokens and browser sessions get "
                        "none.",
                    }
                )
            )
            return
        try:
            creds = await self.credentials.cache.get()
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


def credential_routes(base_url: str, kernel_secret: str | None = None) -> list:
    """The routes; the kernel helper's only with the secret of an installed kernel profile."""
    routes = [
        (url_path_join(base_url, server_path("credentials")), StatusHandler),
        (url_path_join(base_url, server_path("credentials_refresh")), RefreshHandler),
        (url_path_join(base_url, server_path("credentials_role")), RoleHandler),
    ]
    if kernel_secret:
        routes.append(
            (
                url_path_join(base_url, server_path("credentials_process")),
                ProcessHandler,
                {"secret": kernel_secret},
            )
        )
    return routes
