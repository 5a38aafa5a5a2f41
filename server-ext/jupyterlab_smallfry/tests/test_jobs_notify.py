"""Notifications reach real receivers: an HTTP server for Slack, Teams and JSON webhooks and an
aiosmtpd SMTP server for e-mail (``notify_receiver``), and Secrets Manager in a moto that
enforces IAM, so a secret reference is read with the run-as role's keys and nothing else.

What every test also checks: a failing destination is a result (``ok`` false, a short reason),
never an exception, and no webhook URL or secret value shows in results or logs.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from urllib.parse import quote

import boto3
import pytest

from jupyterlab_smallfry.jobs.notify import NO_RUN_AS, notify_run
from jupyterlab_smallfry.jobs.notify_targets import parse_connection, webhook_url
from jupyterlab_smallfry.jobs.runner import run_spec
from jupyterlab_smallfry.jobs.snapshot import take_snapshot

from .airflow_env import SERVER_EXT
from .jobs_support import FAILING, notebook, read_json, s3_storage, spec_for
from .notify_receiver import NotifyReceiver
from .processes import TEST_ACCESS_KEY, TEST_SECRET_KEY, free_port, moto_server

pytestmark = pytest.mark.timeout(120)

SPEC = {
    "id": "daily-sales",
    "title": "Yesterday's sales report",
    "owner": "alice",
}
FAILED = {
    "run_id": "scheduled__2026-11-30T06:00:00+00:00",
    "status": "failed",
    "try_number": 3,
    "start": "2026-11-30T06:00:01.000Z",
    "end": "2026-11-30T06:02:06.500Z",
    "duration_seconds": 125.5,
    "output_uri": "s3://smallfry-demo/runs/alice/daily-sales/scheduled__2026/output.ipynb",
    "error": {
        "type": "ValueError",
        "message": "boom 42",
        "cell_index": 5,
        "execution_count": 4,
        "cell_source": 'raise ValueError(f"boom {x + 1}")',
        "traceback": "---------\nValueError    Traceback (most recent call last)\n"
        'Cell In[4], line 2\n----> 2 raise ValueError(f"boom {x + 1}")\n\n'
        "ValueError: boom 42",
    },
}
LAB = "https://hub.example.com/user/{owner}/lab"
LAB_LINK = (
    "https://hub.example.com/user/alice/lab/tree/"
    "S3:smallfry-demo/runs/alice/daily-sales/scheduled__2026/output.ipynb"
)


@pytest.fixture
def rx():
    with NotifyReceiver() as receiver:
        yield receiver


def _env(rx: NotifyReceiver, **connections: str) -> dict:
    """The runner's environment: the SMTP connection, the lab link and webhook connections."""
    env = {
        "AIRFLOW_CONN_SMTP_DEFAULT": f"smtp://127.0.0.1:{rx.smtp_port}"
        "?disable_ssl=true&disable_tls=true&from_email=smallfry%40example.com",
        "SMALLFRY_LAB_URL": LAB,
    }
    env.update({"AIRFLOW_CONN_" + name.upper(): value for name, value in connections.items()})
    return env


def _spec(on_failure=(), **notes) -> dict:
    return {**SPEC, "notifications": {"on_failure": list(on_failure), **notes}}


def _no_secrets_in(results, caplog, *secrets: str) -> None:
    text = json.dumps(results) + "\n" + caplog.text
    for secret in secrets:
        assert secret not in text
    assert "http://" not in json.dumps(results) and "https://" not in json.dumps(results)


def _no_more(rx: NotifyReceiver, count: int) -> None:
    """Exactly ``count`` messages arrived (none more within a second)."""
    with pytest.raises(TimeoutError):
        rx.wait_for(count + 1, timeout=1)


