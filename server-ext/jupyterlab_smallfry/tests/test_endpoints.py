"""Where the gateway sends a request: only configured endpoints, the right region and style."""

import pytest
from tornado.httputil import HTTPHeaders

from jupyterlab_smallfry.gateway.endpoints import (
    ActionError,
    EndpointError,
    Endpoints,
    sts_action,
)


@pytest.fixture(autouse=True)
def no_env_endpoints(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS"):
        monkeypatch.delenv(name, raising=False)


def test_aws_uses_virtual_hosted_style_for_dns_safe_buckets():
    aws = Endpoints("", "", "eu-west-1", "auto")
    up = aws.resolve("s3", "/team-data/a%20b/c.ipynb", "x-id=GetObject")
    assert up.url == "https://team-data.s3.eu-west-1.amazonaws.com/a%20b/c.ipynb?x-id=GetObject"
    # dotted names would break TLS; odd names must never become part of a host name
    assert (
        aws.resolve("s3", "/my.bucket/k", "").url
        == "https://s3.eu-west-1.amazonaws.com/my.bucket/k"
    )
    assert aws.resolve("s3", "/evil.com%2F/k", "").url.startswith(
        "https://s3.eu-west-1.amazonaws.com/"
    )


def test_custom_endpoint_uses_path_style_and_keeps_the_raw_path():
    minio = Endpoints("http://minio.local:9000", "", "us-east-1", "auto")
    assert (
        minio.resolve("s3", "/b/%E2%9C%93+x", "prefix=a%2Bb").url
        == "http://minio.local:9000/b/%E2%9C%93+x?prefix=a%2Bb"
    )
    assert (
        Endpoints("http://minio.local:9000", "", "us-east-1", "virtual")
        .resolve("s3", "/bkt/k", "")
        .url
        == "http://bkt.minio.local:9000/k"
    )


def test_sts_goes_to_the_sts_endpoint():
    assert (
        Endpoints("", "", "eu-central-1", "auto").resolve("sts", "/", "").url
        == "https://sts.eu-central-1.amazonaws.com/"
    )
    assert (
        Endpoints("", "http://sts.local", "us-east-1", "auto").resolve("sts", "/", "").url
        == "http://sts.local/"
    )


def test_unknown_service_is_refused():
    with pytest.raises(EndpointError, match="Unknown AWS service"):
        Endpoints("", "", "us-east-1", "auto").resolve("ec2", "/", "")


def test_a_bucket_in_another_region_is_learned_from_the_redirect():
    aws = Endpoints("", "", "us-east-1", "auto")
    first = aws.resolve("s3", "/eu-bucket/key", "")
    assert aws.learn_region(first, 301, {"x-amz-bucket-region": "eu-west-2"})
    again = aws.resolve("s3", "/eu-bucket/key", "")
    assert (again.url, again.region) == (
        "https://eu-bucket.s3.eu-west-2.amazonaws.com/key",
        "eu-west-2",
    )
    assert not aws.learn_region(again, 200, {"x-amz-bucket-region": "eu-west-2"})


@pytest.mark.parametrize("region", ["evil.com/", "eu-west-1.evil.com", "", "EU-WEST-1"])
def test_only_well_formed_regions_are_learned(region):
    aws = Endpoints("", "", "us-east-1", "auto")
    up = aws.resolve("s3", "/bucket-x/key", "")
    assert not aws.learn_region(up, 301, {"x-amz-bucket-region": region})
    assert "evil" not in aws.resolve("s3", "/bucket-x/key", "").url


def test_custom_endpoints_never_follow_region_hints():
    minio = Endpoints("http://minio.local:9000", "", "us-east-1", "auto")
    up = minio.resolve("s3", "/b/k", "")
    assert not minio.learn_region(up, 301, {"x-amz-bucket-region": "eu-west-1"})


FORM = HTTPHeaders({"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})


def test_the_sts_action_is_read_from_the_query_or_the_form_body():
    assert sts_action("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15", FORM, None) == (
        "GetCallerIdentity"
    )
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    assert sts_action("POST", "", "", FORM, body) == "GetCallerIdentity"
    assert sts_action("POST", "/", "Action=GetCallerIdentity", FORM, body) == "GetCallerIdentity"


@pytest.mark.parametrize(
    "method, path, query, body",
    [
        ("GET", "/", "", None),
        ("POST", "/", "Action=GetCallerIdentity", b"Action=GetSessionToken"),
        ("POST", "/", "", b"Action=GetCallerIdentity&ACTION=AssumeRole"),
        ("POST", "/", "", b"Action=%C3"),
        ("PUT", "/", "Action=GetCallerIdentity", None),
        ("GET", "/x", "Action=GetCallerIdentity", None),
    ],
)
def test_unclear_sts_actions_are_errors(method, path, query, body):
    with pytest.raises(ActionError):
        sts_action(method, path, query, FORM, body)
