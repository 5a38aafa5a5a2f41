"""Builds the credential source for ``SmallFry.credentials_mode`` and reports its status.

The status is what the widget shows: mode, state, identity, expiry, role choice, warnings and
the last error with its fix. It never holds a key or a token, whoever asks.
"""

from __future__ import annotations

import datetime as dt
import os
from urllib.parse import quote

from ..contract import CREDENTIAL_STATES
from ..identity import hub_user
from .cache import REFRESH_MARGIN, CredentialCache, CredentialError, Fetcher
from .errors import still_valid_message
from .hub import HubClient, HubEnv
from .kernels import KernelProfile
from .modes import AmbientSource, BrokerClientSource, Source, WebIdentitySource
from .sts import Sts

#: Widget states, in the order the widget documents them (the contract's list).
STATES = CREDENTIAL_STATES


class CredentialService:
    """The source, its credential cache, the kernel profile and the Hub login link.

    Who may see any of it is decided by :func:`..identity.is_server_owner`.
    """

    def __init__(self, source: Source, cache: CredentialCache, environ=os.environ):
        self.source = source
        self.cache = cache
        self.profile: KernelProfile | None = None
        self.login_url = ""
        hub_base = environ.get("JUPYTERHUB_BASE_URL", "")
        if hub_base and hub_user(environ):
            prefix = environ.get("JUPYTERHUB_SERVICE_PREFIX", "")
            self.login_url = f"{hub_base.rstrip('/')}/hub/login?next={quote(prefix, safe='')}"
        self.static_env_keys = bool(environ.get("AWS_ACCESS_KEY_ID"))

    @classmethod
    def build(cls, config, region: str, environ=os.environ, ambient: Fetcher | None = None):
        """The service for ``config.credentials_mode`` (``ambient`` uses ``ambient`` fetch)."""
        hub_env = HubEnv.from_environ(environ)
        verify = (config.ca_bundle or True) if config.verify_tls else False
        mode = config.credentials_mode
        if mode == "web-identity":
            sts = Sts(config.sts_endpoint_url, region, verify)
            source: Source = WebIdentitySource(
                HubClient(hub_env),
                sts,
                config.role_arn,
                dict(config.role_map),
                config.session_duration,
            )
        elif mode == "broker":
            source = BrokerClientSource(config.broker_url, hub_env.api_token)
        else:
            from .cache import ambient_fetcher

            source = AmbientSource(
                ambient or ambient_fetcher(), config.sts_endpoint_url, region, verify
            )
        return cls(source, CredentialCache(source.fetch), environ)

    async def choose_role(self, arn: str) -> None:
        if not self.source.roles:
            try:
                await self.cache.get()  # learn the allowed roles first
            except CredentialError:
                pass
        self.source.choose_role(arn)
        self.cache.forget()

    def warnings(self) -> list[dict]:
        found = []
        if self.static_env_keys and self.source.mode != "ambient":
            found.append(
                {
                    "code": "static-env-keys",
                    "message": "AWS_ACCESS_KEY_ID is set in the server's environment. Kernels "
                    "and terminals use those static keys instead of your per-user credentials, "
                    "and they never refresh. Ask your admin to remove them from the spawner's "
                    "environment.",
                }
            )
        if self.profile is not None and self.profile.chosen_by_user:
            found.append(
                {
                    "code": "user-profile",
                    "message": f"{self.profile.chosen_by_user} is set, so kernels and terminals "
                    "use your own AWS configuration. Use the profile 'smallfry' to get these "
                    "credentials there.",
                }
            )
        return found

    async def describe(self) -> dict:
        """The status, after making sure the keys are current (what the widget shows)."""
        try:
            await self.cache.get()
        except CredentialError:
            pass  # the status carries the error, its state and the fix
        identity = None
        if self.cache.current is not None:
            identity = await self.source.identity_of(self.cache.current)
        return self.status(identity)

    def status(self, identity=None) -> dict:
        cache = self.cache
        creds = cache.current
        now = dt.datetime.now(dt.timezone.utc)
        valid = cache.usable(creds)  # what the gateway and kernels are still handed
        error = cache.last_error
        if valid and error is None:
            state = "ok"
        elif valid:
            state = "expiring"  # keys still work, but the last refresh failed
        elif cache.refreshing:
            state = "refreshing"
        elif error is not None:
            # A passing outage after keys lapsed is "expired"; anything else says what to do.
            state = "expired" if creds is not None and error.retryable else error.state
        elif creds is not None:
            state = "expired"
        else:
            state = "refreshing"
        identity = identity or (creds.identity if creds is not None else None)
        identity = identity.to_json() if identity is not None else None
        expiry = creds.expiry if creds is not None else None
        return {
            "mode": self.source.mode,
            "state": state,
            "identity": identity,
            "expiration": _iso(expiry),
            "expires_in": int((expiry - now).total_seconds()) if expiry else None,
            "refresh_margin": int(REFRESH_MARGIN.total_seconds()),
            "last_refresh": _iso(cache.last_refresh),
            "role": self.source.role or (identity or {}).get("role", ""),
            "roles": list(self.source.roles),
            "token": dict(self.source.token),
            "warnings": self.warnings(),
            "error": self._error_json(error, expiry if state == "expiring" else None, now),
            "login_url": self.login_url,
            "profile": self.profile.to_json() if self.profile is not None else None,
        }

    @staticmethod
    def _error_json(error, still_valid_until, now: dt.datetime) -> dict | None:
        """The error as the widget shows it; while the current keys still work (a failed
        refresh), it says until when, so nobody rushes to fix what is not broken yet."""
        if error is None:
            return None
        reply = error.to_json()
        if still_valid_until is not None:
            until = _iso(still_valid_until)
            minutes = int((still_valid_until - now).total_seconds() // 60)
            reply["message"] = still_valid_message(reply["message"], until, minutes)
            reply["detail"] = {**reply["detail"], "keys_valid_until": until}
        return reply


def _iso(when: dt.datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
