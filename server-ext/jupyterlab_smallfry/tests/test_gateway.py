"""The AWS gateway against real S3 servers: every S3 call the drive makes, errors, auth.

The S3 calls run twice, against moto and against Ceph's radosgw (``s3_backend``): radosgw
checks every signature, so a key the gateway signs in a form S3 does not expect fails there
even though moto, which checks none, lets it through. What the gateway decides on its own
(login, XSRF, where it forwards, STS) is tested once, against moto.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from typing import ClassVar

import botocore.exceptions
import pytest
import requests

from .conftest import gateway_client
from .processes import TEST_SESSION_TOKEN, jupyter_server

ODD_KEYS = [
    "plain.txt",
    "with space/and more spaces.ipynb",
    "hash#and%percent+plus?question&amp=equals.csv",
    "unicode/données/数据/ファイル 😀.txt",
    " leading and trailing spaces ",
    "trailing.dots...",
    "no-extension/_SUCCESS",
    "semi;colon,comma'quote\"dq(paren)!*~@$.bin",
    "a//double-slash/b",
]


def test_listing_one_level_with_folders_and_pages(gw_s3, backend_s3, backend_bucket):
    for i in range(7):
        backend_s3.put_object(Bucket=backend_bucket, Key=f"dir/file-{i}.txt", Body=b"x")
    backend_s3.put_object(
        Bucket=backend_bucket, Key="dir/sub/deep/x.csv", Body=b"y"
    )  # no marker objects
    backend_s3.put_object(Bucket=backend_bucket, Key="dir/empty/", Body=b"")  # a marker
    pages = list(
        gw_s3.get_paginator("list_objects_v2").paginate(
            Bucket=backend_bucket, Prefix="dir/", Delimiter="/", PaginationConfig={"PageSize": 3}
        )
    )
    assert len(pages) == 3
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    folders = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
    assert keys == [f"dir/file-{i}.txt" for i in range(7)]
    assert sorted(folders) == ["dir/empty/", "dir/sub/"]


@pytest.mark.parametrize("key", ODD_KEYS)
def test_odd_keys_round_trip_byte_exact(gw_s3, backend_s3, backend_bucket, key):
    body = hashlib.sha256(key.encode()).digest() * 100 + bytes(range(256))
    gw_s3.put_object(Bucket=backend_bucket, Key=key, Body=body)
    assert backend_s3.get_object(Bucket=backend_bucket, Key=key)["Body"].read() == body
    assert gw_s3.get_object(Bucket=backend_bucket, Key=key)["Body"].read() == body
    assert gw_s3.head_object(Bucket=backend_bucket, Key=key)["ContentLength"] == len(body)
    listed = gw_s3.list_objects_v2(Bucket=backend_bucket, Prefix=key)["Contents"]
    assert [o["Key"] for o in listed] == [key]
    gw_s3.copy_object(
        Bucket=backend_bucket, Key=key + ".copy", CopySource={"Bucket": backend_bucket, "Key": key}
    )
    assert backend_s3.get_object(Bucket=backend_bucket, Key=key + ".copy")["Body"].read() == body
    gw_s3.delete_object(Bucket=backend_bucket, Key=key)
    with pytest.raises(botocore.exceptions.ClientError):
        backend_s3.head_object(Bucket=backend_bucket, Key=key)


def test_conditional_save_detects_a_concurrent_writer(gw_s3, backend_s3, backend_bucket):
    etag = gw_s3.put_object(Bucket=backend_bucket, Key="nb.ipynb", Body=b"{}")["ETag"]
    backend_s3.put_object(Bucket=backend_bucket, Key="nb.ipynb", Body=b'{"someone": "else"}')
    with pytest.raises(botocore.exceptions.ClientError) as err:
        gw_s3.put_object(Bucket=backend_bucket, Key="nb.ipynb", Body=b'{"mine": 1}', IfMatch=etag)
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert (
        backend_s3.get_object(Bucket=backend_bucket, Key="nb.ipynb")["Body"].read()
        == b'{"someone": "else"}'
    )


#: radosgw 16.2 compares a PUT's If-Match with the bare hex digest, so the quoted ETag it
#: hands out itself never matches (a GET's If-Match, and an unquoted PUT If-Match, do). The
#: drive works around it (src/s3/conflicts.ts: on a 412 it checks with a HEAD, then retries
#: unquoted); any other client gets a false conflict.
CEPH_PUT_IF_MATCH = (
    "radosgw 16.2 matches a PUT's If-Match only against the unquoted ETag, so a write "
    "conditioned on the ETag it returned is refused as a conflict"
)


def test_conditional_save_over_the_version_read_succeeds(
    request, s3_backend, gw_s3, backend_s3, backend_bucket
):
    """S3 compares If-Match with the ETag as it returns it, quotes included (RFC 7232 entity
    tags; AWS's PutObject and conditional-writes documentation), so a save with the ETag
    just read goes through. moto does; radosgw 16.2 does not (strict xfail: when a Ceph
    release fixes it, this test says so)."""
    if s3_backend.kind == "ceph":
        request.applymarker(pytest.mark.xfail(reason=CEPH_PUT_IF_MATCH, strict=True))
    backend_s3.put_object(Bucket=backend_bucket, Key="nb.ipynb", Body=b'{"someone": "else"}')
    fresh = backend_s3.head_object(Bucket=backend_bucket, Key="nb.ipynb")["ETag"]
    assert fresh.startswith('"') and fresh.endswith('"')
    gw_s3.put_object(Bucket=backend_bucket, Key="nb.ipynb", Body=b'{"mine": 2}', IfMatch=fresh)
    assert (
        backend_s3.get_object(Bucket=backend_bucket, Key="nb.ipynb")["Body"].read()
        == b'{"mine": 2}'
    )


def test_multipart_upload_and_abort(gw_s3, backend_s3, backend_bucket):
    part = 5 * 1024 * 1024
    data = [bytes([i]) * part for i in range(3)] + [b"tail"]
    upload = gw_s3.create_multipart_upload(
        Bucket=backend_bucket, Key="big file.bin", ContentType="application/x-parquet"
    )
    parts = [
        {
            "PartNumber": n,
            "ETag": gw_s3.upload_part(
                Bucket=backend_bucket,
                Key="big file.bin",
                UploadId=upload["UploadId"],
                PartNumber=n,
                Body=chunk,
            )["ETag"],
        }
        for n, chunk in enumerate(data, start=1)
    ]
    gw_s3.complete_multipart_upload(
        Bucket=backend_bucket,
        Key="big file.bin",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )
    head = backend_s3.head_object(Bucket=backend_bucket, Key="big file.bin")
    assert head["ETag"].strip('"').endswith("-4")
    assert head["ContentType"] == "application/x-parquet"
    assert backend_s3.get_object(Bucket=backend_bucket, Key="big file.bin")[
        "Body"
    ].read() == b"".join(data)
    second = gw_s3.create_multipart_upload(Bucket=backend_bucket, Key="abandoned.bin")
    gw_s3.abort_multipart_upload(
        Bucket=backend_bucket, Key="abandoned.bin", UploadId=second["UploadId"]
    )
    assert not backend_s3.list_multipart_uploads(Bucket=backend_bucket).get("Uploads")


#: radosgw 16.2 answers CompleteMultipartUpload with an empty <ETag/> (fixed in later Ceph).
CEPH_COMPLETE_ETAG = (
    "radosgw 16.2 answers CompleteMultipartUpload with an empty ETag: a client must HEAD "
    "the object for it (the drive does) before a conditional save"
)


def test_completing_a_multipart_upload_names_the_new_objects_etag(
    request, s3_backend, gw_s3, backend_s3, backend_bucket
):
    """S3's CompleteMultipartUpload result carries the new object's ETag ("<md5>-<parts>",
    AWS's CompleteMultipartUpload reference), which the drive keeps to save over exactly the
    version it wrote. moto does; radosgw 16.2 sends an empty one (strict xfail)."""
    if s3_backend.kind == "ceph":
        request.applymarker(pytest.mark.xfail(reason=CEPH_COMPLETE_ETAG, strict=True))
    upload = gw_s3.create_multipart_upload(Bucket=backend_bucket, Key="two parts.bin")
    parts = [
        {
            "PartNumber": n,
            "ETag": gw_s3.upload_part(
                Bucket=backend_bucket,
                Key="two parts.bin",
                UploadId=upload["UploadId"],
                PartNumber=n,
                Body=bytes([n]) * (5 * 1024 * 1024 if n == 1 else 10),
            )["ETag"],
        }
        for n in (1, 2)
    ]
    done = gw_s3.complete_multipart_upload(
        Bucket=backend_bucket,
        Key="two parts.bin",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )
    stored = backend_s3.head_object(Bucket=backend_bucket, Key="two parts.bin")["ETag"]
    assert stored.endswith('-2"')
    assert done.get("ETag") == stored


def test_batch_delete_reports_per_key(gw_s3, backend_s3, backend_bucket):
    keys = [f"folder/{i}.txt" for i in range(25)]
    for key in keys:
        backend_s3.put_object(Bucket=backend_bucket, Key=key, Body=b"1")
    result = gw_s3.delete_objects(
        Bucket=backend_bucket, Delete={"Objects": [{"Key": k} for k in keys]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == sorted(keys)
    assert backend_s3.list_objects_v2(Bucket=backend_bucket)["KeyCount"] == 0


def test_range_get_and_list_buckets(gw_s3, backend_s3, backend_bucket):
    backend_s3.put_object(Bucket=backend_bucket, Key="r.bin", Body=bytes(range(100)))
    got = gw_s3.get_object(Bucket=backend_bucket, Key="r.bin", Range="bytes=10-19")
    assert got["Body"].read() == bytes(range(10, 20))
    assert backend_bucket in [b["Name"] for b in gw_s3.list_buckets()["Buckets"]]


def test_head_and_empty_objects_keep_their_content_type(gw_s3, backend_s3, backend_bucket):
    # A HEAD (or an empty body) finishes without a flush; the type must still be S3's.
    parquet = "application/x-parquet"
    backend_s3.put_object(Bucket=backend_bucket, Key="t.parquet", Body=b"PAR1", ContentType=parquet)
    backend_s3.put_object(Bucket=backend_bucket, Key="empty.csv", Body=b"", ContentType="text/csv")
    assert gw_s3.head_object(Bucket=backend_bucket, Key="t.parquet")["ContentType"] == parquet
    assert gw_s3.get_object(Bucket=backend_bucket, Key="t.parquet")["ContentType"] == parquet
    assert gw_s3.get_object(Bucket=backend_bucket, Key="empty.csv")["ContentType"] == "text/csv"


def test_upstream_cors_headers_are_not_passed_on(gw_server, gw_http, backend_bucket):
    response = gw_http.get(
        f"{gw_server.url}smallfry/aws/s3/{backend_bucket}?list-type=2",
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 200
    # Jupyter's own policy may echo the origin for token-authenticated calls; S3's "*" and
    # its other CORS grants must not come along.
    cors = {
        k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")
    }
    assert set(cors) <= {"access-control-allow-origin"}
    assert cors.get("access-control-allow-origin", "https://evil.example") == "https://evil.example"


def test_s3_errors_reach_the_client_intact(gw_s3, backend_bucket):
    with pytest.raises(botocore.exceptions.ClientError) as err:
        gw_s3.get_object(Bucket=backend_bucket, Key="missing.ipynb")
    assert err.value.response["Error"]["Code"] == "NoSuchKey"
    with pytest.raises(botocore.exceptions.ClientError) as err:
        gw_s3.list_objects_v2(Bucket="no-such-bucket-here")
    assert err.value.response["Error"]["Code"] == "NoSuchBucket"


def test_sts_get_caller_identity(server):
    sts = gateway_client(server, "sts")
    identity = sts.get_caller_identity()
    assert identity["Account"] and identity["Arn"].startswith("arn:aws:")


def test_unauthenticated_requests_are_refused(server, bucket):
    anonymous = gateway_client(server, "s3", token="")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        anonymous.list_objects_v2(Bucket=bucket)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    wrong = gateway_client(server, "s3", token="not-the-token")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        wrong.put_object(Bucket=bucket, Key="x", Body=b"x")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert requests.get(f"{server.url}smallfry/aws/s3/{bucket}?list-type=2").status_code == 403


def _cookie_session(server) -> requests.Session:
    """Log in like a browser: the token once on /login, then only the cookie."""
    session = requests.Session()
    session.get(f"{server.url}login")
    xsrf = session.cookies["_xsrf"]
    reply = session.post(
        f"{server.url}login", data={"password": server.token, "_xsrf": xsrf}, allow_redirects=False
    )
    assert reply.status_code == 302
    return session


def test_writes_need_the_xsrf_token_when_cookie_authenticated(server, direct_s3, bucket):
    session = _cookie_session(server)
    url = f"{server.url}smallfry/aws/s3/{bucket}/from-browser.txt"
    assert session.get(f"{server.url}smallfry/aws/s3/{bucket}?list-type=2").status_code == 200
    assert session.put(url, data=b"no xsrf").status_code == 403
    with pytest.raises(botocore.exceptions.ClientError):
        direct_s3.head_object(Bucket=bucket, Key="from-browser.txt")
    ok = session.put(url, data=b"with xsrf", headers={"X-XSRFToken": session.cookies["_xsrf"]})
    assert ok.status_code == 200
    assert (
        direct_s3.get_object(Bucket=bucket, Key="from-browser.txt")["Body"].read() == b"with xsrf"
    )


class _Trap(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        _Trap.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_PUT = do_POST = do_HEAD = do_DELETE = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def trap():
    """A server on another port standing for 'anywhere but the configured endpoint'."""
    _Trap.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_gateway_only_forwards_to_the_configured_endpoint(server, http, trap):
    base = f"{server.url}smallfry/aws"
    attempts = [
        f"{base}/{trap}/x",
        f"{base}/s3//{trap}/x",
        f"{base}/s3/@{trap}/x",
        f"{base}/s3/..%2F..%2F{trap}/x",
        f"{base}/sts/%2F%2F{trap}/",
        f"{base}/ec2/?Action=DescribeInstances",
    ]
    for url in attempts:
        response = http.get(url, headers={"Host": trap, "X-Forwarded-Host": trap})
        assert response.status_code in (400, 403, 404), url
    assert _Trap.hits == []
    assert http.get(f"{base}/ec2/").json()["message"].startswith("Unknown AWS service")


def test_unreachable_endpoint_is_a_clear_502(moto_url):
    from .processes import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    with jupyter_server(f"--SmallFry.endpoint_url={dead}") as srv:
        response = requests.get(
            f"{srv.url}smallfry/aws/s3/some-bucket?list-type=2",
            headers={"Authorization": f"token {srv.token}"},
        )
        assert response.status_code == 502
        assert "unreachable" in response.json()["message"]
        assert response.json()["code"] == "EndpointUnreachable"


def test_no_credentials_in_logs_or_responses(s3_backend, gw_server, gw_s3, backend_bucket):
    """Runs last in this module: every call above went through the same debug-logging server."""
    gw_s3.put_object(Bucket=backend_bucket, Key="k", Body=b"v")
    response = gw_s3.get_object(Bucket=backend_bucket, Key="k")
    headers = str(response["ResponseMetadata"]["HTTPHeaders"])
    log = gw_server.log_text()
    assert "smallfry/aws/s3" in log  # the requests were logged ...
    for secret in (
        s3_backend.access_key,
        s3_backend.secret_key,
        TEST_SESSION_TOKEN,
        "Signature=",
        "X-Amz-Security-Token",
    ):
        assert secret not in log  # ... but nothing credential-shaped
        assert secret not in headers
