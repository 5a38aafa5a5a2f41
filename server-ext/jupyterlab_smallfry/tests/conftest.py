"""Fixtures: a real moto server, a real Jupyter server with Small Fry, and clients for both.

The gateway suites also run against Ceph's radosgw: ``s3_backend`` is moto, then Ceph, and
the ``gw_*`` and ``backend_*`` fixtures follow it. Ceph is started once per session, and only
when a selected test runs against it (``-k "not ceph"`` runs the moto half alone, on a machine
without Ceph's packages).
"""

from __future__ import annotations

import hashlib

import boto3
import pytest
import requests

from .ceph_rgw import ceph_rgw
from .processes import (
    TEST_ACCESS_KEY,
    TEST_SECRET_KEY,
    S3Endpoint,
    gateway_client,
    jupyter_server,
    moto_endpoint,
    moto_server,
)
from .s3_server import KINDS


@pytest.fixture(scope="session")
def moto_url():
    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def direct_s3(moto_url):
    """boto3 straight to moto: the independent check of what reached S3."""
    return boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=TEST_ACCESS_KEY,
        aws_secret_access_key=TEST_SECRET_KEY,
    )


@pytest.fixture(scope="session")
def server(moto_url):
    """A Jupyter server (debug logging on) whose S3 and STS endpoint is the moto server."""
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}",
        f"--SmallFry.sts_endpoint_url={moto_url}",
        "--SmallFry.roots=smallfry-test",
        "--SmallFry.roots=smallfry-test/reports/",
        debug=True,
    ) as srv:
        yield srv


@pytest.fixture(scope="session")
def ceph_endpoint():
    """A private radosgw (Ceph), for the whole session: it takes a few seconds to start."""
    with ceph_rgw() as endpoint:
        yield endpoint


@pytest.fixture(scope="session", params=KINDS)
def s3_backend(request) -> S3Endpoint:
    """The S3 server a gateway test runs against: moto, then Ceph's radosgw.

    Each is started once for the session, the first time a test asks for it.
    """
    if request.param == "moto":
        return moto_endpoint(request.getfixturevalue("moto_url"))
    return request.getfixturevalue("ceph_endpoint")


@pytest.fixture(scope="session")
def gw_server(request, s3_backend):
    """A Jupyter server (debug logging on) whose gateway fronts ``s3_backend``.

    For moto it is the session's ``server``; for Ceph, one with the Ceph user's keys and no
    session token (radosgw would take it for one of its own STS sessions and refuse).
    """
    if s3_backend.kind == "moto":
        yield request.getfixturevalue("server")
        return
    with jupyter_server(
        f"--SmallFry.endpoint_url={s3_backend.endpoint_url}",
        f"--SmallFry.sts_endpoint_url={s3_backend.endpoint_url}",
        f"--SmallFry.region={s3_backend.region}",
        "--SmallFry.roots=smallfry-test",
        env={
            "AWS_ACCESS_KEY_ID": s3_backend.access_key,
            "AWS_SECRET_ACCESS_KEY": s3_backend.secret_key,
            "AWS_SESSION_TOKEN": "",
            "AWS_DEFAULT_REGION": s3_backend.region,
        },
        debug=True,
    ) as srv:
        yield srv


@pytest.fixture(scope="session")
def gw_s3(gw_server):
    """boto3 through ``gw_server``'s gateway, as a logged-in user (the gateway signs)."""
    return gateway_client(gw_server, "s3")


@pytest.fixture(scope="session")
def backend_s3(s3_backend):
    """boto3 straight to ``s3_backend``: the independent check of what reached S3."""
    return s3_backend.client("s3")


@pytest.fixture
def backend_bucket(backend_s3, request):
    """A fresh, empty bucket on ``s3_backend`` for one test, named after it."""
    yield from _fresh_bucket(backend_s3, request.node)


@pytest.fixture
def gw_http(gw_server):
    """A requests session authenticated with ``gw_server``'s token."""
    session = requests.Session()
    session.headers["Authorization"] = f"token {gw_server.token}"
    return session


def _fresh_bucket(s3, node):
    """Create a bucket named for the test (readable in S3's logs), and empty and delete it.

    A hash of the whole test id keeps the names of parametrized tests apart, which the first
    40 characters of their names would not.
    """
    words = "".join(ch if ch.isalnum() else "-" for ch in node.originalname.lower())
    digest = hashlib.sha1(node.nodeid.encode()).hexdigest()[:8]
    name = f"t-{words[:40].strip('-')}-{digest}"
    s3.create_bucket(Bucket=name)
    yield name
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=name):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=name, Delete={"Objects": keys})
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    s3.delete_bucket(Bucket=name)


@pytest.fixture
def bucket(direct_s3, request):
    """A fresh, empty bucket for one test."""
    name = "t-" + request.node.name.lower().replace("_", "-")[:40].strip("-") + "-b"
    name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name)
    direct_s3.create_bucket(Bucket=name)
    yield name
    paginator = direct_s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=name):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            direct_s3.delete_objects(Bucket=name, Delete={"Objects": keys})
    direct_s3.delete_bucket(Bucket=name)


@pytest.fixture
def http(server):
    """A requests session authenticated with the server's token."""
    session = requests.Session()
    session.headers["Authorization"] = f"token {server.token}"
    return session
