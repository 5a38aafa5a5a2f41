"""The gateway's signature equals botocore's own for the same request, whatever the key."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config

from jupyterlab_smallfry.credentials import AwsCredentials
from jupyterlab_smallfry.gateway.handler import forwardable_headers
from jupyterlab_smallfry.gateway.signing import sign

from .test_gateway import ODD_KEYS

FIXED = dt.datetime(2026, 11, 24, 12, 0, 0, tzinfo=dt.timezone.utc)


def _botocore_signed(key: str) -> tuple[str, dict]:
    """Let boto3 build and sign GetObject for ``key``; capture the URL and headers it sends."""
    client = boto3.client(
        "s3",
        endpoint_url="https://127.0.0.1:9",
        region_name="eu-west-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        aws_session_token="session",
        # The gateway streams S3 bodies unsigned; compare with botocore doing the same.
        config=Config(s3={"payload_signing_enabled": False}),
    )
    captured = {}

    def capture(request, **_):
        captured["url"] = request.url
        captured["headers"] = {
            k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
        }
        raise StopIteration  # stop before anything is sent

    client.meta.events.register("before-send", capture)
    with pytest.raises(StopIteration):
        client.get_object(Bucket="bucket", Key=key, Range="bytes=0-9")
    return captured["url"], captured["headers"]


@pytest.mark.parametrize("key", ODD_KEYS)
@pytest.mark.parametrize("js_style", [False, True])
def test_signature_matches_botocore(key, js_style):
    with mock.patch("botocore.auth.get_current_datetime", return_value=FIXED):
        url, headers = _botocore_signed(key)
    if js_style:
        # The JS SDK encodes the same key differently (e.g. ' ( ) ! * as %XX); the gateway
        # forwards that URL as is and must still produce the signature AWS expects.
        url = "https://127.0.0.1:9/bucket/" + quote(key, safe="/-_.~")
    forwarded = forwardable_headers(headers.items())
    forwarded["Host"] = "127.0.0.1:9"
    creds = AwsCredentials("AKIDEXAMPLE", "secret", "session")
    with mock.patch("botocore.auth.get_current_datetime", return_value=FIXED):
        ours = sign("GET", url, forwarded, creds, "eu-west-1", "s3", body=None)
    assert ours["Authorization"] == headers["Authorization"]
