"""The credential cache through upstream trouble: an outage must not take away keys that still
work, and a role switch must not be undone by a lookup that started before it.

STS is moto's real server (its AssumeRole issues new keys and an ARN naming the role each
time); "STS is down" is a closed port or a listener that never answers, both real. The clock
the cache uses to decide when to refresh is injected (time cannot be moved in a real
process); the keys' own expiry comes from STS.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import socket
import sys
import time

import pytest
import requests

from ..credentials import cache as cache_module
from ..credentials.cache import AwsCredentials, CredentialCache, CredentialError
from ..credentials.modes import Source
from ..credentials.service import CredentialService
from ..credentials.sts import Sts
from .processes import (
    TEST_ACCESS_KEY,
    TEST_SECRET_KEY,
    free_port,
    gateway_client,
    jupyter_server,
)

ANALYST = "arn:aws:iam::123456789012:role/analyst"
ADMIN = "arn:aws:iam::123456789012:role/admin"


class Clock:
    """The cache's clock: starts at the real time (STS expiries are real), moved by tests."""

    def __init__(self):
        self.now = dt.datetime.now(dt.timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += dt.timedelta(**delta)

    def to(self, when: dt.datetime):
        self.now = when


class AssumeRoleSource(Source):
    """Keys from STS AssumeRole on ``endpoint`` for the chosen role, like the Hub broker's.

    ``gate`` (when set to an unset ``asyncio.Event``) holds a lookup after it has read the
    role and before it calls STS: the only way to keep a lookup in flight on cue. The call
    itself is the real one.
    """

    mode = "broker"

    def __init__(self, endpoint: str):
        super().__init__()
        self.endpoint = endpoint
        self.roles = [ANALYST, ADMIN]
        self.role = ANALYST
        self.gate: asyncio.Event | None = None
        self.started: list[str] = []  # the role of each lookup, in start order
        self.held = asyncio.Event()  # a lookup is waiting at the gate

    async def fetch(self) -> AwsCredentials:
        role = self.role
        self.started.append(role)
        gate = self.gate
        if gate is not None and not gate.is_set():
            self.held.set()
            await gate.wait()
        sts = Sts(
            self.endpoint, "us-east-1", True, AwsCredentials(TEST_ACCESS_KEY, TEST_SECRET_KEY)
        )
        return await sts.assume_role(role, "alice", 3600)


@pytest.fixture
def fast_retries(monkeypatch):
    # Shorter pauses between the retries of one refresh; the failures themselves are real.
    monkeypatch.setattr(cache_module, "RETRY_DELAYS", (0.01, 0.01))


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused


async def test_a_failed_refresh_serves_the_cached_keys_until_their_last_two_minutes(
    moto_url, fast_retries
):
    clock = Clock()
    source = AssumeRoleSource(moto_url)
    cache = CredentialCache(source.fetch, clock=clock)
    first = await cache.get()
    assert first.identity.role == "analyst"

    source.endpoint = closed_port_url()  # STS goes down
    clock.to(first.expiry - dt.timedelta(minutes=19))  # inside the 20-minute refresh margin
    assert await cache.get() is first  # the refresh failed; the keys still work for 19 min
    assert cache.last_error.code == "sts-unreachable"
    tried = cache.lookups

    # Within the cooldown nobody asks STS again, and everyone still gets the working keys.
    for _ in range(5):
        assert await cache.get() is first
    assert cache.lookups == tried

    # After the cooldown the next request tries again, and still gets the keys on failure.
    clock.advance(seconds=cache_module.FAILURE_COOLDOWN.total_seconds() + 1)
    assert await cache.get() is first
    assert cache.lookups > tried

    # "Refresh now" reports the failure instead of hiding it.
    with pytest.raises(CredentialError):
        await cache.refresh()

    # Keys too close to their end are not handed out: the error is.
    clock.to(first.expiry - dt.timedelta(seconds=90))
    with pytest.raises(CredentialError) as failed:
        await cache.get()
    assert failed.value.code == "sts-unreachable"

    source.endpoint = moto_url  # STS is back
    clock.advance(seconds=cache_module.FAILURE_COOLDOWN.total_seconds() + 1)
    renewed = await cache.get()
    assert renewed.access_key != first.access_key and cache.last_error is None


@contextlib.contextmanager
def silent_listener():
    """A TCP port that accepts connections and never answers (a hung STS or proxy)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()  # resets the connections still waiting, so the lookup ends now


async def test_requests_do_not_wait_for_a_hung_refresh_while_the_keys_work(moto_url, fast_retries):
    clock = Clock()
    source = AssumeRoleSource(moto_url)
    cache = CredentialCache(source.fetch, clock=clock)
    first = await cache.get()
    with silent_listener() as hung:
        source.endpoint = hung
        clock.to(first.expiry - dt.timedelta(minutes=19))
        started = time.monotonic()
        assert await cache.get() is first
        waited = time.monotonic() - started
        assert cache.refreshing  # the refresh goes on in the background
        assert waited < cache_module.CACHED_KEYS_WAIT.total_seconds() + 1.5
        source.endpoint = closed_port_url()
    with pytest.raises(CredentialError):
        await cache.refresh()  # joins the hung refresh, which fails once the port resets


def service_for(source: AssumeRoleSource) -> CredentialService:
    return CredentialService(
        source, CredentialCache(source.fetch), environ={"JUPYTERHUB_USER": "alice"}
    )


async def test_a_role_switch_wins_over_a_lookup_for_the_old_role(moto_url):
    source = AssumeRoleSource(moto_url)
    service = service_for(source)
    cache = service.cache
    source.gate = asyncio.Event()
    waiting = asyncio.ensure_future(cache.get())  # the first request starts a lookup as analyst
    await source.held.wait()
    assert source.started == [ANALYST]

    await service.choose_role(ADMIN)
    after = asyncio.ensure_future(cache.get())  # a request made after the switch
    source.gate.set()  # the analyst lookup answers only now, after the switch

    for keys in await asyncio.gather(waiting, after):
        assert keys.identity.role == "admin", keys.identity.arn
    assert cache.current.identity.role == "admin"
    assert (await cache.get()).identity.role == "admin"
    assert service.status()["identity"]["role"] == "admin"
    assert source.started[0] == ANALYST and set(source.started[1:]) == {ADMIN}


async def test_a_failed_lookup_for_the_old_role_does_not_fail_the_new_one(moto_url, fast_retries):
    source = AssumeRoleSource(closed_port_url())  # the analyst lookup will fail...
    service = service_for(source)
    cache = service.cache
    source.gate = asyncio.Event()
    waiting = asyncio.ensure_future(cache.get())
    await source.held.wait()
    await service.choose_role(ADMIN)
    source.endpoint = moto_url  # ...the admin lookup, started after the switch, works
    source.gate.set()
    keys = await waiting
    assert keys.identity.role == "admin"
    assert cache.last_error is None and service.status()["state"] == "ok"


CREDENTIAL_PROCESS = """\
import datetime as dt, json, os, sys
if os.path.exists({flag!r}):
    sys.exit("the identity provider behind this credential_process is down")
expiry = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=50)
print(json.dumps({{
    "Version": 1, "AccessKeyId": {key!r}, "SecretAccessKey": {secret!r},
    "SessionToken": "session-token-from-credential-process",
    "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
}}))
"""


def test_refresh_now_failing_says_the_current_keys_keep_working_until_they_expire(
    tmp_path, moto_url
):
    flag = tmp_path / "down"
    script = tmp_path / "creds.py"
    script.write_text(
        CREDENTIAL_PROCESS.format(flag=str(flag), key=TEST_ACCESS_KEY, secret=TEST_SECRET_KEY)
    )
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = {sys.executable} {script}\n")
    env = {
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SESSION_TOKEN": "",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}", f"--SmallFry.sts_endpoint_url={moto_url}", env=env
    ) as srv:
        auth = {"Authorization": f"token {srv.token}"}
        base = f"{srv.url}smallfry/credentials"
        before = requests.get(base, headers=auth, timeout=60).json()
        assert before["state"] == "ok" and before["expiration"]

        flag.write_text("")  # the upstream of the keys goes down
        reply = requests.post(f"{base}/refresh", headers=auth, timeout=120)
        assert reply.status_code == 200
        status = reply.json()
        assert status["state"] == "expiring"
        assert status["expiration"] == before["expiration"]
        error = status["error"]
        assert error["code"] == "lookup-failed"
        assert "keep working until" in error["message"]
        assert before["expiration"] in error["message"]
        assert error["detail"]["keys_valid_until"] == before["expiration"]

        assert TEST_SECRET_KEY not in json.dumps(status)
        # Requests are still signed with the keys that work.
        assert "Buckets" in gateway_client(srv, "s3").list_buckets()


async def test_a_broker_answer_for_the_old_role_does_not_undo_a_role_switch():
    """broker mode: the Hub service answers a lookup that asked for the old role after the
    user switched; the source must keep the new role for the next lookup."""
    from tornado import web

    from ..credentials.modes import BrokerClientSource

    release = asyncio.Event()
    asked: list = []

    class FakeBroker(web.RequestHandler):
        # A real HTTP server in this test's loop standing in for the Hub service's answer
        # format; what matters is when it answers, which a real broker cannot be told.
        async def post(self):
            role = json.loads(self.request.body)["role"] or ANALYST
            asked.append(role)
            if len(asked) == 2:
                await release.wait()
            expiry = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            self.finish(
                {
                    "AccessKeyId": f"ASIA{len(asked):016d}",
                    "SecretAccessKey": "s",
                    "SessionToken": "t",
                    "Expiration": expiry,
                    "arn": f"arn:aws:sts::123456789012:assumed-role/{role.rsplit('/', 1)[1]}/u",
                    "role": role,
                    "roles": [ANALYST, ADMIN],
                }
            )

    port = free_port()
    server = web.Application([(r"/credentials", FakeBroker)]).listen(port, "127.0.0.1")
    try:
        source = BrokerClientSource(f"http://127.0.0.1:{port}/", "hub-token")
        await source.fetch()
        assert source.role == ANALYST and source.roles == [ANALYST, ADMIN]
        stale = asyncio.ensure_future(source.fetch())  # asks for ANALYST, held by the broker
        while len(asked) < 2:
            await asyncio.sleep(0.01)
        source.choose_role(ADMIN)
        release.set()
        await stale
        assert source.role == ADMIN
        await source.fetch()
        assert asked[-1] == ADMIN
    finally:
        server.stop()
