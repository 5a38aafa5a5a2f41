"""The three places AWS keys come from: ``ambient``, ``web-identity`` and ``broker``.

Each source has the same small surface: ``fetch()`` (one lookup; the ``CredentialCache``
caches and single-flights it), the roles the user may switch between, the chosen role and
non-secret facts about the login token for the status panel.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..logs import log
from .cache import AwsCredentials, CredentialError, Fetcher, Identity
from .hub import HubClient, groups_of, jwt_claims
from .sts import Sts, preload, session_name

#: Never hand an id_token to STS that expires sooner than this; ask the Hub for a new one.
TOKEN_MIN_LIFE = 30


class Source:
    mode = "ambient"

    def __init__(self):
        self.roles: list[str] = []
        self.role: str = ""
        self.token: dict = {}  # non-secret facts about the login token: iss, aud, sub, exp

    async def fetch(self) -> AwsCredentials:  # pragma: no cover - interface
        raise NotImplementedError

    def choose_role(self, arn: str) -> None:
        if arn not in self.roles:
            raise CredentialError("role-not-allowed")
        self.role = arn

    async def identity_of(self, creds: AwsCredentials) -> Identity | None:
        """Who ``creds`` belong to; only the status panel asks (never on the request path)."""
        return creds.identity


class AmbientSource(Source):
    """botocore's default chain (or fixed demo keys); the identity is asked of STS once per key."""

    mode = "ambient"

    #: Identities remembered, newest last: the current keys' and a few before them (a
    #: rotation every hour must not grow this for the life of the server).
    KEEP_IDENTITIES = 4

    def __init__(self, fetch: Fetcher, sts_endpoint: str, region: str, verify=True):
        super().__init__()
        self._fetch = fetch
        #: One lookup per access key id, shared by every status call that asks meanwhile.
        self._identities: dict[str, asyncio.Future] = {}
        #: Unsigned: each GetCallerIdentity is signed with the keys it asks about.
        self._sts = Sts(sts_endpoint, region, verify)
        self.sts_calls = 0  # GetCallerIdentity calls made (tests)
        preload()  # the status panel asks STS about every new key (see sts.preload)

    async def fetch(self) -> AwsCredentials:
        return await self._fetch()

    async def identity_of(self, creds: AwsCredentials) -> Identity | None:
        # One GetCallerIdentity per key, asked only by the status panel: an S3-only endpoint
        # without STS must not slow down the gateway. After a rotation several status calls
        # may ask at once; they share the one call.
        lookup = self._identities.get(creds.access_key)
        if lookup is None:
            lookup = asyncio.ensure_future(self._ask_sts(creds))
            self._identities[creds.access_key] = lookup
            while len(self._identities) > self.KEEP_IDENTITIES:
                del self._identities[next(iter(self._identities))]
        # A status call that goes away must not cancel the lookup the others wait for.
        return await asyncio.shield(lookup)

    async def _ask_sts(self, creds: AwsCredentials) -> Identity | None:
        self.sts_calls += 1
        try:
            return await self._sts.caller_identity_of(creds)
        # No STS here (e.g. MinIO), or any other failure: the keys may still work for S3,
        # and the status panel must not fail over an optional detail.
        except Exception as err:  # noqa: BLE001 - see above
            log.info("Small Fry: no identity for the ambient keys (%s)", type(err).__name__)
            return None