def test_each_destination_type_reaches_its_receiver(rx):
    env = _env(
        rx,
        # Airflow's URI form, its JSON form with a whole URL as host, and an HTTP connection
        # as Airflow's UI makes it (schema = protocol, the path in extra.endpoint).
        smallfry_notify_slack=rx.http_url + "/services/T0/B0/slack-token",
        smallfry_notify_teams=json.dumps({"conn_type": "http", "host": rx.http_url + "/teams"}),
        smallfry_notify_hook=json.dumps(
            {
                "conn_type": "http",
                "schema": "http",
                "host": "127.0.0.1",
                "port": int(rx.http_url.rsplit(":", 1)[1]),
                "extra": {"endpoint": "hooks/json"},
            }
        ),
    )
    spec = _spec(
        [
            "bob@example.com",
            {"type": "email", "to": "carol@example.com"},
            {"type": "slack", "connection": "smallfry_notify_slack"},
            {"type": "teams", "connection": "smallfry_notify_teams"},
            {"type": "webhook", "connection": "smallfry_notify_hook"},
        ]
    )
    results = notify_run(spec, FAILED, "failure", environ=env)

    assert [(r["type"], r["target"], r["ok"], r["error"]) for r in results] == [
        ("email", "bob@example.com", True, None),
        ("email", "carol@example.com", True, None),
        ("slack", "smallfry_notify_slack", True, None),
        ("teams", "smallfry_notify_teams", True, None),
        ("webhook", "smallfry_notify_hook", True, None),
    ]
    assert all(r["event"] == "failure" for r in results)
    mails = rx.wait_for(2, kind="smtp")
    assert {(m["from"], tuple(m["to"])) for m in mails} == {
        ("smallfry@example.com", ("bob@example.com",)),
        ("smallfry@example.com", ("carol@example.com",)),
    }
    assert mails[0]["subject"].startswith("[Small Fry] Failed: Yesterday's sales report")
    posts = {m["path"]: m for m in rx.wait_for(3, kind="http")}
    assert set(posts) == {"/services/T0/B0/slack-token", "/teams", "/hooks/json"}
    for post in posts.values():
        assert post["method"] == "POST"
        assert post["headers"]["content-type"] == "application/json"
    slack = posts["/services/T0/B0/slack-token"]["body"]
    assert "Failed: Yesterday's sales report" in slack["text"]
    assert slack["blocks"][0]["type"] == "header"
    assert slack["blocks"][-1]["elements"][0]["url"] == LAB_LINK  # the "Open" button
    teams = posts["/teams"]["body"]
    assert teams["type"] == "message"
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    assert card["content"]["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Open in JupyterLab",
        "url": LAB_LINK,
    }
    assert posts["/hooks/json"]["body"]["event"] == "run.failed"


def test_a_failure_message_says_what_failed_where_and_links_to_the_output(rx):
    env = _env(rx, smallfry_notify_hook=rx.http_url + "/hook")
    spec = _spec(["bob@example.com", {"type": "webhook", "connection": "smallfry_notify_hook"}])
    notify_run(spec, FAILED, "failure", environ=env)

    event = rx.wait_for(1, kind="http")[0]["body"]
    assert event["event"] == "run.failed"
    assert event["job"] == {
        "id": "daily-sales",
        "title": "Yesterday's sales report",
        "owner": "alice",
    }
    run = event["run"]
    assert run["id"] == FAILED["run_id"] and run["status"] == "failed" and run["try_number"] == 3
    assert run["duration_seconds"] == 125.5
    assert run["output_uri"] == FAILED["output_uri"] and run["lab_url"] == LAB_LINK
    assert run["error"]["type"] == "ValueError" and run["error"]["message"] == "boom 42"
    assert run["error"]["execution_count"] == 4
    assert run["error"]["traceback_tail"].endswith("ValueError: boom 42")

    body = rx.wait_for(1, kind="smtp")[0]["body"]
    for line in (
        "Job: Yesterday's sales report (daily-sales)",
        "Owner: alice",
        f"Run: {FAILED['run_id']} (try 3)",
        "Status: failed",
        "Duration: 2 min 5 s",
        f"Output: {FAILED['output_uri']}",
        f"Open in JupyterLab: {LAB_LINK}",
        "Error in cell [4]: ValueError: boom 42",
        '----> 2 raise ValueError(f"boom {x + 1}")',
    ):
        assert line in body.splitlines(), (line, body)


