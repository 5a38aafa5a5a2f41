"""The Hub service's client for Airflow's REST API, as its machine account.

Airflow 3 with the FAB auth manager takes ``Authorization: Bearer <JWT>`` on ``/api/v2``. The
machine account is a FAB *database* user (a password, role ``SmallFryService``, created by
:mod:`.airflow_stack`): ``POST /auth/token`` with its user name and password returns a JWT even
though people log in through OIDC (``AUTH_TYPE = AUTH_OAUTH``). FAB's token endpoint checks the
password against the user table whatever the login type. SSO users get no usable password
(FAB stores the hash of an empty one and the endpoint refuses empty passwords), so this door is
closed to them; the webserver config refuses SSO logins that would land on the machine account. The token is kept until shortly before its ``exp`` and fetched again once on a
401.

Errors are typed so the Hub service can answer users precisely: :class:`AirflowUnreachable`,
:class:`AirflowUnauthorized` (401: the machine account's password is wrong or the token was
refused), :class:`AirflowForbidden` (403), :class:`AirflowNotFound` (404), and
:class:`AirflowError` for the rest. Messages carry Airflow's ``detail``, never a credential.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any
from urllib.parse import quote

import aiohttp

#: Fetch a new token this long before the current one expires.
_EARLY = 60


class AirflowError(Exception):
    """Airflow answered with an error; ``status`` is the HTTP status (0 when unreachable)."""

    def __init__(self, message: str, status: int = 0, detail: Any = None):
        super().__init__(message)
        self.status = status
        self.detail = detail


class AirflowUnreachable(AirflowError):
    """No answer from Airflow (refused, timed out, DNS)."""


class AirflowUnauthorized(AirflowError):
    """401: the machine account's credentials or token were not accepted."""


class AirflowForbidden(AirflowError):
    """403: the account may not do this (for a user token: not their DAG)."""


class AirflowNotFound(AirflowError):
    """404: no such DAG, run or role."""


_BY_STATUS = {401: AirflowUnauthorized, 403: AirflowForbidden, 404: AirflowNotFound}


class AirflowClient:
    """Async client for one Airflow, as one account. Use as ``async with``, or call
    :meth:`close`. ``token`` instead of a password: act with a given JWT (a user's ``_token``
    cookie, in tests), never refreshed."""

    def __init__(
        self,
        base_url: str,
        username: str | None = None,
        password: str | None = None,
        *,
        token: str | None = None,
        timeout: float = 30,
    ):
        if token is None and not (username and password):
            raise ValueError("AirflowClient needs a user name and password, or a token")
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self._token = token
        self._expires = float("inf") if token else 0.0
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._token_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"AirflowClient({self.base_url!r}, username={self.username!r})"

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- authentication ---------------------------------------------------------------------

    async def token(self, renew: bool = False) -> str:
        """A JWT for the account, fetched with the password when missing or about to expire."""
        async with self._token_lock:
            if self._password is None:
                return self._token  # a given token: nothing to renew it with
            if renew or not self._token or time.time() > self._expires - _EARLY:
                reply = await self._send(
                    "POST",
                    "/auth/token",
                    json={"username": self.username, "password": self._password},
                    what="getting a token for the machine account",
                )
                self._token = reply["access_token"]
                self._expires = _jwt_expiry(self._token)
            return self._token

    # -- what the Hub service does ------------------------------------------------------------

    async def ensure_role(self, name: str) -> bool:
        """Make sure the FAB role ``name`` exists (created with no permissions: a DAG's
        ``access_control`` gives it rights on that DAG only). True if it was created now."""
        try:
            await self.request("POST", "/auth/fab/v1/roles", json={"name": name, "actions": []})
        except AirflowError as err:
            if err.status == 409:  # already there
                return False
            raise
        return True

    async def trigger(self, dag_id: str, note: str | None = None, conf: dict | None = None) -> str:
        """Start a run of ``dag_id`` now; returns its ``dag_run_id``."""
        body: dict = {"logical_date": None, "conf": conf or {}}
        if note:
            body["note"] = note
        run = await self.request("POST", f"/api/v2/dags/{_seg(dag_id)}/dagRuns", json=body)
        return run["dag_run_id"]

    async def dag(self, dag_id: str) -> dict:
        """The DAG's details (``is_paused``, ``tags``, ``owners``, …)."""
        return await self.request("GET", f"/api/v2/dags/{_seg(dag_id)}")

    async def dags(self, tags: list[str] | None = None, limit: int = 100) -> list[dict]:
        """DAGs the account may see, optionally only those with all of ``tags``."""
        params = [("limit", str(limit)), *[("tags", t) for t in tags or []]]
        if tags:
            params.append(("tags_match_mode", "all"))
        return (await self.request("GET", "/api/v2/dags", params=params))["dags"]

    async def dag_runs(self, dag_id: str, limit: int = 25) -> list[dict]:
        """The newest runs of ``dag_id`` first."""
        reply = await self.request(
            "GET",
            f"/api/v2/dags/{_seg(dag_id)}/dagRuns",
            params={"limit": str(limit), "order_by": "-run_after"},
        )
        return reply["dag_runs"]

    async def dag_run(self, dag_id: str, dag_run_id: str) -> dict:
        return await self.request("GET", f"/api/v2/dags/{_seg(dag_id)}/dagRuns/{_seg(dag_run_id)}")

    async def health(self) -> dict:
        """``/api/v2/monitor/health`` (no authentication needed)."""
        return await self._send("GET", "/api/v2/monitor/health", what="checking health")

    # -- transport ----------------------------------------------------------------------------

    async def request(self, method: str, path: str, **kwargs) -> Any:
        """One authenticated call; on a 401 the token is renewed once and the call repeated."""
        what = f"{method} {path}"
        token = await self.token()
        try:
            return await self._send(method, path, token=token, what=what, **kwargs)
        except AirflowUnauthorized:
            if self._password is None:
                raise
        return await self._send(
            method, path, token=await self.token(renew=True), what=what, **kwargs
        )

    async def _send(
        self, method: str, path: str, *, what: str, token: str | None = None, **kwargs
    ) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = self.base_url + path
        try:
            async with self._session.request(method, url, headers=headers, **kwargs) as reply:
                text = await reply.text()
                status = reply.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
            raise AirflowUnreachable(
                f"Airflow at {self.base_url} did not answer ({what}): {type(err).__name__} {err}"
            ) from None
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        if status < 400:
            return body
        detail = body.get("detail") if isinstance(body, dict) else body
        cls = _BY_STATUS.get(status, AirflowError)
        raise cls(f"Airflow answered {status} to {what}: {str(detail)[:500]}", status, detail)


def _seg(value: str) -> str:
    return quote(value, safe="")


def _jwt_expiry(token: str) -> float:
    """The token's ``exp`` (read without checking the signature: Airflow checks it)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return time.time() + 300  # unknown: ask again in five minutes
