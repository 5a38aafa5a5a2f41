"""web-identity mode in a real Jupyter server: real id_tokens, STS that checks them, moto.

Processes: moto (enforcing IAM), oidc-provider-mock (signed RS256 id_tokens), the STS front
of ``hub_aws`` (verifies tokens against the provider's JWKS like STS does, then has moto
issue the session), a stand-in Hub API (``hub_fake``: one Hub state at a time), and
``jupyter server`` with Small Fry. The real-Hub run is ``test_hub_end_to_end.py``.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import time

import pytest
import requests

from .hub_aws import BUCKET, enforcing_moto, role_arn, sts_front
from .hub_fake import fake_hub
from .hub_kernel import ask_as_kernel_helper, helper_env, run_in_kernel, server_info_path
from .oidc_provider import oidc_provider
from .processes import jupyter_server

ALICE = "alice-hub-api-token-0123456789abcdef"  # the server's Hub API token = alice's identity
BOB = "bob-hub-api-token-0123456789abcdef"  # bob reaches alice's server (JupyterHub sharing)
AUD = "smallfry-test"
NO_KEYS = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}

#: Every secret a test saw; the last test proves none of them reached the server log.
SEEN_SECRETS: set[str] = set()


@pytest.fixture(scope="module")
def aws():
    with enforcing_moto() as aws:
        yield aws


@pytest.fixture(scope="module")
def idp():
    with oidc_provider() as idp:
        idp.set_user("alice", preferred_username="alice", groups=["team-alice", "analysts"])
        idp.set_user("bob", preferred_username="bob", groups=["team-bob"])
        yield idp


@pytest.fixture(scope="module")
def alice_token(idp):
    tokens = idp.tokens_for("alice")
    SEEN_SECRETS.update([tokens["id_token"], tokens["access_token"]])
    return tokens["id_token"]


@pytest.fixture(scope="module")
def sts(aws, idp):
    with sts_front(aws, {idp.issuer: AUD}) as front:
        yield front


@pytest.fixture(scope="module")
def hub(alice_token):
    with fake_hub("alice", ALICE) as hub:
        hub.id_tokens = [alice_token]
        yield hub


@pytest.fixture(scope="module")
def server(aws, sts, hub):
    users = json.dumps({ALICE: "alice", BOB: "bob"})
    role_map = json.dumps({"team-alice": role_arn("nb-alice"), "analysts": role_arn("nb-analyst")})
    env = {
        **NO_KEYS,
        "JUPYTERHUB_API_URL": hub.api_url,
        "JUPYTERHUB_API_TOKEN": ALICE,
        "JUPYTERHUB_USER": "alice",
    }
    with jupyter_server(
        "--SmallFry.credentials_mode=web-identity",
        f"--SmallFry.sts_endpoint_url={sts.url}",
        f"--SmallFry.endpoint_url={aws.url}",
        f"--SmallFry.role_map={role_map}",
        "--ServerApp.identity_provider_class=jupyterlab_smallfry.tests.hub_identity.NamedTokens",
        f"--NamedTokens.users={users}",
        env=env,
        debug=True,
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def kernel_info(server):
    """alice's server.json: where kernels find the server and the kernel secret."""
    info = server_info_path(call(server, "GET", "").json()["profile"])
    SEEN_SECRETS.add(json.loads(info.read_text())["secret"])
    return info


@pytest.fixture(autouse=True)
def healthy(server, hub, sts, alice_token):
    """Each test starts from a healthy Hub and STS and fresh keys, whatever the last one broke."""
    hub.mode, hub.id_tokens, hub.extra_state = "ok", [alice_token], {}
    sts.reset()
    assert call(server, "POST", "/refresh").json()["state"] == "ok"
    sts.reset()


def call(server, method, path, token=ALICE, **kwargs):
    reply = requests.request(
        method,
        f"{server.url}smallfry/credentials{path}",
        headers={"Authorization": f"token {token}"},
        timeout=120,
        **kwargs,
    )
    return reply


def keys(kernel_info) -> requests.Response:
    """What a kernel's credential_process gets (by the kernel secret, not a token)."""
    reply = ask_as_kernel_helper(kernel_info)
    if reply.status_code == 200:
        body = reply.json()
        SEEN_SECRETS.update([body["AccessKeyId"], body["SecretAccessKey"], body["SessionToken"]])
    return reply