def test_success_and_duration_over_go_to_their_own_destinations(rx):
    env = _env(rx)
    env.pop("SMALLFRY_LAB_URL")  # no operator setting: no JupyterLab link, the URI still
    spec = {
        **SPEC,
        "notifications": {
            "on_failure": ["failures@example.com"],
            "on_success": ["done@example.com"],
            "on_duration_over": {"seconds": 60, "to": ["slow@example.com"]},
        },
    }
    ok = {**FAILED, "status": "success", "error": None}
    assert [r["target"] for r in notify_run(spec, ok, "success", environ=env)] == [
        "done@example.com"
    ]
    running = {**FAILED, "status": "running", "end": None, "duration_seconds": None}
    running["elapsed_seconds"] = 75.0
    assert [r["target"] for r in notify_run(spec, running, "duration_over", environ=env)] == [
        "slow@example.com"
    ]
    done, slow = rx.wait_for(2, kind="smtp")
    assert done["to"] == ["done@example.com"]
    assert done["subject"] == (
        f"[Small Fry] Succeeded: Yesterday's sales report (run {FAILED['run_id']})"
    )
    assert "Error" not in done["body"] and "JupyterLab" not in done["body"]
    assert f"Output: {FAILED['output_uri']}" in done["body"]
    assert slow["to"] == ["slow@example.com"]
    assert slow["subject"].startswith("[Small Fry] Still running after 1 min:")
    assert "Status: running" in slow["body"] and "Duration: 1 min 15 s" in slow["body"]


def test_user_text_stays_text_and_is_bounded(rx):
    env = _env(
        rx,
        smallfry_notify_slack=rx.http_url + "/slack",
        smallfry_notify_teams=rx.http_url + "/teams",
        smallfry_notify_hook=rx.http_url + "/hook",
    )
    spec = {
        **_spec(
            [
                "bob@example.com",
                {"type": "slack", "connection": "smallfry_notify_slack"},
                {"type": "teams", "connection": "smallfry_notify_teams"},
                {"type": "webhook", "connection": "smallfry_notify_hook"},
            ]
        ),
        "title": "<!channel> [win](https://evil.example) {{ conn.x.password }}\nBcc: eve@evil.example",
    }
    failed = {
        **FAILED,
        "error": {
            **FAILED["error"],
            "message": "```<@U123> " + "x" * 10_000,
            "traceback": "&" * 5000,  # five times longer once escaped for Slack
        },
    }
    results = notify_run(spec, failed, "failure", environ=env)
    assert all(r["ok"] for r in results), results

    mail = rx.wait_for(1, kind="smtp")[0]
    assert mail["to"] == ["bob@example.com"]  # no Bcc smuggled in through the title
    assert "bcc" not in mail["headers"]
    assert "{{ conn.x.password }}" in mail["subject"]  # shown, not rendered
    posts = {m["path"]: m["body"] for m in rx.wait_for(3, kind="http")}
    slack = json.dumps(posts["/slack"])
    assert "<!channel>" not in slack and "&lt;!channel&gt;" in slack
    assert "<@U123>" not in slack and "&lt;@U123&gt;" in slack
    assert "```<" not in slack  # the message's backticks cannot close the code block
    texts = [
        b["text"]["text"]
        for b in posts["/slack"]["blocks"]
        if b["type"] == "section" and "text" in b
    ]
    assert texts and all(len(t) <= 3000 for t in texts)  # Slack's limit for a section
    assert texts[-1].endswith("&amp;…```")
    teams = json.dumps(posts["/teams"]["attachments"])  # the card, which renders markdown
    assert "[win](https" not in teams and "\\\\[win\\\\]\\\\(https" in teams
    event = posts["/hook"]
    assert len(event["run"]["error"]["message"]) <= 500
    assert len(event["job"]["title"]) <= 200
    assert all(len(json.dumps(body)) < 12_000 for body in posts.values())


