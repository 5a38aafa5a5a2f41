"""Response header names pass through the gateway exactly as S3 sent them.

Header names are case-insensitive in HTTP, but not to every client: botocore builds an
object's ``Metadata`` from the ``x-amz-meta-*`` names with their case kept, so a gateway that
re-cases ``x-amz-meta-owner`` to ``X-Amz-Meta-Owner`` hands boto3, the AWS CLI and s3fs the
key ``Owner`` for what S3 stores as ``owner``. Browsers lower-case every name, which is why
the JavaScript SDK never showed it. Checked against moto and Ceph's radosgw (which, like S3,
store metadata keys lower-cased) and against a stand-in that sends repeated and oddly cased
names.
"""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

from .processes import S3Endpoint, jupyter_server

METADATA = {"lower": "a", "Mixed-Case": "b", "CamelKey": "c", "UPPER": "d"}
#: What the gateway never passes back (hop-by-hop, its own) and CORS grants.
NOT_RELAYED = {"server", "date", "connection", "keep-alive", "transfer-encoding", "set-cookie"}


def raw_headers(url: str, method: str = "HEAD", headers=None) -> tuple[int, list[tuple[str, str]]]:
    """Status and header lines (names byte-for-byte, repeats kept, in order) of one request."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, headers=headers or {})
        reply = conn.getresponse()
        reply.read()
        return reply.status, reply.getheaders()
    finally:
        conn.close()


def signed_for(s3: S3Endpoint, method: str, url: str) -> dict[str, str]:
    """The headers of a SigV4-signed request straight to ``s3`` (anonymous reads are refused)."""
    request = botocore.awsrequest.AWSRequest(method, url)
    creds = botocore.credentials.Credentials(s3.access_key, s3.secret_key)
    botocore.auth.S3SigV4Auth(creds, "s3", s3.region).add_auth(request)
    return dict(request.prepare().headers)


def relayed(names) -> list[str]:
    return [
        n
        for n in names
        if n.lower() not in NOT_RELAYED and not n.lower().startswith("access-control-")
    ]


def test_boto3_sees_user_metadata_keys_as_s3_stores_them(gw_s3, backend_s3, backend_bucket):
    gw_s3.put_object(Bucket=backend_bucket, Key="tagged.csv", Body=b"x,y\n", Metadata=METADATA)
    stored = backend_s3.head_object(Bucket=backend_bucket, Key="tagged.csv")["Metadata"]
    # S3 (moto and radosgw too) lower-cases metadata keys on write: every client must see that.
    assert stored == {k.lower(): v for k, v in METADATA.items()}
    assert gw_s3.head_object(Bucket=backend_bucket, Key="tagged.csv")["Metadata"] == stored
    assert gw_s3.get_object(Bucket=backend_bucket, Key="tagged.csv")["Metadata"] == stored


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_header_names_are_byte_for_byte_those_of_s3(
    gw_server, s3_backend, backend_s3, backend_bucket, method
):
    backend_s3.put_object(Bucket=backend_bucket, Key="tagged.csv", Body=b"x,y\n", Metadata=METADATA)
    direct_url = f"{s3_backend.endpoint_url}/{backend_bucket}/tagged.csv"
    status, direct = raw_headers(direct_url, method, signed_for(s3_backend, method, direct_url))
    assert status == 200, direct
    status, through = raw_headers(
        f"{gw_server.url}smallfry/aws/s3/{backend_bucket}/tagged.csv",
        method,
        {"Authorization": f"token {gw_server.token}"},
    )
    assert status == 200, through
    direct_names = [n for n, _ in direct]
    through_names = [n for n, _ in through]
    assert "ETag" in direct_names and "ETag" in through_names, through_names
    meta = [n for n in direct_names if n.lower().startswith("x-amz-meta-")]
    assert sorted(meta) == sorted(f"x-amz-meta-{k.lower()}" for k in METADATA)
    assert [n for n in through_names if n.lower().startswith("x-amz-meta-")] == meta
    # Every name S3 sent that the gateway passes on arrives spelled as S3 spelled it.
    missing = set(relayed(direct_names)) - set(through_names)
    assert not missing, (missing, through_names)
    # ... and not a second time in tornado's Http-Header-Case.
    assert len({n.lower() for n in through_names}) == len(through_names), through_names


#: Lines an S3-compatible server might send: repeated names, odd case, a lower-case ETag.
ODD_LINES = [
    ("etag", '"0123456789abcdef"'),
    ("x-amz-meta-dup", "one"),
    ("X-AMZ-ID-2", "abc/def="),
    ("x-amz-meta-dup", "two"),
    ("content-type", "text/csv"),
    # UTF-8 bytes of "café" as latin-1 text, the way http.server and http.client carry bytes.
    ("x-amz-meta-place", "café".encode().decode("latin-1")),
    ("Content-Length", "4"),
]


class _OddS3(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.send_response(200)
        for name, value in ODD_LINES:
            self.send_header(name, value)
        self.end_headers()

    def do_GET(self):
        self.do_HEAD()
        self.wfile.write(b"x,y\n")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def odd_gateway():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OddS3)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with jupyter_server(
            f"--SmallFry.endpoint_url=http://127.0.0.1:{httpd.server_address[1]}"
        ) as srv:
            yield srv
    finally:
        httpd.shutdown()


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_repeated_and_oddly_cased_names_pass_unchanged(odd_gateway, method):
    srv = odd_gateway
    status, through = raw_headers(
        f"{srv.url}smallfry/aws/s3/bucket/data.csv", method, {"Authorization": f"token {srv.token}"}
    )
    assert status == 200
    sent = {n for n, _ in ODD_LINES}
    assert sorted(line for line in through if line[0] in sent) == sorted(ODD_LINES)
    # Repeated lines stay separate lines, in the order S3 sent them.
    assert [v for n, v in through if n.lower() == "x-amz-meta-dup"] == ["one", "two"]
    # tornado adds no ETag of its own next to upstream's lower-case one.
    assert [n for n, _ in through if n.lower() == "etag"] == ["etag"]
    # The gateway's own security headers still go out, once each.
    assert [v for n, v in through if n.lower() == "x-content-type-options"] == ["nosniff"]
    [policy] = [v for n, v in through if n.lower() == "content-security-policy"]
    assert policy.startswith("sandbox;")
