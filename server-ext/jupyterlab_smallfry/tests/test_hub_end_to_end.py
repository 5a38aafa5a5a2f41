"""The whole chain, for real: JupyterHub 6 + configurable-http-proxy + GenericOAuthenticator
against a real OIDC provider process, SimpleLocalProcessSpawner starting single-user servers
with Small Fry, STS that checks id_tokens (``hub_aws.StsFront``) and moto enforcing IAM.

Run once per credentials mode, each with the shipped example ``jupyterhub_config_<mode>.py``.
alice and bob log in through the IdP's login form with a cookie jar, as a browser would.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
import requests

from .hub_aws import BUCKET, enforcing_moto, role_arn, sts_front
from .hub_kernel import ask_as_kernel_helper, run_in_kernel, server_info_path
from .hub_stack import jupyterhub, secrets_in, xsrf_of
from .oidc_provider import oidc_provider
from .processes import free_port

CLIENT_ID = "jupyterhub-test"
ROLE_MAP = json.dumps({"team-alice": role_arn("nb-alice"), "team-bob": role_arn("nb-bob")})

KERNEL_CODE = f"""
import boto3, os
session = boto3.Session()
creds = session.get_credentials()
print("method", creds.method)
print("key", creds.get_frozen_credentials().access_key)
print("env-key", bool(os.environ.get("AWS_ACCESS_KEY_ID")))
s3 = session.client("s3")
print("alice", s3.get_object(Bucket="{BUCKET}", Key="home/alice/hello.txt")["Body"].read().decode())
try:
    s3.get_object(Bucket="{BUCKET}", Key="home/bob/hello.txt")
    print("bob READ")
except Exception as err:
    print("bob", err.response["Error"]["Code"])
