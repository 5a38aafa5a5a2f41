"""Only kernels get keys from ``/smallfry/credentials/process``: by the per-server kernel secret.

The Jupyter token is in every JupyterLab page (its page config), so any script that runs in
the browser has it; a browser session has its cookie. Neither may read the server's AWS keys.
The helper that kernels run reads a secret from the server's private ``server.json`` instead.

Processes: a broker-mode Jupyter server whose broker is a stand-in here (it hands out fixed,
recognisable keys), real kernels of that server, the helper as a subprocess, and the
session's ambient-mode server (which has no kernel profile, so no such endpoint).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .broker_stand_in import broker_answering
from .hub_kernel import ask_as_kernel_helper, helper_env, run_in_kernel, server_info_path
from .processes import jupyter_server

KEYS = {
    "AccessKeyId": "ASIAKERNELSECRET0001",
    "SecretAccessKey": "kernel/secret+Only-For-Kernels-0123456789",
    "SessionToken": "IQoJkernelSECRETsessionTOKEN" + "k" * 40,
}
HUB_TOKEN = "the-servers-hub-api-token-0123456789"
NO_KEYS = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}


@contextlib.contextmanager
def stand_in_broker():
    """Answers the broker's ``POST /credentials`` with ``KEYS`` for one hour."""

    def answer() -> dict:
        expiry = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
        return {
            **KEYS,
            "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "arn": "arn:aws:sts::123456789012:assumed-role/nb-alice/alice",
            "source_identity": "alice",
            "roles": ["arn:aws:iam::123456789012:role/nb-alice"],
            "role": "arn:aws:iam::123456789012:role/nb-alice",
        }

    with broker_answering(answer) as url:
        yield url + "/services/smallfry-broker/"


@pytest.fixture(scope="module")
def managed():
    """A broker-mode server: kernels get the managed profile, keys come from the broker."""
    with (
        stand_in_broker() as broker_url,
        jupyter_server(
            "--SmallFry.credentials_mode=broker",
            f"--SmallFry.broker_url={broker_url}",
            env={**NO_KEYS, "JUPYTERHUB_API_TOKEN": HUB_TOKEN},
            debug=True,
        ) as srv,
    ):
        yield srv


@pytest.fixture(scope="module")
def info(managed) -> Path:
    status = requests.get(
        f"{managed.url}smallfry/credentials",
        headers={"Authorization": f"token {managed.token}"},
        timeout=60,
    ).json()
    assert status["state"] == "ok", status
    return server_info_path(status["profile"])


def process_url(server) -> str:
    return f"{server.url}smallfry/credentials/process"


def assert_no_keys(reply: requests.Response) -> None:
    assert reply.status_code == 403, (reply.status_code, reply.text[:300])
    assert reply.headers["Cache-Control"] == "no-store"
    assert "kernel secret" in reply.json()["message"]
    assert not any(value in reply.text for value in KEYS.values())


def test_server_json_is_private_and_holds_a_kernel_secret_not_the_jupyter_token(managed, info):
    assert stat.S_IMODE(os.stat(info).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(info.parent).st_mode) == 0o700
    text = info.read_text()
    assert managed.token not in text and HUB_TOKEN not in text
    saved = json.loads(text)
    assert set(saved) == {"url", "secret"} and len(saved["secret"]) >= 43  # 32 random bytes


def test_the_jupyter_token_gets_no_keys(managed):
    for headers, params in [
        ({"Authorization": f"token {managed.token}"}, {}),
        ({}, {"token": managed.token}),
        ({"Authorization": f"token {HUB_TOKEN}"}, {}),  # the Hub token kernels used to send
        ({}, {}),
    ]:
        assert_no_keys(
            requests.get(process_url(managed), headers=headers, params=params, timeout=60)
        )


def test_a_browser_session_gets_no_keys(managed):
    browser = requests.Session()
    browser.get(f"{managed.url}login?token={managed.token}", timeout=60)
    assert browser.get(f"{managed.url}smallfry/credentials", timeout=60).status_code == 200
    assert_no_keys(browser.get(process_url(managed), timeout=60))


def test_the_kernel_secret_gets_the_keys_and_nothing_else_does(managed, info):
    reply = ask_as_kernel_helper(info)
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    body = reply.json()
    assert {k: body[k] for k in KEYS} == KEYS and body["Version"] == 1
    secret = json.loads(info.read_text())["secret"]
    # The secret counts only in its own header: not as a Jupyter token, nor a wrong one.
    assert_no_keys(requests.get(process_url(managed), params={"token": secret}, timeout=60))
    assert_no_keys(
        requests.get(process_url(managed), headers={"Authorization": f"token {secret}"}, timeout=60)
    )
    assert_no_keys(
        ask_as_kernel_helper(info, secret=secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    )
    assert_no_keys(ask_as_kernel_helper(info, secret=""))


def test_the_helper_command_prints_the_keys_without_any_token_around(managed, info):
    env = helper_env()
    assert not any(name.startswith("JUPYTERHUB_") for name in env)
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyterlab_smallfry.credential_process",
            "--server-info",
            str(info),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert {k: v for k, v in json.loads(ok.stdout).items() if k in KEYS} == KEYS


async def test_a_real_kernel_reads_the_keys_through_the_managed_profile(managed):
    code = "import boto3\nc = boto3.Session().get_credentials()\nprint(c.method, c.access_key)\n"
    result = await run_in_kernel(managed.url, managed.token, code)
    assert result["error"] is None, result
    assert result["stdout"].split() == ["custom-process", KEYS["AccessKeyId"]]


def test_ambient_mode_has_no_kernel_endpoint(server):
    assert (
        requests.get(
            f"{server.url}smallfry/credentials",
            headers={"Authorization": f"token {server.token}"},
            timeout=60,
        ).json()["profile"]
        is None
    )
    reply = requests.get(
        process_url(server), headers={"Authorization": f"token {server.token}"}, timeout=60
    )
    assert reply.status_code == 404 and "SecretAccessKey" not in reply.text


def test_zz_no_key_or_secret_in_the_server_log(managed, info):
    log = managed.log_text()
    assert "smallfry/credentials/process" in log  # the requests above were logged (debug)
    secret = json.loads(info.read_text())["secret"]
    assert [v for v in (*KEYS.values(), secret) if v in log] == []
