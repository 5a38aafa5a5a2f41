"""The gateway's tornado handler: authenticate, re-sign, forward, stream back.

The answers are served on the Jupyter origin, so nothing in them may act there: every one
(relayed or the gateway's own) is ``nosniff`` and ``Content-Security-Policy: sandbox``, which
keeps an HTML object from running script with the user's Jupyter session. And browser code
must never receive keys: STS calls pass only for the actions in ``c.SmallFry.sts_actions``.
Glue calls pass only for the actions in ``c.SmallFry.glue_actions`` (reads, and the few
additions the Catalog panel's *Register as table* makes), so browser code cannot change or
delete what the catalog holds.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import tornado.httputil
import tornado.iostream
import tornado.web
import yarl
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from ..contract import server_path
from ..credentials import CredentialError
from ..logs import log
from .body import BodyPipe
from .endpoints import ActionError, EndpointError, glue_action, sts_action
from .signing import SIGNING_HEADERS, sign

#: Request headers passed on to AWS (plus every ``x-amz-*`` but the signing ones).
_FORWARD_REQUEST = {
    "content-type",
    "content-length",
    "content-md5",
    "content-encoding",
    "content-language",
    "content-disposition",
    "cache-control",
    "expires",
    "range",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "accept",
}
#: Response headers never passed back (hop-by-hop, tornado sets them, or the gateway's own
#: security headers, which upstream must not replace or weaken).
_DROP_RESPONSE = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "server",
    "date",
    "set-cookie",
    "content-security-policy",
    "content-security-policy-report-only",
    "x-content-type-options",
}
_BODY_METHODS = {"PUT", "POST"}
_STREAM_CHUNK = 256 * 1024
#: Bodies of non-S3 calls (STS) are small forms; they are read whole because SigV4 signs them.
_MAX_SIGNED_BODY = 1024 * 1024


@tornado.web.stream_request_body
class GatewayHandler(APIHandler):
    """``/smallfry/aws/<service>/<raw path>``: forward one AWS API call with the user's keys."""

    SUPPORTED_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")

    @property
    def smallfry(self):
        return self.settings["smallfry"]

    def set_default_headers(self):
        # Also run by clear(), so errors (ours, tornado's, Jupyter's) carry these too.
        super().set_default_headers()
        self.set_header("X-Content-Type-Options", "nosniff")
        # First, so that it wins over any sandbox directive in a configured policy; Jupyter's
        # (or the administrator's) frame-ancestors and the like still apply after it.
        self.set_header("Content-Security-Policy", f"sandbox; {self.content_security_policy}")

    async def prepare(self):
        await super().prepare()
        if self._finished:
            return
        if not self.current_user:
            raise tornado.web.HTTPError(403, "Not authenticated")
        self._pipe: BodyPipe | None = None
        self._signed_body: bytearray | None = None
        self._service = self.path_args[0]
        prefix = url_path_join(self.base_url, server_path("gateway", self._service))
        self._raw_path = self.request.path[len(prefix) :]
        if self.request.method in _BODY_METHODS:
            self.request.connection.set_max_body_size(self.smallfry.config.max_upload_bytes)
            if self._service == "s3":
                self._pipe = BodyPipe()
                self._forwarding = asyncio.ensure_future(self._forward())
            else:
                self._signed_body = bytearray()

    async def data_received(self, chunk: bytes) -> None:
        if self._pipe is not None:
            await self._pipe.put(chunk)
        elif self._signed_body is not None:
            if len(self._signed_body) + len(chunk) > _MAX_SIGNED_BODY:
                raise tornado.web.HTTPError(413, "Request body too large for this AWS service")
            self._signed_body.extend(chunk)

    @tornado.web.authenticated
    async def get(self, service):
        await self._forward()

    @tornado.web.authenticated
    async def head(self, service):
        await self._forward()

    @tornado.web.authenticated
    async def delete(self, service):
        await self._forward()

    @tornado.web.authenticated
    async def put(self, service):
        await self._finish_body()

    @tornado.web.authenticated
    async def post(self, service):
        await self._finish_body()

    def on_connection_close(self):
        # The browser went away mid-upload. The upstream request must not wait for the rest
        # of the body: cancelling it drops the connection, and S3 keeps no partial object.
        if getattr(self, "_pipe", None) is not None and not self._forwarding.done():
            self._forwarding.cancel()
        super().on_connection_close()

    async def _finish_body(self):
        if self._pipe is not None:
            await self._pipe.close()
            await self._forwarding
        else:
            await self._forward()

    async def _forward(self) -> None:
        try:
            await self._forward_once()
        except asyncio.CancelledError:
            log.info("Small Fry gateway: the client went away during a %s upload", self._service)
            return
        finally:
            if self._pipe is not None:
                self._pipe.abandon()
        if not self._finished:
            self.finish()

    async def _forward_once(self) -> None:
        if self._service == "sts" and not self._sts_action_allowed():
            return
        if self._service == "glue" and not self._glue_action_allowed():
            return
        try:
            creds = await self.smallfry.credential_cache.get()
        except CredentialError as err:
            return self._gateway_error(403, str(err), code=err.code)
        # A bucket in another AWS region answers with its region: learn it and, when the
        # request has no streamed body to replay, send it again there at once.
        replayable = self._pipe is None
        for attempt in (1, 2):
            try:
                upstream = self.smallfry.endpoints.resolve(
                    self._service, self._raw_path, self.request.query
                )
            except EndpointError as err:
                return self._gateway_error(404, str(err))
            retry = await self._send(upstream, creds, last_try=attempt == 2 or not replayable)
            if not retry:
                return

    def _sts_action_allowed(self) -> bool:
        """Answer 403 unless the request is one allow-listed STS action (compared exactly)."""
        allowed = list(self.smallfry.config.sts_actions)
        body = bytes(self._signed_body) if self._signed_body is not None else None
        listed = ", ".join(allowed) or "none"
        try:
            action = sts_action(
                self.request.method, self._raw_path, self.request.query, self.request.headers, body
            )
        except ActionError as err:
            self._gateway_error(
                403,
                f"The gateway forwards only plain STS query-API calls with one allowed Action "
                f"({err}). Allowed here: {listed} (c.SmallFry.sts_actions).",
                code="ActionNotAllowed",
            )
            return False
        if action in allowed:
            return True
        log.warning("Small Fry gateway: refused STS action %.64r", action)
        self._gateway_error(
            403,
            f"The gateway does not forward the STS action {action[:64]!r}: browser code may "
            f"call only {listed}. An administrator can change c.SmallFry.sts_actions, but "
            "actions that return keys (GetSessionToken, AssumeRole*, GetFederationToken) must "
            "never be allowed.",
            code="ActionNotAllowed",
        )
        return False

    def _glue_action_allowed(self) -> bool:
        """Answer 403 unless the request is one allow-listed Glue action (compared exactly)."""
        allowed = list(self.smallfry.config.glue_actions)
        listed = ", ".join(allowed) or "none"
        try:
            action = glue_action(
                self.request.method, self._raw_path, self.request.query, self.request.headers
            )
        except ActionError as err:
            self._gateway_error(
                403,
                f"The gateway forwards only plain Glue JSON calls with one allowed "
                f"X-Amz-Target ({err}). Allowed here: {listed} (c.SmallFry.glue_actions).",
                code="ActionNotAllowed",
            )
            return False
        if action in allowed:
            return True
        log.warning("Small Fry gateway: refused Glue action %.64r", action)
        self._gateway_error(
            403,
            f"The gateway does not forward the Glue action {action!r}: browser code may call "
            f"only {listed}. An administrator can change c.SmallFry.glue_actions.",
            code="ActionNotAllowed",
        )
        return False

    async def _send(self, upstream, creds, last_try: bool) -> bool:
        """Send once and relay the answer; True if it should be retried in another region."""
        headers = self._upstream_headers(upstream.url)
        body = bytes(self._signed_body) if self._signed_body is not None else None
        signed = sign(
            self.request.method,
            upstream.url,
            headers,
            creds,
            upstream.region,
            upstream.service,
            body,
        )
        data = self._pipe.chunks() if self._pipe is not None else body
        try:
            async with self.smallfry.http.request(
                self.request.method,
                yarl.URL(upstream.url, encoded=True),
                headers=signed,
                data=data,
                allow_redirects=False,
                auto_decompress=False,
            ) as response:
                moved = self.smallfry.endpoints.learn_region(
                    upstream, response.status, response.headers
                )
                if moved and not last_try:
                    return True
                await self._relay(response)
        except tornado.iostream.StreamClosedError:
            log.info("Small Fry gateway: the client went away during a %s response", self._service)
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as err:
            if self._headers_written:
                log.warning(
                    "Small Fry gateway: %s stream from %s broke off",
                    self._service,
                    _host(upstream.url),
                )
                self.request.connection.close()
                return False
            self._gateway_error(
                502,
                f"The {self._service.upper()} endpoint {_host(upstream.url)} is unreachable "
                f"({type(err).__name__}). Check SmallFry.endpoint_url and the network.",
                code="EndpointUnreachable",
            )
        return False

    def _upstream_headers(self, url: str) -> dict[str, str]:
        headers = forwardable_headers(self.request.headers.get_all())
        headers["Host"] = _host(url)
        if self.request.method == "POST" and "Content-Type" not in self.request.headers:
            # Without one, HTTP clients label a POST as a form; S3 then misreads XML bodies
            # and stores the wrong type on CreateMultipartUpload.
            headers["Content-Type"] = "binary/octet-stream"
        return headers

    def finish(self, *args, **kwargs):
        # APIHandler labels every response JSON when it finishes; a relayed response keeps
        # the type S3 sent (a HEAD, or an empty object, is finished before any flush).
        upstream_type = getattr(self, "_upstream_type", None)
        if upstream_type:
            kwargs.setdefault("set_content_type", upstream_type)
        return super().finish(*args, **kwargs)

    async def _relay(self, response: aiohttp.ClientResponse) -> None:
        self.set_status(response.status, response.reason)
        self.clear_header("Content-Type")
        self._upstream_type = response.headers.get("Content-Type")
        # Names go back spelled as S3 sent them (see UpstreamCaseHeaders), so they come from
        # the raw lines: aiohttp's ``headers`` re-cases the names it knows (``Etag``). As
        # latin-1 text, which tornado writes back as latin-1, the bytes pass unchanged.
        self._headers = UpstreamCaseHeaders(self._headers)
        for raw_name, raw_value in response.raw_headers:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            lower = name.lower()
            # The gateway is same-origin: an upstream CORS grant must not widen it.
            if lower not in _DROP_RESPONSE and not lower.startswith("access-control-"):
                self.add_header(name, value)
        if response.status in (204, 304) or self.request.method == "HEAD":
            return
        # One writer, awaiting each flush: when the browser reads slowly we stop reading S3.
        async for chunk in response.content.iter_chunked(_STREAM_CHUNK):
            self.write(chunk)
            await self.flush()

    def _gateway_error(self, status: int, message: str, code: str = "GatewayError") -> None:
        """An error of the gateway itself (not of AWS), as JSON the front end can show."""
        self.clear()
        self._upstream_type = None
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("X-Smallfry-Error", code)
        self.finish(json.dumps({"message": message, "code": code}))