def fresh_status(server) -> dict:
    """Drop the cached keys (a role 'switch' to the current role) and report the new status."""
    role = call(server, "GET", "").json()["role"] or role_arn("nb-alice")
    return call(server, "POST", "/role", json={"role": role}).json()


def test_status_names_alice_and_the_token_that_reached_sts_is_hers(server, sts, alice_token):
    reply = call(server, "POST", "/refresh")
    assert reply.status_code == 200
    assert reply.headers["Cache-Control"] == "no-store"
    status = reply.json()
    assert status["mode"] == "web-identity"
    assert status["state"] == "ok", status
    identity = status["identity"]
    assert identity["arn"] == "arn:aws:sts::123456789012:assumed-role/nb-alice/alice"
    assert (identity["account"], identity["role"], identity["session_name"]) == (
        "123456789012",
        "nb-alice",
        "alice",
    )
    assert 3500 < status["expires_in"] <= 3600
    assert status["roles"] == [role_arn("nb-alice"), role_arn("nb-analyst")]
    assert status["token"]["iss"].startswith("http://127.0.0.1:") and status["token"]["aud"] == AUD
    assert status["profile"]["applied"] is True and status["warnings"] == []
    [exchange] = sts.calls_of("AssumeRoleWithWebIdentity")
    assert exchange.sub == "alice" and exchange.session_name == "alice"
    assert exchange.token_sha == hashlib.sha256(alice_token.encode()).hexdigest()
    assert not re.search(r"ASIA|SecretAccessKey|SessionToken|eyJ", reply.text)


def test_status_is_served_from_the_cache(server, sts, hub):
    call(server, "GET", "")
    sts.reset()
    reads = hub.reads
    for _ in range(5):
        assert call(server, "GET", "").json()["state"] == "ok"
    assert sts.calls == [] and hub.reads == reads


def test_short_sessions_are_not_looked_up_on_every_request(server, sts, kernel_info):
    # 19-minute keys are inside the 20-minute margin from the start; they are replaced
    # half-way through their life (test_credentials_refresh_timing), not per request.
    sts.expire_in = 19 * 60
    status = call(server, "POST", "/refresh").json()
    assert status["state"] == "ok" and status["expires_in"] < status["refresh_margin"]
    sts.reset()
    seen = {keys(kernel_info).json()["AccessKeyId"] for _ in range(5)}
    assert len(seen) == 1 and sts.calls == []
    sts.expire_in = 3600
    call(server, "POST", "/refresh")  # Refresh now still gets new keys at once
    assert len(sts.calls_of("AssumeRoleWithWebIdentity")) == 1
    assert keys(kernel_info).json()["AccessKeyId"] not in seen
    assert call(server, "GET", "").json()["expires_in"] > 3500


def test_fifty_concurrent_requests_during_a_refresh_make_one_sts_call(
    server, sts, hub, kernel_info
):
    sts.expire_in = 0  # keys that expire at once: the next request must refresh
    call(server, "POST", "/refresh")
    sts.reset()
    sts.delay = 1.5  # STS is slow, so all 50 requests arrive while the refresh is in flight
    reads = hub.reads
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        replies = list(pool.map(lambda _: keys(kernel_info), range(50)))
    assert [r.status_code for r in replies] == [200] * 50
    assert len({r.json()["AccessKeyId"] for r in replies}) == 1
    assert len(sts.calls) == 1 and hub.reads == reads + 1


def test_credential_process_endpoint_gives_version_1_json(kernel_info):
    reply = keys(kernel_info)
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    body = reply.json()
    assert body["Version"] == 1 and body["AccessKeyId"].startswith("ASIA")
    assert body["SecretAccessKey"] and body["SessionToken"] and body["AccountId"] == "123456789012"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["Expiration"])


def test_other_hub_users_get_nothing(server):
    for method, path, kwargs in [
        ("GET", "", {}),
        ("POST", "/refresh", {}),
        ("POST", "/role", {"json": {"role": role_arn("nb-bob")}}),
        ("GET", "/process", {}),
    ]:
        reply = call(server, method, path, token=BOB, **kwargs)
        assert reply.status_code == 403, (path, reply.status_code)
        assert reply.headers["Cache-Control"] == "no-store"
        assert not re.search(r"ASIA|eyJ|arn:aws|alice", reply.text), reply.text
        anonymous = requests.request(method, f"{server.url}smallfry/credentials{path}", timeout=30)
        assert anonymous.status_code == 403


