"""Ambient mode, configuration mistakes and warnings, and the small pure pieces."""

from __future__ import annotations

import re
import sys

import pytest
import requests

from ..credentials.cache import CredentialError, Identity
from ..credentials.errors import CATALOGUE
from ..credentials.hub import groups_of, jwt_claims
from ..credentials.service import STATES
from ..credentials.sts import session_name
from .processes import TEST_ACCESS_KEY, TEST_SECRET_KEY, free_port, jupyter_server


def get(server, path="", token=None):
    return requests.get(
        f"{server.url}smallfry/credentials{path}",
        headers={"Authorization": f"token {token or server.token}"},
        timeout=60,
    )


def test_ambient_mode_reports_who_the_server_keys_belong_to(server):
    reply = get(server)
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    status = reply.json()
    assert status["mode"] == "ambient" and status["state"] == "ok"
    assert status["identity"]["account"] == "123456789012"  # moto's GetCallerIdentity
    assert status["profile"] is None and status["warnings"] == []
    assert TEST_ACCESS_KEY not in reply.text and TEST_SECRET_KEY not in reply.text


def test_browser_session_sees_the_status_and_refreshes_only_with_the_xsrf_token(server):
    # Ambient mode has no kernel profile, hence no kernel helper endpoint at all
    # (test_credentials_kernel_secret.py covers that endpoint).
    browser = requests.Session()
    browser.get(f"{server.url}login?token={server.token}", timeout=60)
    assert browser.get(f"{server.url}smallfry/credentials", timeout=60).status_code == 200
    refused = browser.get(f"{server.url}smallfry/credentials/process", timeout=60)
    assert refused.status_code == 404 and TEST_SECRET_KEY not in refused.text
    # XSRF: a cookie-authenticated POST without the token header is refused.
    assert browser.post(f"{server.url}smallfry/credentials/refresh", timeout=60).status_code == 403
    xsrf = browser.cookies["_xsrf"]
    ok = browser.post(
        f"{server.url}smallfry/credentials/refresh", headers={"X-XSRFToken": xsrf}, timeout=60
    )
    assert ok.status_code == 200 and ok.json()["state"] == "ok"


def test_web_identity_outside_jupyterhub_says_so_and_warns_about_overrides(tmp_path):
    own = tmp_path / "config"
    own.write_text("[profile my-own]\nregion = eu-west-1\n")
    with jupyter_server(
        "--SmallFry.credentials_mode=web-identity",
        "--SmallFry.role_arn=arn:aws:iam::123456789012:role/nb",
        env={"AWS_PROFILE": "my-own", "AWS_CONFIG_FILE": str(own)},
    ) as srv:
        status = get(srv).json()
        assert status["state"] == "not-configured" and status["error"]["code"] == "not-under-hub"
        assert {w["code"] for w in status["warnings"]} == {"static-env-keys", "user-profile"}
        assert status["profile"]["applied"] is False
        assert status["profile"]["chosen_by_user"] == "AWS_PROFILE"
        log = srv.log_text()
        assert "AWS_ACCESS_KEY_ID is set in the server environment" in log
        assert TEST_SECRET_KEY not in log


def test_broker_mode_without_a_broker_url_says_what_to_configure():
    with jupyter_server(
        "--SmallFry.credentials_mode=broker", env={"JUPYTERHUB_API_TOKEN": "x"}
    ) as srv:
        status = get(srv).json()
        assert status["state"] == "not-configured" and status["error"]["code"] == "no-broker"
        assert "c.SmallFry.broker_url" in status["error"]["hint"]
        assert status["profile"]["applied"] is True  # kernels still get the managed profile


def test_unreachable_broker_is_retried_then_reported():
    with jupyter_server(
        "--SmallFry.credentials_mode=broker",
        f"--SmallFry.broker_url=http://127.0.0.1:{free_port()}/services/smallfry-broker/",
        env={"JUPYTERHUB_API_TOKEN": "x", "JUPYTERHUB_USER": ""},
    ) as srv:
        status = get(srv).json()
        assert status["state"] == "error" and status["error"]["code"] == "broker-unreachable"
        assert "smallfry-broker" in status["error"]["hint"]
        assert "retrying" in srv.log_text()


@pytest.mark.parametrize(
    "user, expected",
    [
        ("alice", "alice"),
        ("a", "a="),
        ("alice smith/ops", "alice=20smith=2Fops"),
        ("jürgen@example.com", "j=C3=BCrgen@example.com"),
    ],
)
def test_session_names_follow_the_sts_rules(user, expected):
    assert session_name(user) == expected
    assert re.fullmatch(r"[\w+=,.@-]{2,64}", session_name(user), re.ASCII)