def test_failing_destinations_are_results_not_exceptions_and_name_no_url(rx, caplog):
    caplog.set_level(logging.INFO)
    closed = free_port()  # nothing listens there
    env = _env(
        rx,
        smallfry_notify_down=f"http://127.0.0.1:{closed}/hooks/down-token",
        smallfry_notify_broken=rx.http_url + "/status/500/broken-token",
        smallfry_notify_ftp=json.dumps({"conn_type": "ftp", "password": "ftp://files/x"}),
    )
    env["AIRFLOW_CONN_SMTP_DEFAULT"] = (
        f"smtp://127.0.0.1:{closed}?disable_ssl=true&from_email=smallfry%40example.com"
    )
    spec = _spec(
        [
            {"type": "slack", "connection": "smallfry_notify_missing"},
            {"type": "webhook", "connection": "smallfry_notify_down"},
            {"type": "teams", "connection": "smallfry_notify_broken"},
            {"type": "webhook", "connection": "smallfry_notify_ftp"},
            "bob@example.com",
        ]
    )
    results = notify_run(spec, FAILED, "failure", environ=env)

    assert [(r["target"], r["ok"], r["error"]) for r in results] == [
        ("smallfry_notify_missing", False, "no Airflow connection smallfry_notify_missing"),
        ("smallfry_notify_down", False, "cannot connect (connection refused)"),
        ("smallfry_notify_broken", False, "the receiver answered HTTP 500"),
        ("smallfry_notify_ftp", False, "the connection has no webhook URL (host or password)"),
        ("bob@example.com", False, "cannot connect (connection refused)"),
    ]
    assert rx.wait_for(1, kind="http")[0]["path"] == "/status/500/broken-token"
    for result in results:
        assert f"{result['target']} not sent: {result['error']}" in caplog.text
    _no_secrets_in(results, caplog, "down-token", "broken-token", "ftp://files")
    # Nothing to send, or nothing sensible to send about: no results, nothing raised.
    assert notify_run(SPEC, FAILED, "failure", environ=env) == []
    assert notify_run(None, FAILED, "failure", environ=env) == []
    assert notify_run(spec, FAILED, "exploded", environ=env) == []


ROLE_ARN_PREFIX = "arn:aws:iam::123456789012:role/"