class WebIdentitySource(Source):
    """The owner's id_token from the Hub's auth_state, exchanged with AssumeRoleWithWebIdentity."""

    mode = "web-identity"

    def __init__(self, hub: HubClient, sts: Sts, role_arn: str, role_map: dict, duration: int):
        super().__init__()
        self.hub = hub
        self.sts = sts
        self._role_arn = role_arn
        self._role_map = role_map
        self._duration = duration
        preload()  # every lookup calls STS (see sts.preload)

    async def fetch(self) -> AwsCredentials:
        token, claims = await self._id_token()
        if _expires_soon(claims):
            # The Hub renews tokens on an authenticated request (with our refresh_user_hook);
            # ask once more before giving up.
            token, claims = await self._id_token()
            if _expires_soon(claims):
                raise CredentialError("ExpiredToken", detail=self._token_detail())
        role = self.role
        try:
            return await self._exchange(role, token)
        except CredentialError as err:
            if err.code != "ExpiredToken":
                raise self._with_detail(err) from None
        # STS says the token expired (clock skew, or revoked early): one forced Hub refresh.
        token, claims = await self._id_token()
        try:
            return await self._exchange(role, token)
        except CredentialError as err:
            raise self._with_detail(err) from None

    async def _exchange(self, role: str, token: str) -> AwsCredentials:
        name = session_name(self.hub.env.user)
        return await self.sts.assume_role_with_web_identity(role, name, token, self._duration)

    async def _id_token(self) -> tuple[str, dict]:
        auth_state = await self.hub.auth_state()
        token = auth_state.get("id_token")
        if not token:
            raise CredentialError("no-id-token")
        claims = jwt_claims(token)
        self.token = {key: claims[key] for key in ("iss", "aud", "sub", "exp") if key in claims}
        if isinstance(self.token.get("aud"), list) and len(self.token["aud"]) == 1:
            self.token["aud"] = self.token["aud"][0]
        self.roles = _allowed_roles(self._role_map, groups_of(auth_state, claims), self._role_arn)
        if self.role not in self.roles:
            self.role = self.roles[0] if self.roles else ""
        if not self.role:
            raise CredentialError("no-role")
        return token, claims

    def _token_detail(self) -> dict:
        return {k: v for k, v in self.token.items() if k in ("iss", "aud", "exp")}

    def _with_detail(self, err: CredentialError) -> CredentialError:
        if err.code in ("InvalidIdentityToken", "ExpiredToken", "IDPRejectedClaim", "AccessDenied"):
            err.detail = {**self._token_detail(), "role": self.role, **err.detail}
        return err


class BrokerClientSource(Source):
    """Asks the Small Fry broker service on the Hub, presenting this server's Hub API token."""

    mode = "broker"

    def __init__(self, url: str, api_token: str, http: AsyncHTTPClient | None = None):
        super().__init__()
        self._url = url.rstrip("/") + "/credentials" if url else ""
        self._api_token = api_token
        self._http = http or AsyncHTTPClient()

    async def fetch(self) -> AwsCredentials:
        if not self._url:
            raise CredentialError("no-broker")
        if not self._api_token:
            raise CredentialError("not-under-hub")
        asked = self.role  # a role switch during this call must not be undone by its answer
        request = HTTPRequest(
            self._url,
            method="POST",
            headers={
                "Authorization": f"token {self._api_token}",
                "Content-Type": "application/json",
            },
            body=json.dumps({"role": asked or None}),
            request_timeout=30,
        )
        try:
            response = await self._http.fetch(request)
        except HTTPClientError as err:
            code = "broker-refused" if err.code in (401, 403) else "broker-unreachable"
            if err.response is not None and err.response.body:
                try:
                    reply = json.loads(err.response.body)
                    code = reply.get("code") or code
                    detail = reply.get("detail") or {}
                    if "roles" in reply:
                        self.roles = list(reply["roles"])
                except ValueError:
                    detail = {}
            else:
                detail = {}
            log.warning("Small Fry: broker answered HTTP %s (%s)", err.code, code)
            raise CredentialError(code, detail=detail) from None
        except OSError as err:
            log.warning("Small Fry: broker unreachable (%s)", type(err).__name__)
            raise CredentialError("broker-unreachable") from None
        reply = json.loads(response.body)
        self.roles = list(reply.get("roles", []))
        if self.role == asked:
            self.role = reply.get("role", "")
        expiry = dt.datetime.fromisoformat(reply["Expiration"].replace("Z", "+00:00"))
        identity = Identity.from_arn(reply.get("arn", ""), reply.get("source_identity", ""))
        return AwsCredentials(
            reply["AccessKeyId"],
            reply["SecretAccessKey"],
            reply["SessionToken"],
            expiry,
            "broker",
            identity,
        )


def _allowed_roles(role_map: dict, groups: list[str], default: str) -> list[str]:
    roles = [role_map[g] for g in groups if g in role_map]
    if default:
        roles.append(default)
    return list(dict.fromkeys(roles))


def _expires_soon(claims: dict) -> bool:
    exp = claims.get("exp")
    return isinstance(exp, (int, float)) and exp - time.time() < TOKEN_MIN_LIFE