class UpstreamCaseHeaders(tornado.httputil.HTTPHeaders):
    """Response headers that go out with each name spelled as it was first added.

    ``HTTPHeaders`` stores and writes names in ``Http-Header-Case``, so S3's
    ``x-amz-meta-owner`` and ``ETag`` would reach the client as ``X-Amz-Meta-Owner`` and
    ``Etag``. Browsers lower-case names anyway, but botocore (boto3, the AWS CLI, s3fs) builds
    an object's ``Metadata`` keys from the names as they arrive and looks up ``ETag`` itself.
    Lookups stay case-insensitive, so tornado and Jupyter (``"Etag" in headers``,
    ``set_header("Content-Length", ...)``, ``clear_header``) work unchanged; only the names
    written to the wire (tornado's ``HTTP1Connection.write_headers`` reads ``get_all()``)
    are the first spelling seen. A later ``set_header`` replaces the value, not the spelling.
    Repeated lines of one name stay separate lines, written under its first spelling.
    """

    def __init__(self, *args, **kwargs) -> None:
        self._spelling: dict[str, str] = {}  # lower-case name -> name as first added
        super().__init__(*args, **kwargs)

    def add(self, name: str, value: str, **kwargs) -> None:
        new = name not in self
        super().add(name, value, **kwargs)  # for a new name, this stores it via __setitem__
        if new:
            self._spelling[name.lower()] = name

    def __setitem__(self, name: str, value: str) -> None:
        super().__setitem__(name, value)
        self._spelling.setdefault(name.lower(), name)

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self._spelling.pop(name.lower(), None)

    def get_all(self):
        for name, value in super().get_all():
            yield self._spelling.get(name.lower(), name), value


def forwardable_headers(pairs) -> dict[str, str]:
    """The request headers passed on to AWS: no cookies, tokens or browser signatures."""
    headers = {}
    for name, value in pairs:
        lower = name.lower()
        if lower in SIGNING_HEADERS:
            continue
        if lower in _FORWARD_REQUEST or lower.startswith("x-amz-"):
            headers[name] = value
    return headers


def _host(url: str) -> str:
    return yarl.URL(url, encoded=True).raw_authority
