"""The credential broker: the only source of AWS keys for the gateway and everything else.

One in-memory cache per server and a single-flight refresh: however many requests need keys
at the same moment, at most one lookup runs. Keys are refreshed well before they expire
(more than botocore's own 15-minute window), so a request never leaves with keys that
expire in flight.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import botocore.session
from ..logs import log


#: Refresh this long before expiry; botocore itself refreshes 15 minutes before.
REFRESH_MARGIN = dt.timedelta(minutes=20)


class CredentialError(Exception):
    """No usable credentials. ``code`` is stable for the UI; the message says what to do."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class AwsCredentials:
    """A set of AWS keys. ``repr`` never shows the secrets."""

    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    expiry: dt.datetime | None = None
    source: str = "ambient"

    def expires_within(self, margin: dt.timedelta) -> bool:
        if self.expiry is None:
            return False
        return self.expiry - dt.datetime.now(dt.timezone.utc) < margin


Fetcher = Callable[[], Awaitable[AwsCredentials]]


def ambient_fetcher(profile: str | None = None) -> Fetcher:
    """botocore's default chain: environment, shared profile, web identity, container/instance role."""
    session = botocore.session.Session(profile=profile)

    def lookup() -> AwsCredentials:
        creds = session.get_credentials()
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
    """Caches one set of credentials and refreshes it single-flight before it expires."""

    def __init__(self, fetch: Fetcher, margin: dt.timedelta = REFRESH_MARGIN):
        self._fetch = fetch
        self._margin = margin
        self._current: AwsCredentials | None = None
        self._inflight: asyncio.Future | None = None
        self.last_refresh: dt.datetime | None = None
        self.last_error: CredentialError | None = None

    async def get(self) -> AwsCredentials:
        """Current credentials, refreshed first if they are missing or close to expiry."""
        current = self._current
        if current is not None and not current.expires_within(self._margin):
            return current
        return await self.refresh()

    async def refresh(self) -> AwsCredentials:
        """Fetch new credentials; concurrent callers share one fetch."""
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._do_refresh())
            self._inflight.add_done_callback(self._clear_inflight)
        return await asyncio.shield(self._inflight)

    def _clear_inflight(self, _future: asyncio.Future) -> None:
        self._inflight = None

    async def _do_refresh(self) -> AwsCredentials:
        try:
            creds = await self._fetch()
        except CredentialError as err:
            self.last_error = err
            raise
        except Exception as err:  # botocore raises many kinds; never echo them raw (may hold keys)
            log.warning("Small Fry: credential lookup failed (%s)", type(err).__name__)
            self.last_error = CredentialError(
                "lookup-failed", f"Looking up AWS credentials failed: {type(err).__name__}."
            )
            raise self.last_error from None
        self._current = creds
        self.last_error = None
        self.last_refresh = dt.datetime.now(dt.timezone.utc)
        return creds