def test_alice_can_switch_to_another_allowed_role_only(server):
    status = call(server, "POST", "/role", json={"role": role_arn("nb-analyst")}).json()
    assert status["state"] == "ok" and status["identity"]["role"] == "nb-analyst"
    refused = call(server, "POST", "/role", json={"role": role_arn("nb-bob")})
    assert refused.status_code == 400 and "not allowed" in refused.json()["message"]
    status = call(server, "POST", "/role", json={"role": role_arn("nb-alice")}).json()
    assert status["identity"]["role"] == "nb-alice"


@pytest.mark.parametrize(
    "mode, code, state, hint",
    [
        ("null", "no-auth-state", "error", "enable_auth_state"),
        ("no-scope", "missing-scope", "error", "admin:auth_state!user"),
        ("no-id-token", "no-id-token", "error", "openid"),
        ("refuse", "hub-refused", "needs-login", "Log in to JupyterHub again"),
    ],
)
def test_hub_problems_give_their_state_and_fix(server, hub, sts, mode, code, state, hint):
    hub.mode = mode
    status = call(server, "POST", "/refresh").json()
    # The keys from before still work: the widget warns, with the fix, before they run out.
    assert status["state"] == "expiring" and status["error"]["code"] == code
    status = fresh_status(server)  # no usable keys at all
    assert status["state"] == state, status
    assert status["error"]["code"] == code and hint in status["error"]["hint"]
    assert status["identity"] is None and sts.calls_of("AssumeRoleWithWebIdentity") == []


def test_expired_id_token_that_the_hub_cannot_renew_means_log_in_again(server, hub, sts, idp):
    with oidc_provider(token_max_age=1) as short_idp:
        short_idp.set_user("alice", groups=["team-alice"])
        sts.trusted[short_idp.issuer] = AUD
        expired = short_idp.tokens_for("alice")["id_token"]
    SEEN_SECRETS.add(expired)
    hub.id_tokens = [expired]
    reads = hub.reads
    status = fresh_status(server)
    assert status["state"] == "needs-login" and status["error"]["code"] == "ExpiredToken"
    assert "Log in to JupyterHub again" in status["error"]["hint"]
    assert status["error"]["detail"]["exp"] < time.time() + 30  # expired, or about to
    assert hub.reads == reads + 2  # one more Hub read (the Hub's refresh chance), no STS call
    assert sts.calls_of("AssumeRoleWithWebIdentity") == []


def test_token_expired_at_sts_gets_one_forced_hub_refresh(server, hub, sts, idp, alice_token):
    renewed = idp.tokens_for("alice")["id_token"]
    SEEN_SECRETS.add(renewed)
    hub.id_tokens = [alice_token, renewed]
    sts.expire_tokens = 1
    status = fresh_status(server)
    assert status["state"] == "ok", status
    first, second = sts.calls_of("AssumeRoleWithWebIdentity")
    assert first.answer == "ExpiredTokenException" and second.answer == "ok"
    assert second.token_sha == hashlib.sha256(renewed.encode()).hexdigest()
    sts.reset()
    sts.expire_tokens = 5  # STS keeps saying expired: exactly one forced refresh, then log in
    status = fresh_status(server)
    assert status["state"] == "needs-login" and status["error"]["code"] == "ExpiredToken"
    assert len(sts.calls_of("AssumeRoleWithWebIdentity")) == 2


def test_token_for_another_audience_is_rejected_with_issuer_and_audience_shown(server, hub, idp):
    other = idp.tokens_for("alice", client_id="some-other-app")["id_token"]
    SEEN_SECRETS.add(other)
    hub.id_tokens = [other]
    status = fresh_status(server)
    assert status["state"] == "error" and status["error"]["code"] == "InvalidIdentityToken"
    assert status["error"]["detail"]["aud"] == "some-other-app"
    assert status["error"]["detail"]["iss"] == idp.issuer
    assert "client IDs include the token audience" in status["error"]["hint"]


