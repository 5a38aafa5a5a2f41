"""What browser JavaScript can and cannot get from the gateway: no STS action that hands out
keys, and no S3 object that runs script on the Jupyter origin.

The STS checks run against the session's Jupyter server and moto (which implements
GetSessionToken, AssumeRole and GetFederationToken, so a call that got through would really
return keys); what S3 objects can do runs against moto and Ceph's radosgw; and one server
stands in front of a hostile S3 stand-in that sends its own Content-Security-Policy.
"""

from __future__ import annotations

import http.server
import threading

import botocore.exceptions
import botocore.parsers
import pytest
import requests

from .conftest import gateway_client
from .processes import jupyter_server

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HTML = b"<!doctype html><script>fetch('/api/contents').then(r => r.text()).then(alert)</script>"
ROLE = "arn:aws:iam::123456789012:role/anything"


def sts_post(server, body: str, query: str = "", headers=None) -> requests.Response:
    """A query-protocol call as @aws-sdk/client-sts sends it: a form POST to the gateway."""
    return requests.post(
        f"{server.url}smallfry/aws/sts/{query}",
        data=body.encode(),
        headers={"Authorization": f"token {server.token}", **FORM, **(headers or {})},
        timeout=60,
    )


def assert_refused(reply: requests.Response, action: str | None = None) -> None:
    assert reply.status_code == 403, (reply.status_code, reply.text[:300])
    assert reply.headers["X-Smallfry-Error"] == "ActionNotAllowed"
    message = reply.json()["message"]
    assert "c.SmallFry.sts_actions" in message
    if action:
        assert action in message
    assert "<Credentials>" not in reply.text and "SecretAccessKey" not in reply.text


@pytest.mark.parametrize(
    "action, call",
    [
        ("GetSessionToken", lambda sts: sts.get_session_token()),
        ("AssumeRole", lambda sts: sts.assume_role(RoleArn=ROLE, RoleSessionName="nb")),
        ("GetFederationToken", lambda sts: sts.get_federation_token(Name="nb")),
    ],
)
def test_sts_actions_that_return_keys_are_refused(server, action, call):
    # botocore reads STS answers as XML: the gateway's JSON refusal is an unreadable answer.
    refused = (botocore.exceptions.ClientError, botocore.parsers.ResponseParserError)
    with pytest.raises(refused, match="ActionNotAllowed"):
        call(gateway_client(server, "sts"))
    assert_refused(sts_post(server, f"Action={action}&Version=2011-06-15&RoleArn={ROLE}"), action)
    get = requests.get(
        f"{server.url}smallfry/aws/sts/?Action={action}&Version=2011-06-15&Name=nb",
        headers={"Authorization": f"token {server.token}"},
        timeout=60,
    )
    assert_refused(get, action)


def test_get_caller_identity_still_answers_the_credentials_widget(server):
    assert gateway_client(server, "sts").get_caller_identity()["Account"] == "123456789012"
    reply = sts_post(server, "Action=GetCallerIdentity&Version=2011-06-15")  # as the JS SDK
    assert reply.status_code == 200 and "<GetCallerIdentityResponse" in reply.text


@pytest.mark.parametrize(
    "query, body, headers",
    [
        ("", "Version=2011-06-15", {}),  # no Action at all
        ("", "Action=&Version=2011-06-15", {}),
        ("", "Action=getcalleridentity&Version=2011-06-15", {}),  # AWS compares exactly
        ("", "Action=GetCallerIdentity&Action=GetSessionToken", {}),
        ("", "Action=GetCallerIdentity&action=GetSessionToken", {}),
        ("", "Action=Get%53essionToken", {}),  # percent-encoded, decoded by STS
        ("?Action=GetSessionToken", "Action=GetCallerIdentity", {}),
        ("?Action=GetCallerIdentity", "Action=GetSessionToken", {}),
        ("", "Action=GetCallerIdentity%FF", {}),  # not UTF-8
        ("", '{"Action": "GetSessionToken"}', {"Content-Type": "application/x-amz-json-1.0"}),
        ("", "{}", {"X-Amz-Target": "AWSSecurityTokenServiceV20110615.GetSessionToken"}),
        ("", "Action=GetCallerIdentity", {"Content-Encoding": "gzip"}),
        ("service/sts/operation/GetSessionToken", "Action=GetCallerIdentity", {}),
    ],
)
def test_smuggled_unreadable_or_missing_actions_are_refused(server, query, body, headers):
    assert_refused(sts_post(server, body, query, headers))