"""


@pytest.fixture(scope="module")
def aws():
    with enforcing_moto() as aws:
        yield aws


@pytest.fixture(scope="module")
def idp():
    with oidc_provider() as idp:
        idp.set_user(
            "alice", preferred_username="alice", email="alice@example.com", groups=["team-alice"]
        )
        idp.set_user("bob", preferred_username="bob", email="bob@example.com", groups=["team-bob"])
        yield idp


@pytest.fixture(scope="module")
def sts(aws, idp):
    with sts_front(aws, {idp.issuer: CLIENT_ID}) as front:
        yield front


@pytest.fixture(scope="module", params=["web_identity", "broker"])
def hub(request, aws, idp, sts):
    env = {"SMALLFRY_ROLE_MAP": ROLE_MAP}
    broker_port = free_port()
    if request.param == "broker":
        env.update(
            SMALLFRY_BROKER_PORT=str(broker_port),
            SMALLFRY_STS_ENDPOINT_URL=sts.url,
            # The broker's own AWS identity (an admin user in moto); user servers never see it.
            AWS_ACCESS_KEY_ID=aws.admin["AccessKeyId"],
            AWS_SECRET_ACCESS_KEY=aws.admin["SecretAccessKey"],
            AWS_DEFAULT_REGION="us-east-1",
        )
    with jupyterhub(request.param, idp, sts.url, aws.url, env) as hub:
        hub.mode = request.param
        hub.broker_url = f"http://127.0.0.1:{broker_port}/services/smallfry-broker/"
        hub.login("alice")
        hub.login("bob")
        yield hub


def status_of(browser, hub, owner):
    return browser.get(f"{hub.url}/user/{owner}/smallfry/credentials", timeout=120)


def test_alice_is_on_aws_as_herself(hub, sts):
    reply = status_of(hub.sessions["alice"], hub, "alice")
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    status = reply.json()
    assert status["state"] == "ok", status
    assert status["mode"] == hub.mode.replace("_", "-")
    assert status["identity"]["arn"] == "arn:aws:sts::123456789012:assumed-role/nb-alice/alice"
    assert status["profile"]["applied"] and status["warnings"] == []
    assert secrets_in(reply.text) == []
    if hub.mode == "web_identity":
        exchange = [c for c in sts.calls_of("AssumeRoleWithWebIdentity") if c.sub == "alice"][-1]
        auth_state = hub.admin("GET", "/users/alice").json()["auth_state"]
        assert exchange.token_sha == hashlib.sha256(auth_state["id_token"].encode()).hexdigest()
        assert exchange.session_name == "alice" and exchange.answer == "ok"
    else:
        assumed = [c for c in sts.calls_of("AssumeRole") if c.session_name == "alice"][-1]
        assert assumed.role == role_arn("nb-alice") and assumed.answer == "ok"
        assert assumed.tags == {"jupyterhub_user": "alice"}
        assert assumed.source_identity == "alice"


WEB_IDENTITY_PROBE = """
import os, urllib.request, urllib.error
req = urllib.request.Request(os.environ["JUPYTERHUB_API_URL"] + "/users/alice",
    headers={"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]})
try:
    body = urllib.request.urlopen(req).read().decode()
    print("GOT", "id_token" in body)
except urllib.error.HTTPError as err:
    print("refused", err.code)
"""

BROKER_PROBE = """
import json, os, urllib.request, urllib.error
req = urllib.request.Request("{url}credentials", method="POST",
    data=json.dumps({{"role": "{role}"}}).encode(),
    headers={{"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]}})
try:
    urllib.request.urlopen(req)
    print("GOT ALICE KEYS")
except urllib.error.HTTPError as err:
    print("refused", err.code, json.load(err)["code"])
"""


async def test_bob_gets_his_own_identity_and_cannot_get_alice_credentials(hub):
    bob = hub.sessions["bob"]
    assert status_of(bob, hub, "bob").json()["identity"]["arn"].endswith("assumed-role/nb-bob/bob")
    # Code in bob's server, with the Hub token every kernel can read, asks for alice's tokens
    # (web-identity) or for alice's role from the broker.
    if hub.mode == "web_identity":
        probe = WEB_IDENTITY_PROBE
    else:
        probe = BROKER_PROBE.format(url=hub.broker_url, role=role_arn("nb-alice"))
    result = await run_in_kernel(f"{hub.url}/user/bob/", hub.token_for("bob"), probe)
    assert result["error"] is None, result
    assert "refused 40" in result["stdout"], result["stdout"]
    if hub.mode == "broker":
        assert "role-not-allowed" in result["stdout"]


def test_bob_sharing_alice_server_is_refused_by_her_credential_endpoints(hub):
    share = hub.admin("POST", "/shares/alice/", json={"user": "bob"})
    assert share.status_code in (200, 201), share.text
    bob = hub.sessions["bob"]
    hub.wait_for_server(bob, "alice")  # bob really reaches alice's server (sharing works)
    assert bob.get(f"{hub.url}/user/alice/api/status", timeout=60).status_code == 200
    replies = [
        status_of(bob, hub, "alice"),
        bob.post(
            f"{hub.url}/user/alice/smallfry/credentials/refresh",
            headers={"X-XSRFToken": xsrf_of(bob, "/user/alice/")},
            timeout=60,
        ),
        requests.get(
            f"{hub.url}/user/alice/smallfry/credentials/process",
            headers={"Authorization": f"token {hub.token_for('bob')}"},
            timeout=60,
        ),
    ]
    for reply in replies:
        assert reply.status_code == 403, (reply.url, reply.status_code, reply.text[:200])
        assert secrets_in(reply.text) == [] and "nb-alice" not in reply.text


def test_alice_browser_and_hub_token_get_no_keys_from_the_kernel_endpoint(hub):
    # Only her kernels' helper gets keys, by the kernel secret in her server's server.json.
    url = f"{hub.url}/user/alice/smallfry/credentials/process"
    replies = [
        hub.sessions["alice"].get(url, timeout=60),
        requests.get(url, headers={"Authorization": f"token {hub.token_for('alice')}"}, timeout=60),
    ]
    for reply in replies:
        assert reply.status_code == 403, (reply.status_code, reply.text[:200])
        assert "kernel secret" in reply.json()["message"] and secrets_in(reply.text) == []
    info = server_info_path(status_of(hub.sessions["alice"], hub, "alice").json()["profile"])
    assert set(json.loads(info.read_text())) == {"url", "secret"}  # no Hub or Jupyter token
    assert ask_as_kernel_helper(info).json()["AccessKeyId"].startswith("ASIA")


async def test_alice_kernel_reads_her_home_with_plain_boto3_and_not_bob_home(hub):
    result = await run_in_kernel(f"{hub.url}/user/alice/", hub.token_for("alice"), KERNEL_CODE)
    assert result["error"] is None, result
    out = result["stdout"]
    assert "method custom-process" in out and "env-key False" in out
    assert "alice hello alice" in out and "bob AccessDenied" in out


def test_s3_panel_gateway_signs_with_alice_keys(hub):
    alice = hub.sessions["alice"]
    base = f"{hub.url}/user/alice/smallfry/aws/s3/{BUCKET}/home"
    mine = alice.get(f"{base}/alice/hello.txt", timeout=60)
    assert mine.status_code == 200 and mine.text == "hello alice"
    theirs = alice.get(f"{base}/bob/hello.txt", timeout=60)
    assert theirs.status_code == 403 and "AccessDenied" in theirs.text


async def test_after_forced_expiry_the_next_call_gets_fresh_keys(hub, sts):
    alice = hub.sessions["alice"]
    url = f"{hub.url}/user/alice/smallfry/credentials/refresh"
    assert alice.post(url, timeout=60).status_code == 403  # cookie without the XSRF token
    token = hub.token_for("alice")
    sts.expire_in = 3  # STS hands out keys that expire in 3 seconds
    try:
        reply = alice.post(url, headers={"X-XSRFToken": xsrf_of(alice, "/user/alice/")}, timeout=60)
        assert reply.status_code == 200 and reply.json()["expires_in"] <= 3
        info = server_info_path(reply.json()["profile"])
        old = ask_as_kernel_helper(info).json()["AccessKeyId"]
    finally:
        sts.expire_in = None
    await asyncio.sleep(4)  # let them really expire
    result = await run_in_kernel(f"{hub.url}/user/alice/", token, KERNEL_CODE)
    assert result["error"] is None, result
    assert "alice hello alice" in result["stdout"]
    new = next(line.split()[1] for line in result["stdout"].splitlines() if line.startswith("key "))
    assert new != old
    assert status_of(alice, hub, "alice").json()["state"] == "ok"


def test_zz_no_secret_in_hub_server_or_broker_logs(hub):
    log = hub.log_text()  # the Hub's output includes the spawned servers' and the broker's
    assert "smallfry" in log.lower()
    assert secrets_in(log) == []
    auth_state = hub.admin("GET", "/users/alice").json()["auth_state"]
    for secret in ("id_token", "access_token", "refresh_token"):
        if auth_state.get(secret):
            assert auth_state[secret] not in log, secret