ADVERSARIAL_NAMES = [
    "o'neil",
    "o-neil",
    "o=27neil",
    "o=neil",
    "o neil",
    "o_neil",
    "a",
    "a=",
    "a-",
    "jürgen",
    "j=C3=BCrgen",
    "u__v",
    "u_v",
    "u",
    "x" * 64,
    "x" * 63,
    "x" * 70 + "a",
    "x" * 70 + "b",
    '"quoted"',
    "ümlaut" * 20,
    "李雷",
    "雷李",
]


def test_session_names_and_tags_never_collide():
    from ..safe_names import tag_value

    for encode, limit in ((session_name, 64), (tag_value, 256)):
        names = {encode(user) for user in ADVERSARIAL_NAMES}
        assert len(names) == len(ADVERSARIAL_NAMES), encode.__name__
        assert all(len(n) <= limit for n in names)
    assert tag_value("o'neil") != tag_value("o-neil")
    assert "/" not in tag_value("a/../b")


def test_dag_ids_and_airflow_roles_never_collide():
    from ..airflow.naming import dag_id_for, owner_role

    assert dag_id_for("u", "v__w") != dag_id_for("u__v", "w")
    pairs = [(u, j) for u in ADVERSARIAL_NAMES for j in ("w", "v__w", "x" * 63)]
    ids = {dag_id_for(u, j) for u, j in pairs}
    assert len(ids) == len(pairs)
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]{1,250}", i) for i in ids)
    roles = {owner_role(u) for u in ADVERSARIAL_NAMES}
    assert len(roles) == len(ADVERSARIAL_NAMES) and all(len(r) <= 64 for r in roles)


def test_long_session_names_are_truncated_without_collisions():
    a, b = session_name("x" * 70 + "a"), session_name("x" * 70 + "b")
    assert len(a) == len(b) == 64 and a != b
    assert re.fullmatch(r"[\w+=,.@-]{2,64}", a)


def test_every_error_code_has_a_widget_state_a_message_and_a_fix():
    for code, problem in CATALOGUE.items():
        assert problem.state in STATES, code
        assert problem.message and problem.hint, code
        err = CredentialError(code)
        assert err.to_json()["hint"] == problem.hint


def test_assumed_role_arns_are_split_for_the_widget():
    who = Identity.from_arn("arn:aws:sts::123456789012:assumed-role/analyst/alice", "alice")
    assert (who.account, who.role, who.session_name, who.source_identity) == (
        "123456789012",
        "analyst",
        "alice",
        "alice",
    )


def test_token_claims_and_groups_are_read_without_trusting_them():
    payload = "eyJzdWIiOiJhbGljZSIsImdyb3VwcyI6WyJhIl19"  # {"sub":"alice","groups":["a"]}
    assert jwt_claims(f"h.{payload}.s") == {"sub": "alice", "groups": ["a"]}
    assert jwt_claims("not a token") == {}
    assert groups_of({"oauth_user": {"groups": ["b"]}}, {}) == ["b"]
    assert groups_of({}, {"groups": "c"}) == ["c"]


def test_refresh_now_gets_new_keys_from_a_credential_process(tmp_path, moto_url):
    # botocore caches credential_process keys until 15 minutes before they expire; Refresh
    # now must ask the process again, not hand back what botocore cached.
    counter = tmp_path / "issued"
    script = tmp_path / "issue_keys.py"
    script.write_text(
        "import datetime, json, pathlib, sys\n"
        f"path = pathlib.Path({str(counter)!r})\n"
        "n = int(path.read_text()) + 1 if path.exists() else 1\n"
        "path.write_text(str(n))\n"
        "expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)\n"
        "print(json.dumps({'Version': 1, 'AccessKeyId': f'ASIAPROCESS{n:05d}',\n"
        "    'SecretAccessKey': 'not-a-real-secret', 'SessionToken': 'token',\n"
        "    'Expiration': expiry.isoformat()}))\n"
    )
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = {sys.executable} {script}\n")
    env = {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SESSION_TOKEN": "",
    }
    with jupyter_server(
        "--SmallFry.credentials_mode=ambient", f"--SmallFry.sts_endpoint_url={moto_url}", env=env
    ) as server:
        assert get(server).json()["state"] == "ok" and counter.read_text() == "1"
        assert get(server).json()["state"] == "ok" and counter.read_text() == "1"  # cached
        refreshed = requests.post(
            f"{server.url}smallfry/credentials/refresh",
            headers={"Authorization": f"token {server.token}"},
            timeout=60,
        )
        assert refreshed.status_code == 200 and refreshed.json()["expires_in"] > 3500
        assert counter.read_text() == "2"  # the process ran again for new keys