def test_identity_provider_unreachable_is_retried_with_backoff_then_reported(server, hub, sts):
    with oidc_provider() as gone:
        gone.set_user("alice", groups=["team-alice"])
        token = gone.tokens_for("alice", client_id=AUD)["id_token"]
        sts.trusted[gone.issuer] = AUD
    SEEN_SECRETS.add(token)
    hub.id_tokens = [token]  # STS cannot fetch this issuer's JWKS any more
    started = time.monotonic()
    status = fresh_status(server)
    assert status["state"] == "error" and status["error"]["code"] == "IDPCommunicationError"
    assert "retries with backoff" in status["error"]["hint"]
    assert len(sts.calls_of("AssumeRoleWithWebIdentity")) == 4  # 1 + 3 retries, then stop
    assert time.monotonic() - started > 1.5  # the retries were spaced out


def test_sts_throttling_is_retried_with_backoff(server, sts):
    sts.throttle = 2
    status = fresh_status(server)
    assert status["state"] == "ok" and len(sts.calls) == 3
    sts.reset()
    sts.throttle = 10
    status = fresh_status(server)
    assert status["state"] == "error" and status["error"]["code"] == "Throttling"
    assert len(sts.calls) == 4
    sts.reset()
    # After a failure, callers get the same answer without another STS call for a while.
    assert call(server, "GET", "").json()["error"]["code"] == "Throttling" and sts.calls == []


def test_hub_unreachable_is_reported(server, hub):
    hub.mode = "down"
    status = fresh_status(server)
    assert status["state"] == "error" and status["error"]["code"] == "hub-unreachable"


async def test_kernel_reads_alice_home_with_plain_boto3_and_is_denied_bob_home(server):
    code = f"""
import os, stat, boto3
session = boto3.Session()
print("method", session.get_credentials().method)
print("env-key", bool(os.environ.get("AWS_ACCESS_KEY_ID")))
print("profile", os.environ.get("AWS_PROFILE"))
cfg = os.environ["AWS_CONFIG_FILE"]
print("mode", oct(stat.S_IMODE(os.stat(cfg).st_mode)), "in-home-aws", cfg.startswith(os.path.expanduser("~/.aws")))
s3 = session.client("s3")
print("alice", s3.get_object(Bucket="{BUCKET}", Key="home/alice/hello.txt")["Body"].read().decode())
try:
    s3.get_object(Bucket="{BUCKET}", Key="home/bob/hello.txt")
    print("bob READ")
except Exception as err:
    print("bob", err.response["Error"]["Code"])
"""
    result = await run_in_kernel(server.url, ALICE, code)
    assert result["error"] is None, result
    out = result["stdout"]
    assert "method custom-process" in out
    assert "env-key False" in out and "profile smallfry" in out
    assert "mode 0o600 in-home-aws False" in out
    assert "alice hello alice" in out
    assert "bob AccessDenied" in out


def test_helper_command_prints_version_1_json_and_refuses_a_wrong_secret(
    server, kernel_info, tmp_path
):
    config = call(server, "GET", "").json()["profile"]
    assert config["name"] == "smallfry" and "credential_process" in config["snippet"]
    assert stat.S_IMODE(os.stat(kernel_info).st_mode) == 0o600
    # Whatever Hub token is around (here bob's), the kernel secret is what counts.
    env = {**helper_env(), "JUPYTERHUB_API_TOKEN": BOB}
    command = [sys.executable, "-m", "jupyterlab_smallfry.credential_process", "--server-info"]
    ok = subprocess.run(
        [*command, str(kernel_info)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    body = json.loads(ok.stdout)
    SEEN_SECRETS.update([body["AccessKeyId"], body["SecretAccessKey"], body["SessionToken"]])
    assert body["Version"] == 1 and body["Expiration"].endswith("Z")
    forged = tmp_path / "server.json"
    forged.write_text(json.dumps({**json.loads(kernel_info.read_text()), "secret": ALICE}))
    env["JUPYTERHUB_API_TOKEN"] = ALICE
    refused = subprocess.run(
        [*command, str(forged)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert refused.returncode == 1 and refused.stdout == ""
    assert "not-the-kernel-helper" in refused.stderr and "ASIA" not in refused.stderr


def test_zz_no_secret_reached_the_server_log(server):
    log = server.log_text()
    assert "smallfry" in log.lower()  # the log did capture Small Fry's lines
    assert SEEN_SECRETS, "the tests above should have seen secrets"
    leaked = [s[:8] + "…" for s in SEEN_SECRETS if s in log]
    assert leaked == []
    assert not re.search(r"ASIA[A-Z0-9]{16}|eyJ[\w-]{10,}|REFRESH-TOKEN", log)