def test_a_redirect_is_not_followed(rx):
    env = _env(rx, smallfry_notify_moved=rx.http_url + "/redirect/old-token")
    spec = _spec([{"type": "webhook", "connection": "smallfry_notify_moved"}])
    [result] = notify_run(spec, FAILED, "failure", environ=env)
    assert result["ok"] is False and result["error"] == "the receiver answered HTTP 302"
    assert [m["path"] for m in rx.wait_for(1)] == ["/redirect/old-token"]
    _no_more(rx, 1)


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (the SMTP server's), and its key."""
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(folder / "cert.pem"), str(folder / "key.pem")


# aiosmtpd counts only STARTTLS as TLS and warns when AUTH is allowed in a session that is
# TLS from its first byte (the "ssl" case), which is exactly what that case tests.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_e_mail_uses_the_connection_s_tls_and_login(tls, cert, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    # The client checks the server's certificate against this file only.
    monkeypatch.setenv("SSL_CERT_FILE", cert[0])
    password = "p@ss-Never-Log-Me"
    logins = {"smallfry@example.com": password}
    with NotifyReceiver(tls=tls, cert=cert, logins=logins) as rx:
        # Airflow's SMTP extras: SSL unless disable_ssl; without SSL, STARTTLS unless
        # disable_tls. The login is the sender when there is no from_email.
        query = "?disable_ssl=true" if tls == "starttls" else ""
        good = f"smtp://smallfry%40example.com:{quote(password)}@127.0.0.1:{rx.smtp_port}{query}"
        env = {
            "AIRFLOW_CONN_SMTP_DEFAULT": good,
            "AIRFLOW_CONN_SMTP_WRONG": good.replace("Log", "Lag"),
        }
        spec = _spec(["bob@example.com"])
        [sent] = notify_run(spec, FAILED, "failure", environ=env)
        assert sent["ok"] is True, sent
        [mail] = rx.wait_for(1)
        assert mail["login"] == "smallfry@example.com" and mail["tls"] is True
        assert mail["from"] == "smallfry@example.com" and mail["to"] == ["bob@example.com"]

        env["SMALLFRY_SMTP_CONNECTION"] = "smtp_wrong"
        [refused] = notify_run(spec, FAILED, "failure", environ=env)
        assert refused["error"] == "the SMTP server of smtp_wrong refused the login"
        _no_more(rx, 1)
    _no_secrets_in([sent, refused], caplog, password, "Never-Lag-Me", quote(password))


@pytest.fixture(scope="module")
def iam_moto():
    """moto enforcing IAM, with an admin (the worker's identity) and two roles to run as."""
    with moto_server(enforce_iam_after=3) as url:
        anyone = {"aws_access_key_id": "AKIASETUPONLY0000000", "aws_secret_access_key": "x"}
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", **anyone)
        iam.create_user(UserName="admin")
        allow_all = {"Effect": "Allow", "Action": "*", "Resource": "*"}
        iam.put_user_policy(
            UserName="admin",
            PolicyName="all",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow_all]}),
        )
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        admin = {
            "aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"],
        }
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", **admin)
        trust = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
        for role in ("nb-alice", "nb-carol"):
            iam.create_role(
                RoleName=role,
                AssumeRolePolicyDocument=json.dumps(
                    {"Version": "2012-10-17", "Statement": [trust]}
                ),
            )
        sm = boto3.client("secretsmanager", endpoint_url=url, region_name="us-east-1", **admin)
        yield {"url": url, "admin": admin, "sm": sm, "iam": iam}


def _role_keys(moto: dict, role: str, may_read_secrets: bool) -> dict:
    """Session keys of ``role``, which may read secrets or not (moto checks the action only,
    not the secret's ARN)."""
    statement = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
    if may_read_secrets:
        moto["iam"].put_role_policy(
            RoleName=role,
            PolicyName="hooks",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )
    sts = boto3.client("sts", endpoint_url=moto["url"], region_name="us-east-1", **moto["admin"])
    creds = sts.assume_role(RoleArn=f"{ROLE_ARN_PREFIX}{role}", RoleSessionName="alice")[
        "Credentials"
    ]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


