"""Calls to AWS STS, off the event loop, with STS errors reduced to our stable codes.

botocore's own retries are off: the credential cache retries transient errors itself, with backoff,
inside one single-flight refresh, so one refresh never turns into a burst of STS calls.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import botocore
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..logs import log
from ..safe_names import role_session_name
from .cache import AwsCredentials, CredentialError, Identity


def session_name(user: str) -> str:
    """The STS RoleSessionName and SourceIdentity for a Hub user (valid and injective)."""
    return role_session_name(user)


_session: botocore.session.Session | None = None


def _shared_session() -> botocore.session.Session:
    """One botocore session for every STS client: a fresh one re-reads the service models
    from disk (100-300 ms on the event loop) each time new keys need an identity."""
    global _session
    if _session is None:
        _session = botocore.session.get_session()
    return _session


class Sts:
    """One STS endpoint; ``credentials`` are the caller's own (None: unsigned calls only)."""

    def __init__(self, endpoint_url: str, region: str, verify: bool | str = True, credentials=None):
        session = _shared_session()
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=20,
            signature_version=None if credentials else botocore.UNSIGNED,
        )
        kwargs = {}
        if credentials is not None:
            kwargs = {
                "aws_access_key_id": credentials.access_key,
                "aws_secret_access_key": credentials.secret_key,
                "aws_session_token": credentials.token,
            }
        self._client = session.create_client(
            "sts",
            region_name=region,
            endpoint_url=endpoint_url or None,
            verify=verify,
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

    async def _call(self, operation: str, **kwargs) -> dict:
        method = getattr(self._client, operation)
        try:
            return await asyncio.get_running_loop().run_in_executor(None, lambda: method(**kwargs))
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