def test_the_allow_list_is_a_setting(moto_url):
    with jupyter_server(
        f"--SmallFry.sts_endpoint_url={moto_url}", "--SmallFry.sts_actions=GetSessionToken"
    ) as srv:
        assert sts_post(srv, "Action=GetSessionToken").status_code == 200
        assert_refused(sts_post(srv, "Action=GetCallerIdentity"), "GetCallerIdentity")


def csp_of(reply: requests.Response) -> list[str]:
    """The directives of the one Content-Security-Policy header (two would both apply)."""
    [policy] = reply.raw.headers.getlist("Content-Security-Policy")
    return [d.strip() for d in policy.split(";") if d.strip()]


def assert_inert(reply: requests.Response) -> None:
    """A document that cannot run script nor be sniffed into one, on the Jupyter origin."""
    assert reply.raw.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    sandboxes = [d for d in csp_of(reply) if d.split()[0] == "sandbox"]
    # The first sandbox directive wins; it must grant nothing (no allow-scripts).
    assert sandboxes and sandboxes[0] == "sandbox", csp_of(reply)


def test_html_objects_from_the_gateway_cannot_run_script(
    gw_server, gw_http, backend_s3, backend_bucket
):
    backend_s3.put_object(
        Bucket=backend_bucket, Key="page.html", Body=HTML, ContentType="text/html"
    )
    backend_s3.put_object(
        Bucket=backend_bucket, Key="page.txt", Body=HTML, ContentType="text/plain"
    )
    base = f"{gw_server.url}smallfry/aws/s3/{backend_bucket}"
    for url in (
        f"{base}/page.html",
        f"{base}/page.txt?response-content-type=text%2Fhtml",  # S3 answers as HTML on request
        f"{base}/page.txt",
    ):
        reply = gw_http.get(url)
        assert reply.status_code == 200 and reply.content == HTML
        assert_inert(reply)
    assert_inert(gw_http.head(f"{base}/page.html"))


def test_gateway_errors_are_inert_too(gw_server, gw_http, backend_bucket):
    base = f"{gw_server.url}smallfry/aws"
    assert_inert(gw_http.get(f"{base}/s3/{backend_bucket}/missing.html"))  # S3's own 404
    assert_inert(gw_http.get(f"{base}/ec2/"))  # the gateway's JSON error
    assert_inert(sts_post(gw_server, "Action=GetSessionToken"))
    assert_inert(requests.get(f"{base}/s3/{backend_bucket}/x.html", timeout=60))  # not logged in


class _HostileS3(http.server.BaseHTTPRequestHandler):
    """Answers every request with HTML and headers that would let it run script."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Security-Policy", "script-src * 'unsafe-inline'")
        self.send_header("Content-Security-Policy-Report-Only", "default-src *")
        self.send_header("X-Content-Type-Options", "sniff-away")
        self.send_header("Content-Length", str(len(HTML)))
        self.end_headers()
        self.wfile.write(HTML)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hostile_gateway():
    """A Jupyter server whose S3 endpoint sends its own CSP, and whose admin replaced
    Jupyter's CSP (as deployments that frame Jupyter do) with one that has no sandbox."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HostileS3)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with jupyter_server(
            f"--SmallFry.endpoint_url=http://127.0.0.1:{httpd.server_address[1]}",
            "--ServerApp.tornado_settings="
            "{'headers': {'Content-Security-Policy': \"frame-ancestors 'self' https://portal\"}}",
        ) as srv:
            yield srv
    finally:
        httpd.shutdown()


def test_an_upstream_or_configured_csp_cannot_replace_the_sandbox(hostile_gateway):
    srv = hostile_gateway
    reply = requests.get(
        f"{srv.url}smallfry/aws/s3/bucket/page.html",
        headers={"Authorization": f"token {srv.token}"},
        timeout=60,
    )
    assert reply.status_code == 200 and reply.content == HTML
    assert_inert(reply)
    policy = "; ".join(csp_of(reply))
    assert "script-src" not in policy and "frame-ancestors 'self' https://portal" in policy
    assert "Content-Security-Policy-Report-Only" not in reply.headers
