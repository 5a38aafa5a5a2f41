"""The credential cache: the only source of AWS keys for the gateway and everything else.

One in-memory cache per server and a single-flight refresh: however many requests need keys
at the same moment, at most one lookup runs. Keys are refreshed well before they expire
(more than botocore's own 15-minute window), so a request never leaves with keys that
expire in flight. Because that refresh starts so early, a failing one (STS, the Hub or its
broker service briefly down) is no reason to fail requests: the cached keys are served until
their last minutes, and only then does the error reach the caller.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

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

#: Cached keys with more life than this are still handed out when their refresh fails. Two
#: minutes cover what happens after a caller gets them: the gateway signs and sends at once
#: (S3 checks the session token when a request arrives, not when a long transfer ends),
#: botocore-level retries of that request, and clock skew between this server and AWS
#: (NTP-synced hosts are within seconds). Less would hand out keys that die in flight.
MIN_USABLE_LIFE = dt.timedelta(minutes=2)

#: While the cached keys are usable, a request waits at most this long for their refresh
#: and then goes ahead with them; the refresh carries on in the background. A hung STS or
#: Hub (timeouts of 20-30 s, retried) must not stall every request of the page.
CACHED_KEYS_WAIT = dt.timedelta(seconds=3)


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
    def from_arn(cls, arn: str, source_identity: str = "") -> Identity:
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


class _Superseded(Exception):
    """A lookup started before ``forget()``: its result belongs to the old role."""


class CredentialCache:
    """Caches one set of credentials and refreshes it single-flight before it expires.

    ``fetch`` is the mode's lookup (``ambient``, ``web-identity``, ``broker``). Transient
    failures are retried with backoff inside the one refresh; a failed refresh is remembered
    for ``FAILURE_COOLDOWN`` so callers do not stampede a failing upstream. While it fails,
    ``get`` keeps serving the cached keys as long as they have ``MIN_USABLE_LIFE`` left.

    ``forget`` (a role switch) starts a new generation: a lookup begun before it never
    installs its keys or its error, and whoever waited on it gets keys from a new lookup.
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
        self._generation = 0  # bumped by forget(); a lookup of an older one is discarded
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

    def usable(self, creds: AwsCredentials | None) -> bool:
        """Whether ``creds`` may still be handed out: more than ``MIN_USABLE_LIFE`` left."""
        if creds is None:
            return False
        return creds.expiry is None or creds.expiry - self._clock() > MIN_USABLE_LIFE

    async def get(self) -> AwsCredentials:
        """Current credentials, refreshed first if they are missing or close to expiry.

        A failed refresh raises only when the cached keys are not ``usable`` any more;
        until then they are returned (``last_error`` says the refresh failed).
        """
        current = self._current
        now = self._clock()
        if current is not None and (self._due is None or now < self._due):
            return current
        if self._inflight is None and self._cooling_down():
            # A refresh just failed: serve still-usable keys, else the same error, no new lookup.
            if self.usable(current):
                return current
            raise self.last_error
        if not self.usable(current):
            return await self.refresh()
        try:
            return await asyncio.wait_for(self.refresh(), CACHED_KEYS_WAIT.total_seconds())
        except (CredentialError, asyncio.TimeoutError):
            # Read again: a role switch meanwhile dropped the keys we started with.
            current = self._current
            if self.usable(current):
                return current
            raise

    def _cooling_down(self) -> bool:
        return (
            self.last_error is not None
            and self._failed_at is not None
            and self._clock() - self._failed_at < FAILURE_COOLDOWN
        )

    async def refresh(self) -> AwsCredentials:
        """Fetch new credentials; concurrent callers share one fetch.

        Raises the lookup's error (``get`` is the one that falls back on cached keys). A
        lookup overtaken by ``forget`` is not returned: the caller joins a new one.
        """
        while True:
            if self._inflight is None:
                future = asyncio.ensure_future(self._do_refresh(self._generation))
                future.add_done_callback(self._clear_inflight)
                self._inflight = future
            try:
                return await asyncio.shield(self._inflight)
            except _Superseded:
                continue

    def forget(self) -> None:
        """Drop the cached keys (after a role switch); the next ``get`` looks up new ones.

        A lookup still in flight was made for the old role: it is left to finish, but its
        result is thrown away, and the next caller starts a new one.
        """
        self._generation += 1
        self._inflight = None
        self._current = None
        self._due = None
        self.last_error = None
        self._failed_at = None

    def _clear_inflight(self, future: asyncio.Future) -> None:
        if self._inflight is future:  # not a newer lookup started after forget()
            self._inflight = None
        if not future.cancelled():
            future.exception()  # mark retrieved: callers that went away must not log noise

    async def _do_refresh(self, generation: int) -> AwsCredentials:
        delays = list(RETRY_DELAYS)
        while True:
            try:
                if generation != self._generation:
                    raise _Superseded()  # the role changed during a pause between attempts
                self.lookups += 1
                creds = await self._fetch()
                if generation != self._generation:
                    raise _Superseded()  # the old role's keys must not come back
                break
            except _Superseded:
                raise
            except CredentialError as err:
                error = err
            # botocore raises many kinds; never echo them raw (they may hold keys)
            except Exception as err:  # noqa: BLE001
                log.warning("Small Fry: credential lookup failed (%s)", type(err).__name__)
                error = CredentialError(
                    "lookup-failed", f"Looking up AWS credentials failed: {type(err).__name__}."
                )
            if generation != self._generation:
                raise _Superseded()  # the old role's failure says nothing about the new one
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
