"""Fixtures: a real moto server, a real Jupyter server with Small Fry, and clients for both."""

from __future__ import annotations

import boto3
import pytest
import requests

from .processes import (
    TEST_ACCESS_KEY,
    TEST_SECRET_KEY,
    gateway_client,
    jupyter_server,
    moto_server,
)


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
def gw_s3(server):
    return gateway_client(server, "s3")


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
