"""AWS for the credential tests: moto enforcing IAM, and an STS front that checks id_tokens.

moto's server with ``INITIAL_NO_AUTH_ACTION_COUNT`` enforces IAM policies after the first
N calls (here: creating the admin user, its policy and its key). It does not check web
identity tokens at all, and crashes on the unsigned AssumeRoleWithWebIdentity call while
enforcing. ``StsFront`` therefore does what real STS does with an id_token — verifies the
signature against the issuer's JWKS, ``iss``, ``aud`` and ``exp`` — and then has moto issue
the session with AssumeRole. Every other STS call is forwarded to moto untouched (the
signature stays valid: the Host header is kept). It records what reached STS.

Fault switches (``throttle``, ``delay``, ``expire_in``) stand in for behaviour real STS shows
but cannot be provoked on demand: throttling, a slow answer, sessions shorter than 15 minutes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import boto3
import jwt
import requests

from .processes import moto_server

ACCOUNT = "123456789012"
BUCKET = "corp-notebooks"
ROLES = ("nb-alice", "nb-bob", "nb-analyst")


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


@dataclass
class Aws:
    url: str  # moto
    admin: dict  # admin access key (an IAM user in moto with "*" on "*")

    def client(self, service: str, creds: dict | None = None):
        creds = creds or self.admin
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds.get("SessionToken"),
        )


@contextlib.contextmanager
def enforcing_moto():
    """moto enforcing IAM, seeded: roles nb-alice/nb-bob (own home prefix), bucket, objects."""
    with moto_server(enforce_iam_after=3) as url:
        yield _seed(url)


def _seed(url: str) -> Aws:
    anyone = {"AccessKeyId": "AKIASETUPONLY0000000", "SecretAccessKey": "setup"}
    iam = Aws(url, anyone).client("iam")
    iam.create_user(UserName="admin")
    iam.put_user_policy(
        UserName="admin",
        PolicyName="everything",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    aws = Aws(url, {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]})
    iam = aws.client("iam")
    # moto ignores trust policies and does not expand ${aws:PrincipalTag/...}: one role per
    # user with a literal prefix stands in for the shared tag-based role of the examples.
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
    for role in ROLES:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
        user = role.split("-", 1)[1]
        iam.put_role_policy(
            RoleName=role,
            PolicyName="home",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:PutObject"],
                            "Resource": f"arn:aws:s3:::{BUCKET}/home/{user}/*",
                        },
                        {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"},
                    ],
                }
            ),
        )
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for user in ("alice", "bob", "analyst"):
        s3.put_object(Bucket=BUCKET, Key=f"home/{user}/hello.txt", Body=f"hello {user}".encode())
    return aws


@dataclass
class StsCall:
    action: str
    role: str = ""
    session_name: str = ""
    sub: str = ""
    token_sha: str = ""  # sha256 of the id_token that reached STS
    tags: dict = field(default_factory=dict)
    source_identity: str = ""
    answer: str = ""  # "ok" or the error code returned


class StsFront:
    """The STS endpoint the tests give Small Fry (``SmallFry.sts_endpoint_url``)."""

    def __init__(self, aws: Aws, trusted: dict[str, str]):
        self.aws = aws
        self.trusted = dict(trusted)  # issuer -> audience
        self.calls: list[StsCall] = []
        self.throttle = 0  # answer the next N calls with Throttling
        self.delay = 0.0  # seconds to wait before answering
        self.expire_in: int | None = None  # rewrite Expiration to now + N seconds
        self.expire_tokens = 0  # answer the next N valid id_tokens with ExpiredTokenException
        self._jwks: dict[str, list] = {}
        self._lock = threading.Lock()
        self.url = ""

    def calls_of(self, action: str) -> list[StsCall]:
        return [c for c in self.calls if c.action == action]

    def reset(self) -> None:
        self.calls.clear()
        self.throttle, self.delay, self.expire_in, self.expire_tokens = 0, 0.0, None, 0

    # -- request handling (runs in the server's threads) --------------------------------------
    def handle(self, headers: dict, body: bytes) -> tuple[int, bytes]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        call = StsCall(
            form.get("Action", "?"), form.get("RoleArn", ""), form.get("RoleSessionName", "")
        )
        call.tags = {
            form[k]: form[k.replace(".Key", ".Value")]
            for k in form
            if re.fullmatch(r"Tags\.member\.\d+\.Key", k)
        }
        call.source_identity = form.get("SourceIdentity", "")
        with self._lock:
            self.calls.append(call)
            throttled = self.throttle > 0
            if throttled:
                self.throttle -= 1
        if self.delay:
            time.sleep(self.delay)
        if throttled:
            return self._error(call, 400, "Throttling", "Rate exceeded")
        if call.action == "AssumeRoleWithWebIdentity":
            return self._web_identity(call, form)
        status, reply = self._forward(headers, body)
        call.answer = "ok" if status == 200 else f"HTTP {status}"
        return status, self._rewrite_expiry(reply)

    def _web_identity(self, call: StsCall, form: dict) -> tuple[int, bytes]:
        token = form.get("WebIdentityToken", "")
        call.token_sha = hashlib.sha256(token.encode()).hexdigest()
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return self._error(call, 400, "InvalidIdentityToken", "Not a JWT")
        issuer = unverified.get("iss", "")
        if issuer not in self.trusted:
            return self._error(call, 400, "InvalidIdentityToken", "No OpenIDConnect provider found")
        try:
            keys = self._keys(issuer)
        except requests.RequestException:
            return self._error(
                call, 400, "IDPCommunicationError", "Couldn't retrieve verification key"
            )
        claims = None
        for key in keys:  # the provider's tokens carry no kid: try each published key
            try:
                claims = jwt.decode(
                    token, key, algorithms=["RS256"], audience=self.trusted[issuer], issuer=issuer
                )
                break
            except jwt.ExpiredSignatureError:
                return self._error(call, 400, "ExpiredTokenException", "Token is expired")
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError:
                return self._error(call, 400, "InvalidIdentityToken", "Incorrect token audience")
        if claims is None:
            return self._error(call, 400, "InvalidIdentityToken", "Signature did not verify")
        call.sub = claims["sub"]
        if self.expire_tokens > 0:  # the token expired between the Hub read and STS
            self.expire_tokens -= 1
            return self._error(call, 400, "ExpiredTokenException", "Token is expired")
        reply = self.aws.client("sts").assume_role(
            RoleArn=call.role,
            RoleSessionName=call.session_name,
            DurationSeconds=int(form.get("DurationSeconds", 3600)),
        )
        call.answer = "ok"
        creds = reply["Credentials"]
        expiry = creds["Expiration"]
        if self.expire_in is not None:
            expiry = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.expire_in)
        xml = (
            '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            "<AssumeRoleWithWebIdentityResult>"
            f"<SubjectFromWebIdentityToken>{claims['sub']}</SubjectFromWebIdentityToken>"
            f"<Audience>{self.trusted[issuer]}</Audience><Provider>{issuer}</Provider>"
            f"<AssumedRoleUser><Arn>{reply['AssumedRoleUser']['Arn']}</Arn>"
            f"<AssumedRoleId>{reply['AssumedRoleUser']['AssumedRoleId']}</AssumedRoleId></AssumedRoleUser>"
            f"<Credentials><AccessKeyId>{creds['AccessKeyId']}</AccessKeyId>"
            f"<SecretAccessKey>{creds['SecretAccessKey']}</SecretAccessKey>"
            f"<SessionToken>{creds['SessionToken']}</SessionToken>"
            f"<Expiration>{expiry.strftime('%Y-%m-%dT%H:%M:%SZ')}</Expiration></Credentials>"
            "</AssumeRoleWithWebIdentityResult>"
            "<ResponseMetadata><RequestId>smallfry-test</RequestId></ResponseMetadata>"
            "</AssumeRoleWithWebIdentityResponse>"
        )
        return 200, xml.encode()

    def _forward(self, headers: dict, body: bytes) -> tuple[int, bytes]:
        keep = {
            k: v for k, v in headers.items() if k.lower() not in ("content-length", "connection")
        }
        reply = requests.post(self.aws.url + "/", data=body, headers=keep, timeout=30)
        return reply.status_code, reply.content

    def _rewrite_expiry(self, xml: bytes) -> bytes:
        if self.expire_in is None:
            return xml
        when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.expire_in)
        return re.sub(
            rb"<Expiration>[^<]*</Expiration>",
            f"<Expiration>{when.strftime('%Y-%m-%dT%H:%M:%SZ')}</Expiration>".encode(),
            xml,
        )

    def _keys(self, issuer: str) -> list:
        if issuer not in self._jwks:
            jwks = requests.get(f"{issuer}/jwks", timeout=3)
            jwks.raise_for_status()
            self._jwks[issuer] = [jwt.PyJWK(k).key for k in jwks.json()["keys"]]
        return self._jwks[issuer]

    @staticmethod
    def _error(call: StsCall, status: int, code: str, message: str) -> tuple[int, bytes]:
        call.answer = code
        xml = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>smallfry-test</RequestId></ErrorResponse>"
        )
        return status, xml.encode()


@contextlib.contextmanager
def sts_front(aws: Aws, trusted: dict[str, str]):
    front = StsFront(aws, trusted)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, reply = front.handle(dict(self.headers), body)
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    front.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield front
    finally:
        server.shutdown()
        server.server_close()
