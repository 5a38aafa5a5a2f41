"""Calls to AWS STS, off the event loop, with STS errors reduced to our stable codes.

botocore's own retries are off: the credential cache retries transient errors itself, with backoff,
inside one single-flight refresh, so one refresh never turns into a burst of STS calls.

Off the event loop means the client too: building a botocore client costs 2-10 ms of Python
(the first one in the process 100-400 ms: it reads the service model and endpoint rules from
disk), and the status panel needs a new one for every new set of ambient keys. Built on the
loop, that stalled every request of the server at each key rotation; here it is built in the
worker thread that makes the first call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from urllib.parse import urlsplit
from xml.etree import ElementTree

import botocore
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..logs import log
from ..safe_names import role_session_name
from .cache import AwsCredentials, CredentialError, Identity


def session_name(user: str) -> str:
    """The STS RoleSessionName and SourceIdentity for a Hub user (valid and injective)."""
    return role_session_name(user)


_session: botocore.session.Session | None = None
#: botocore sessions are not thread-safe, and clients are built in worker threads.
_session_lock = threading.Lock()
_preloaded = False


def _shared_session() -> botocore.session.Session:
    """One botocore session for every STS client: a fresh one re-reads the service models
    from disk (100-300 ms) each time new keys need an identity. Call with ``_session_lock``."""
    global _session
    if _session is None:
        session = botocore.session.get_session()
        # Clients are built later, on demand; by then the kernels' managed profile may have
        # put AWS_PROFILE and AWS_CONFIG_FILE in this process's environment (kernels.py).
        # The server's own STS calls keep the profile and the config files it started with.
        profile = session.get_config_variable("profile") or None
        session.get_component("config_store").set_config_variable("profile", profile)
        session.full_config  # noqa: B018 - reads the config files now; botocore keeps them
        _session = session
    return _session


def preload() -> None:
    """Read STS's service model and endpoint rules into the shared session, once per process.

    The first client of a process reads them from disk: 100-400 ms of Python. Even in a worker
    thread that stalls the server (the event loop waits for the GIL), and it would happen at
    the first status call, as the page loads. The credential sources call this when they are
    built, at extension load, before the server takes requests; later clients cost 2-10 ms.
    """
    global _preloaded
    with _session_lock:
        if not _preloaded:
            _shared_session().create_client(
                "sts", region_name="us-east-1", config=Config(signature_version=botocore.UNSIGNED)
            )
            _preloaded = True


class Sts:
    """One STS endpoint; ``credentials`` are the caller's own (None: unsigned calls only).

    Constructing one is cheap and may happen on the event loop; the botocore client is built
    by the first call, in its worker thread, and reused by the calls after it.
    """

    def __init__(self, endpoint_url: str, region: str, verify: bool | str = True, credentials=None):
        if endpoint_url and not (
            is_valid_endpoint_url(endpoint_url) or is_valid_ipv6_endpoint_url(endpoint_url)
        ):
            # What botocore would say when building the client; said here, at start-up.
            raise ValueError(f"Invalid endpoint: {endpoint_url}")
        self._endpoint_url = endpoint_url or None
        self._resolved_url: str | None = None  # AWS's endpoint, when none is configured
        self._region = region
        self._verify = verify
        self._credentials = credentials
        self._client = None
        #: How many botocore clients this object built (one, however many calls).
        self.clients_built = 0

    def _client_here(self):
        """The botocore client, built on first use. Runs in a worker thread, never the loop."""
        with _session_lock:
            if self._client is None:
                self._client = self._build_client()
                self.clients_built += 1
            return self._client

    def _build_client(self):
        creds = self._credentials
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=20,
            signature_version=None if creds else botocore.UNSIGNED,
        )
        kwargs = {}
        if creds is not None:
            kwargs = {
                "aws_access_key_id": creds.access_key,
                "aws_secret_access_key": creds.secret_key,
                "aws_session_token": creds.token,
            }
        return _shared_session().create_client(
            "sts",
            region_name=self._region,
            endpoint_url=self._endpoint_url,
            verify=self._verify,
            config=config,
            **kwargs,
        )

    async def assume_role_with_web_identity(
        self, role_arn: str, name: str, token: str, duration: int
    ) -> AwsCredentials:
        reply = await self._call(
            "assume_role_with_web_identity",
            RoleArn=role_arn,
            RoleSessionName=name,
            WebIdentityToken=token,
            DurationSeconds=duration,
        )
        return _credentials(reply, "web-identity")

    async def assume_role(
        self, role_arn: str, name: str, duration: int, tags=(), source_identity=""
    ):
        kwargs = {"RoleArn": role_arn, "RoleSessionName": name, "DurationSeconds": duration}
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags]
        if source_identity:
            kwargs["SourceIdentity"] = source_identity
        reply = await self._call("assume_role", **kwargs)
        return _credentials(reply, "broker")

    async def caller_identity(self) -> Identity:
        reply = await self._call("get_caller_identity")
        return Identity.from_arn(reply["Arn"])

    async def caller_identity_of(self, creds: AwsCredentials) -> Identity:
        """Who ``creds`` belong to (GetCallerIdentity), without a botocore client for them.

        The status panel asks this for every new set of ambient keys. A client per key cost
        2-10 ms of Python and a worker thread at each rotation, competing with the event loop
        for the GIL; here the request is signed with botocore's SigV4 signer and sent with
        tornado's async client, on the loop (well under a millisecond of work).
        """
        from ..gateway.signing import sign  # the gateway imports this package

        url = self._endpoint_url or await self._resolved_endpoint()
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        # The global endpoint signs for us-east-1; every regional one for its region.
        region = "us-east-1" if urlsplit(url).hostname == "sts.amazonaws.com" else self._region
        request = HTTPRequest(
            url,
            method="POST",
            headers=sign("POST", url, headers, creds, region, "sts", body),
            body=body,
            connect_timeout=5,
            request_timeout=20,
            validate_cert=bool(self._verify),
            ca_certs=self._verify if isinstance(self._verify, str) else None,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as err:
            log.warning("Small Fry: STS get_caller_identity failed: HTTP %s", err.code)
            raise CredentialError("AccessDenied" if err.code == 403 else "sts-failed") from None
        except OSError as err:
            log.warning("Small Fry: STS get_caller_identity failed: %s", type(err).__name__)
            raise CredentialError("sts-unreachable") from None
        arn = ElementTree.fromstring(response.body).find(".//{*}Arn")
        if arn is None or not arn.text:
            raise CredentialError("sts-failed")
        return Identity.from_arn(arn.text.strip())

    async def _resolved_endpoint(self) -> str:
        """The URL botocore would send to (no ``sts_endpoint_url``: AWS's for the region)."""
        if self._resolved_url is None:
            loop = asyncio.get_running_loop()
            client = await loop.run_in_executor(None, self._client_here)
            self._resolved_url = client.meta.endpoint_url
        return self._resolved_url

    async def _call(self, operation: str, **kwargs) -> dict:
        def call() -> dict:
            return getattr(self._client_here(), operation)(**kwargs)

        try:
            return await asyncio.get_running_loop().run_in_executor(None, call)
        except ClientError as err:
            from .errors import code_for_sts_error

            aws_code = err.response.get("Error", {}).get("Code", "")
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = code_for_sts_error(aws_code)
            if code == "sts-failed" and status and status < 500:
                code = "AccessDenied" if status == 403 else code
            log.warning("Small Fry: STS %s failed: %s (HTTP %s)", operation, aws_code, status)
            raise CredentialError(code) from None
        except BotoCoreError as err:
            log.warning("Small Fry: STS %s failed: %s", operation, type(err).__name__)
            raise CredentialError("sts-unreachable") from None


def _credentials(reply: dict, source: str) -> AwsCredentials:
    creds = reply["Credentials"]
    expiry = creds["Expiration"]
    if isinstance(expiry, str):
        expiry = dt.datetime.fromisoformat(expiry.replace("Z", "+00:00"))
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=dt.timezone.utc)
    user = reply.get("AssumedRoleUser", {})
    identity = Identity.from_arn(user.get("Arn", ""), reply.get("SourceIdentity", "") or "")
    return AwsCredentials(
        creds["AccessKeyId"],
        creds["SecretAccessKey"],
        creds["SessionToken"],
        expiry,
        source,
        identity,
    )
