"""The credential broker: the only source of AWS keys for the gateway and everything else.

One in-memory cache per server and a single-flight refresh: however many requests need keys
at the same moment, at most one lookup runs. Keys are refreshed well before they expire
(more than botocore's own 15-minute window), so a request never leaves with keys that
expire in flight.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import botocore.session

from ..logs import log
from .errors import problem


#: Refresh this long before expiry; botocore itself refreshes 15 minutes before. Keys that
#: live shorter than twice this (say 15-minute sessions) are refreshed at half their life
#: instead, so they are not looked up again on every request.
REFRESH_MARGIN = dt.timedelta(minutes=20)


#: Pauses between attempts when a lookup fails with a transient error (throttling, IdP or
#: network trouble); the full list is tried within one single-flight refresh.
RETRY_DELAYS: tuple[float, ...] = (0.5, 1.5, 4.0)

#: After a failed refresh, callers get the same error without a new lookup for this long,
#: so a failing STS or Hub is not hammered by every request of a busy page.
FAILURE_COOLDOWN = dt.timedelta(seconds=10)


class CredentialError(Exception):
    """No usable credentials. ``code`` is stable for the UI; the message says what to do.

    ``detail`` holds non-secret facts that help fix the problem (for example a rejected
    token's issuer and audience). Nothing secret may ever be put in the message or detail.
    """

    def __init__(self, code: str, message: str | None = None, detail: dict | None = None):
        known = problem(code)
        super().__init__(message or known.message)
        self.code = code
        self.detail = detail or {}

    @property
    def state(self) -> str:
        return problem(self.code).state

    @property
    def hint(self) -> str:
        return problem(self.code).hint

    @property
    def retryable(self) -> bool:
        return problem(self.code).retryable

    def to_json(self) -> dict:
        return {"code": self.code, "message": str(self), "hint": self.hint, "detail": self.detail}


@dataclass(frozen=True)
class Identity:
    """Who the keys belong to, as AWS sees it. Nothing here is secret."""

    arn: str
    account: str = ""
    role: str = ""
    session_name: str = ""
    source_identity: str = ""

    @classmethod
    def from_arn(cls, arn: str, source_identity: str = "") -> "Identity":
        # arn:aws:sts::123456789012:assumed-role/analyst/alice
        parts = arn.split(":", 5)
        account = parts[4] if len(parts) > 5 else ""
        resource = parts[5] if len(parts) > 5 else ""
        role = session = ""
        if resource.startswith("assumed-role/"):
            _, role, session = (resource.split("/", 2) + ["", ""])[:3]
        elif resource.startswith(("user/", "role/")):
            role = resource.split("/")[-1]
        return cls(arn, account, role, session, source_identity)

    def to_json(self) -> dict:
        return {
            "arn": self.arn,
            "account": self.account,
            "role": self.role,
            "session_name": self.session_name,
            "source_identity": self.source_identity,
        }


@dataclass(frozen=True)
class AwsCredentials:
    """A set of AWS keys. ``repr`` never shows the secrets."""

    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    expiry: dt.datetime | None = None
    source: str = "ambient"
    identity: Identity | None = None


Fetcher = Callable[[], Awaitable[AwsCredentials]]


def ambient_fetcher(profile: str | None = None) -> Fetcher:
    """botocore's default chain: environment, shared profile, web identity, container/instance role.

    Each lookup resolves the chain afresh: a long-lived botocore session would hand back the
    keys it cached until its own 15-minute window, so "Refresh now" and our earlier refresh
    would change nothing for credential_process, SSO, assume-role or instance-role keys.
    """

    def lookup() -> AwsCredentials:
        creds = botocore.session.Session(profile=profile).get_credentials()
        if creds is None:
            raise CredentialError(
                "no-credentials",
                "No AWS credentials were found on the server (environment, ~/.aws, or instance "
                "role). Configure one, or choose another SmallFry.credentials_mode.",
            )
        frozen = creds.get_frozen_credentials()
        expiry = getattr(creds, "_expiry_time", None)
        return AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token, expiry, "ambient")

    async def fetch() -> AwsCredentials:
        # botocore may block on the instance metadata service or a credential_process.
        return await asyncio.get_running_loop().run_in_executor(None, lookup)

    return fetch


def static_fetcher(access_key: str, secret_key: str, source: str) -> Fetcher:
    """Fixed keys, used only for the embedded local S3 server (it accepts any key)."""

    async def fetch() -> AwsCredentials:
        return AwsCredentials(access_key, secret_key, None, None, source)

    return fetch


class CredentialBroker:
    """Caches one set of credentials and refreshes it single-flight before it expires.

    ``fetch`` is the mode's lookup (``ambient``, ``web-identity``, ``broker``). Transient
    failures are retried with backoff inside the one refresh; a failed refresh is remembered
    for ``FAILURE_COOLDOWN`` so callers do not stampede a failing upstream.
    """

    def __init__(
        self,
        fetch: Fetcher,
        margin: dt.timedelta = REFRESH_MARGIN,
        clock: Callable[[], dt.datetime] | None = None,
    ):
        self._fetch = fetch
        self._margin = margin
        self._clock = clock or _now
        self._current: AwsCredentials | None = None
        self._due: dt.datetime | None = None  # when the cached keys are to be replaced
        self._inflight: asyncio.Future | None = None
        self._failed_at: dt.datetime | None = None
        self.last_refresh: dt.datetime | None = None
        self.last_error: CredentialError | None = None
        self.lookups = 0  # how many times ``fetch`` ran (status and tests)

    @property
    def current(self) -> AwsCredentials | None:
        """The cached credentials, without any lookup (may be expired)."""
        return self._current

    @property
    def refreshing(self) -> bool:
        return self._inflight is not None

    async def get(self) -> AwsCredentials:
        """Current credentials, refreshed first if they are missing or close to expiry."""
        current = self._current
        now = self._clock()
        if current is not None and (self._due is None or now < self._due):
            return current
        if self._inflight is None and self._cooling_down():
            # A refresh just failed: serve still-valid keys, else the same error, no new lookup.
            if current is not None and (current.expiry is None or now < current.expiry):
                return current
            raise self.last_error
        return await self.refresh()

    def _cooling_down(self) -> bool:
        return (
            self.last_error is not None
            and self._failed_at is not None
            and self._clock() - self._failed_at < FAILURE_COOLDOWN
        )

    async def refresh(self) -> AwsCredentials:
        """Fetch new credentials; concurrent callers share one fetch."""
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._do_refresh())
            self._inflight.add_done_callback(self._clear_inflight)
        return await asyncio.shield(self._inflight)

    def forget(self) -> None:
        """Drop the cached keys (after a role switch); the next ``get`` looks up new ones."""
        self._current = None
        self._due = None
        self.last_error = None
        self._failed_at = None

    def _clear_inflight(self, future: asyncio.Future) -> None:
        self._inflight = None
        if not future.cancelled():
            future.exception()  # mark retrieved: callers that went away must not log noise

    async def _do_refresh(self) -> AwsCredentials:
        delays = list(RETRY_DELAYS)
        while True:
            try:
                self.lookups += 1
                creds = await self._fetch()
                break
            except CredentialError as err:
                error = err
            except Exception as err:  # botocore raises many kinds; never echo them raw (may hold keys)
                log.warning("Small Fry: credential lookup failed (%s)", type(err).__name__)
                error = CredentialError(
                    "lookup-failed", f"Looking up AWS credentials failed: {type(err).__name__}."
                )
            if error.retryable and delays:
                delay = delays.pop(0) * random.uniform(0.8, 1.2)
                log.info("Small Fry: credentials: %s; retrying in %.1fs", error.code, delay)
                await asyncio.sleep(delay)
                continue
            log.warning("Small Fry: credentials unavailable: %s", error.code)
            self.last_error = error
            self._failed_at = self._clock()
            raise error from None
        now = self._clock()
        self._current = creds
        self._due = self._refresh_due(creds, now)
        self.last_error = None
        self._failed_at = None
        self.last_refresh = now
        return creds

    def _refresh_due(self, creds: AwsCredentials, now: dt.datetime) -> dt.datetime | None:
        """``margin`` before expiry, but never sooner than half-way through the keys' life."""
        if creds.expiry is None:
            return None
        return max(creds.expiry - self._margin, now + (creds.expiry - now) / 2)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