def test_a_secret_reference_is_read_with_the_run_as_keys(rx, iam_moto, caplog):
    caplog.set_level(logging.INFO)
    sm = iam_moto["sm"]
    sm.create_secret(Name="alice/slack-hook", SecretString=rx.http_url + "/s/plain-tok")
    as_json = sm.create_secret(
        Name="alice/teams-hook", SecretString=json.dumps({"url": rx.http_url + "/s/json-tok"})
    )
    sm.create_secret(Name="alice/not-a-url", SecretString="file:///etc/passwd")
    sm.create_secret(Name="alice/metadata", SecretString="http://169.254.169.254/latest/x")
    env = {
        "AWS_ENDPOINT_URL": iam_moto["url"],
        "AWS_REGION": "us-east-1",
        # The worker's own keys could read every secret; only the run-as keys may be used.
        "AWS_ACCESS_KEY_ID": iam_moto["admin"]["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": iam_moto["admin"]["aws_secret_access_key"],
    }
    spec = _spec(
        [
            {"type": "slack", "secret": "alice/slack-hook"},
            {"type": "teams", "secret": as_json["ARN"]},
            {"type": "webhook", "secret": "alice/not-a-url"},
            {"type": "webhook", "secret": "alice/metadata"},
            {"type": "webhook", "secret": "alice/nothing-here"},
        ]
    )
    reader = _role_keys(iam_moto, "nb-alice", may_read_secrets=True)
    results = notify_run(spec, FAILED, "failure", aws_env=reader, environ=env)

    assert [(r["target"], r["ok"], r["error"]) for r in results] == [
        ("alice/slack-hook", True, None),
        (as_json["ARN"], True, None),
        ("alice/not-a-url", False, "the webhook URL is not an HTTP(S) URL"),
        ("alice/metadata", False, "the webhook URL points at a link-local address"),
        ("alice/nothing-here", False, "the secret cannot be read (ResourceNotFoundException)"),
    ]
    paths = sorted(m["path"] for m in rx.wait_for(2, kind="http"))
    assert paths == ["/s/json-tok", "/s/plain-tok"]
    _no_secrets_in(results, caplog, "plain-tok", "json-tok", "/etc/passwd", "169.254")

    # A role that may not read secrets gets nothing, although the worker's keys could.
    other = _role_keys(iam_moto, "nb-carol", may_read_secrets=False)
    results = notify_run(spec, FAILED, "failure", aws_env=other, environ=env)
    assert results[0]["ok"] is False
    assert results[0]["error"] == "the secret cannot be read (HTTP 403)"  # moto's AccessDenied
    assert len(rx.messages) == 2


def test_with_signed_specs_a_secret_needs_run_as_keys(rx, iam_moto, caplog):
    caplog.set_level(logging.INFO)
    iam_moto["sm"].create_secret(Name="alice/signed-hook", SecretString=rx.http_url + "/s/x")
    env = {
        "AWS_ENDPOINT_URL": iam_moto["url"],
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": iam_moto["admin"]["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": iam_moto["admin"]["aws_secret_access_key"],
        "SMALLFRY_SPEC_KEY": "k" * 64,
    }
    spec = _spec([{"type": "slack", "secret": "alice/signed-hook"}])
    # No run-as keys at all, or a kernel environment without them (a job with no run_as).
    for aws_env in (None, {"SMALLFRY_PARAMETERS": "{}"}):
        results = notify_run(spec, FAILED, "failure", aws_env=aws_env, environ=env)
        assert results == [
            {
                "event": "failure",
                "type": "slack",
                "target": "alice/signed-hook",
                "ok": False,
                "error": NO_RUN_AS,
            }
        ]
    with pytest.raises(TimeoutError):
        rx.wait_for(1, timeout=0.5)
    assert NO_RUN_AS in caplog.text


@pytest.mark.parametrize(
    "value,url",
    [
        (
            "https://hooks.example.com/services/T0/B0/abc",
            "https://hooks.example.com/services/T0/B0/abc",
        ),
        (
            "http://https%3A%2F%2Fhooks.example.com/services/T0/B0/abc",
            "https://hooks.example.com/services/T0/B0/abc",
        ),
        (
            "http://https://hooks.example.com/services/T0/B0/abc",
            "https://hooks.example.com/services/T0/B0/abc",
        ),
        (
            '{"conn_type": "slackwebhook", "password": "https://hooks.example.com/services/T/B/c"}',
            "https://hooks.example.com/services/T/B/c",
        ),
        (
            (
                '{"conn_type": "http", "host": "example.com", "schema": "https", "port": 8443,'
                ' "extra": {"endpoint": "/webhook/abc"}}'
            ),
            "https://example.com:8443/webhook/abc",
        ),
    ],
)
def test_connection_forms_give_the_webhook_url_airflow_would(value, url):
    assert webhook_url(parse_connection(value)) == url


def test_connection_uris_parse_as_airflow_parses_them():
    """The URI parser agrees with the real Airflow's on the forms operators write."""
    from .airflow_env import ensure_venv

    uris = [
        "https://hooks.example.com/services/T0/B0/abc",
        "http://https%3A%2F%2Fhooks.example.com/services/T0/B0/abc",
        "http://https://hooks.example.com:8443/hook",
        (
            "smtp://user%40example.com:p%40ss@mail.example.com:587?from_email=a%40b.example"
            "&disable_ssl=true"
        ),
        "http://h.example.com/p?__extra__=%7B%22endpoint%22%3A+%22x%22%7D",
    ]
    probe = (
        "import json, sys\n"
        "from airflow.sdk.definitions.connection import Connection\n"
        "out = []\n"
        "for uri in json.loads(sys.argv[1]):\n"
        "    c = Connection.from_uri(uri, conn_id='x')\n"
        "    out.append([c.conn_type, c.host or '', c.schema or '', c.login or '',"
        " c.password or '', c.port, c.extra_dejson])\n"
        "print(json.dumps(out))\n"
    )
    airflow = subprocess.run(
        [str(ensure_venv()), "-c", probe, json.dumps(uris)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    expected = json.loads(airflow.stdout.strip().splitlines()[-1])
    ours = []
    for uri in uris:
        c = parse_connection(uri)
        ours.append([c.conn_type, c.host, c.schema, c.login, c.password, c.port, c.extra])
    assert ours == expected


def test_the_receiver_runs_as_a_program_and_writes_json_lines(tmp_path):
    import smtplib
    import urllib.request

    out = tmp_path / "received.jsonl"
    http_port, smtp_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab_smallfry.tests.notify_receiver",
            "--http-port",
            str(http_port),
            "--smtp-port",
            str(smtp_port),
            "--out",
            str(out),
        ],
        cwd=str(SERVER_EXT),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready == {
            "ready": True,
            "http": f"http://127.0.0.1:{http_port}",
            "smtp_port": smtp_port,
        }
        request = urllib.request.Request(
            ready["http"] + "/hooks/galata",
            data=b'{"event": "run.failed"}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.sendmail("a@example.com", ["b@example.com"], "Subject: hello\r\n\r\nbody line\r\n")
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["path"] == "/hooks/galata" and lines[0]["body"] == {"event": "run.failed"}
    assert lines[1]["subject"] == "hello" and lines[1]["to"] == ["b@example.com"]
    assert lines[1]["body"] == "body line\n"


# ----- through the runner: real papermill runs, real S3 (moto), the real receivers -----------


@pytest.fixture
def runs(moto_url, direct_s3, bucket, rx, monkeypatch):
    """Storage and a snapshot helper for runner tests; the runner's environment names the
    receiver as the connection smallfry_notify_e2e and as the SMTP server."""
    storage = s3_storage(moto_url)
    for name, value in _env(rx, smallfry_notify_e2e=rx.http_url + "/hooks/e2e-token").items():
        monkeypatch.setenv(name, value)

    def spec(job_id: str, nb: bytes, **extra) -> dict:
        uri, sha = take_snapshot(storage, nb, f"s3://{bucket}/snapshots/")
        return spec_for(job_id, uri, sha, f"s3://{bucket}/runs/", title=f"Job {job_id}", **extra)

    def run_json(job_id: str, run_id: str) -> dict:
        return read_json(direct_s3, bucket, f"runs/alice/{job_id}/{run_id}/run.json")

    return {"storage": storage, "spec": spec, "run_json": run_json, "bucket": bucket}


HOOK = {"type": "webhook", "connection": "smallfry_notify_e2e"}


@pytest.mark.timeout(180)
def test_a_failed_run_tells_the_receiver_once_and_run_json_records_it(runs, rx):
    spec = runs["spec"]("failing", FAILING, notifications={"on_failure": [HOOK]})
    manifest = run_spec(spec, "run-1", runs["storage"])

    assert manifest["status"] == "failed"
    [post] = rx.wait_for(1)
    _no_more(rx, 1)
    assert post["path"] == "/hooks/e2e-token"
    event = post["body"]
    assert event["event"] == "run.failed"
    assert event["job"] == {"id": "failing", "title": "Job failing", "owner": "alice"}
    assert event["run"]["id"] == "run-1" and event["run"]["status"] == "failed"
    assert event["run"]["error"]["type"] == "ValueError"
    assert event["run"]["error"]["message"] == "boom 42"
    assert event["run"]["error"]["execution_count"] == 4
    output = f"s3://{runs['bucket']}/runs/alice/failing/run-1/output.ipynb"
    assert event["run"]["output_uri"] == output
    assert event["run"]["lab_url"] == (
        f"https://hub.example.com/user/alice/lab/tree/S3:{output[len('s3://') :]}"
    )
    run = runs["run_json"]("failing", "run-1")
    assert run["notifications"] == [
        {
            "event": "failure",
            "type": "webhook",
            "target": "smallfry_notify_e2e",
            "ok": True,
            "error": None,
        }
    ]
    assert "e2e-token" not in json.dumps(run)


@pytest.mark.timeout(180)
def test_a_failed_try_that_will_be_retried_tells_nobody(runs, rx):
    spec = runs["spec"](
        "retried",
        FAILING,
        retries={"count": 1, "delay_seconds": 60},
        notifications={"on_failure": [HOOK]},
    )
    assert run_spec(spec, "run-1-try1", runs["storage"], try_number=1)["status"] == "failed"
    _no_more(rx, 0)
    assert not runs["run_json"]("retried", "run-1-try1").get("notifications")

    run_spec(spec, "run-1-try2", runs["storage"], try_number=2)  # the last try
    assert rx.wait_for(1)[0]["body"]["run"]["try_number"] == 2
    assert runs["run_json"]("retried", "run-1-try2")["notifications"][0]["ok"] is True


SLOW = notebook(
    "import time\nfor i in range(8):\n    print('tick', i, flush=True)\n    time.sleep(0.5)",
    'print("done")',
)


@pytest.mark.timeout(180)
def test_a_long_run_tells_once_while_it_is_still_going(runs, rx):
    spec = runs["spec"](
        "slow",
        SLOW,
        notifications={
            "on_duration_over": {"seconds": 1, "to": [HOOK]},
            "on_success": ["done@example.com"],
        },
    )
    manifest = run_spec(spec, "run-1", runs["storage"])

    assert manifest["status"] == "success"
    messages = rx.wait_for(2)
    _no_more(rx, 2)
    over = [m for m in messages if m["kind"] == "http"]
    assert len(over) == 1
    event = over[0]["body"]
    assert event["event"] == "run.duration_over" and event["run"]["status"] == "running"
    assert event["run"]["end"] is None and event["run"]["duration_seconds"] >= 1
    assert event["run"]["duration_over_seconds"] == 1
    [mail] = [m for m in messages if m["kind"] == "smtp"]
    assert mail["to"] == ["done@example.com"] and "Succeeded: Job slow" in mail["subject"]
    notes = runs["run_json"]("slow", "run-1")["notifications"]
    assert sorted((n["event"], n["target"], n["ok"]) for n in notes) == [
        ("duration_over", "smallfry_notify_e2e", True),
        ("success", "done@example.com", True),
    ]


@pytest.mark.timeout(180)
def test_the_runner_program_sends_the_failure_e_mail(runs, rx, moto_url):
    spec = runs["spec"]("mailed", FAILING, notifications={"on_failure": ["bob@example.com"]})
    request = {
        "spec": spec,
        "run_id": "run-1",
        "s3": {
            "endpoint_url": moto_url,
            "region": "us-east-1",
            "access_key": TEST_ACCESS_KEY,
            "secret_key": TEST_SECRET_KEY,
        },
    }
    env = {**os.environ, "PYTHONPATH": str(SERVER_EXT)}
    done = subprocess.run(
        [sys.executable, "-m", "jupyterlab_smallfry.jobs.runner"],
        check=False,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=env,
        timeout=150,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    [mail] = rx.wait_for(1, kind="smtp")
    assert mail["to"] == ["bob@example.com"]
    assert mail["subject"] == "[Small Fry] Failed: Job mailed (run run-1)"
    assert "Error in cell [4]: ValueError: boom 42" in mail["body"]
    assert runs["run_json"]("mailed", "run-1")["notifications"] == [
        {
            "event": "failure",
            "type": "email",
            "target": "bob@example.com",
            "ok": True,
            "error": None,
        }
    ]
    assert "e2e-token" not in done.stderr
