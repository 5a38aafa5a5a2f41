"""A key rotation must not stall the Jupyter server: what it costs runs off the event loop.

Every request of the server waits while the event loop is busy, or while a worker thread
holds the GIL. After a rotation in the ``ambient`` mode the status panel asks STS who the new
keys belong to; that used to build a botocore client for each new set of keys (2-10 ms of
Python, 100-400 ms for the first one of the process, on the loop). These tests watch botocore
build STS clients, against moto's real STS: when, in which thread, and how many. How fast
the server stays is measured by ``benchmarks/bench_credentials.py``.
"""

from __future__ import annotations

import asyncio
import os
import threading
from contextlib import contextmanager

import boto3
import pytest

from ..config import SmallFry
from ..credentials import sts as sts_module
from ..credentials.cache import AwsCredentials
from ..credentials.kernels import KernelProfile
from ..credentials.modes import AmbientSource
from ..credentials.service import CredentialService
from ..credentials.sts import Sts
from .processes import TEST_ACCESS_KEY, TEST_SECRET_KEY

ROLE = "arn:aws:iam::123456789012:role/analyst"


@contextmanager
def sts_clients_built():
    """The thread ids in which botocore built an STS client from Small Fry's shared session.

    botocore announces every client it builds (``creating-client-class.sts``), so this sees
    the real construction, wherever it happens.
    """
    threads: list[int] = []

    def built(**_):
        threads.append(threading.get_ident())

    with sts_module._session_lock:
        session = sts_module._shared_session()
    session.register("creating-client-class.sts", built)
    try:
        yield threads
    finally:
        session.unregister("creating-client-class.sts", built)


def rotating_keys(moto_url: str):
    """A fetcher that hands out new keys at every lookup: AssumeRole at moto's STS.

    Its boto3 client is built here, from boto3's own session, so it is not counted above.
    """
    client = boto3.client(
        "sts",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=TEST_ACCESS_KEY,
        aws_secret_access_key=TEST_SECRET_KEY,
    )

    def assume() -> AwsCredentials:
        reply = client.assume_role(RoleArn=ROLE, RoleSessionName="alice", DurationSeconds=3600)
        keys = reply["Credentials"]
        return AwsCredentials(
            keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"], keys["Expiration"]
        )

    async def fetch() -> AwsCredentials:
        return await asyncio.get_running_loop().run_in_executor(None, assume)

    return fetch


def ambient_service(moto_url: str) -> CredentialService:
    config = SmallFry(sts_endpoint_url=moto_url, endpoint_url=moto_url)
    return CredentialService.build(config, "us-east-1", ambient=rotating_keys(moto_url))


async def test_rotations_ask_sts_for_the_new_identity_without_building_a_client(moto_url):
    service = ambient_service(moto_url)
    keys = set()
    with sts_clients_built() as threads:
        for _ in range(3):  # three rotations, as "Refresh now" makes them
            await service.cache.refresh()
            status = await service.describe()
            keys.add(service.cache.current.access_key)
            # What the panel shows still comes from STS, for the keys just issued.
            assert status["state"] == "ok"
            assert status["identity"]["arn"] == (
                "arn:aws:sts::123456789012:assumed-role/analyst/alice"
            )
    assert len(keys) == 3
    assert service.source.sts_calls == 3  # one GetCallerIdentity per new set of keys
    assert threads == [], "an STS client was built for new keys"


async def test_status_calls_asking_at_once_after_a_rotation_share_one_sts_call(moto_url):
    service = ambient_service(moto_url)
    await service.cache.refresh()
    statuses = await asyncio.gather(*(service.describe() for _ in range(6)))
    assert service.source.sts_calls == 1
    assert {s["identity"]["arn"] for s in statuses} == {
        "arn:aws:sts::123456789012:assumed-role/analyst/alice"
    }


async def test_the_identities_of_old_keys_are_not_kept_forever(moto_url):
    service = ambient_service(moto_url)
    await service.cache.refresh()
    first = service.cache.current
    await service.describe()
    for _ in range(AmbientSource.KEEP_IDENTITIES):
        await service.cache.refresh()
        await service.describe()
    asked = service.source.sts_calls
    # The first keys' identity was dropped: asking again is a new STS call (and it still works).
    identity = await service.source.identity_of(first)
    assert service.source.sts_calls == asked + 1
    assert identity.role == "analyst"


async def test_an_sts_endpoint_builds_its_client_once_off_the_loop_and_reuses_it(moto_url):
    with sts_clients_built() as threads:
        sts = Sts(moto_url, "us-east-1", True, AwsCredentials(TEST_ACCESS_KEY, TEST_SECRET_KEY))
        assert threads == [], "constructing must not build the client (it may run on the loop)"
        first = await sts.caller_identity()
        second = await sts.caller_identity()
        await sts.assume_role(ROLE, "alice", 3600)
    assert first == second and first.account == "123456789012"
    assert sts.clients_built == 1
    assert len(threads) == 1 and threads[0] != threading.get_ident()


async def test_sts_calls_keep_the_servers_aws_config_after_the_kernel_profile_is_installed(
    moto_url, tmp_path, monkeypatch
):
    # The client is now built at the first call, after start-up, when the managed profile
    # for kernels has set AWS_PROFILE and AWS_CONFIG_FILE in the server's own environment.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SDK_LOAD_CONFIG"):
        monkeypatch.setenv(name, "")  # so that undoing removes what install() sets
        monkeypatch.delenv(name)
    monkeypatch.setattr(sts_module, "_session", None)  # a server process starting afresh
    monkeypatch.setattr(sts_module, "_preloaded", False)
    service = ambient_service(moto_url)  # at extension load
    await service.cache.refresh()
    KernelProfile(str(tmp_path)).install("http://127.0.0.1:9/", "us-east-1")
    assert os.environ["AWS_PROFILE"] == "smallfry"
    status = await service.describe()
    assert status["identity"]["role"] == "analyst"


def test_a_malformed_sts_endpoint_is_refused_when_the_server_starts():
    # The client is built later, so the endpoint is checked when the service is built.
    config = SmallFry(credentials_mode="web-identity", sts_endpoint_url="https://sts example")
    with pytest.raises(ValueError, match="Invalid endpoint: https://sts example"):
        CredentialService.build(config, "us-east-1", environ={})


def test_building_the_service_reads_stss_model_once_before_any_request(monkeypatch):
    # At extension load, before the server takes requests, not at the page's first status
    # call; and once per process, however many services are built.
    monkeypatch.setattr(sts_module, "_preloaded", False)
    config = SmallFry(sts_endpoint_url="http://127.0.0.1:9")
    with sts_clients_built() as threads:
        CredentialService.build(config, "us-east-1", ambient=rotating_keys("http://127.0.0.1:9"))
        assert threads == [threading.get_ident()]
        CredentialService.build(config, "us-east-1", ambient=rotating_keys("http://127.0.0.1:9"))
        assert len(threads) == 1
