"""The whole team platform, end to end, as ``smallfry-platform up`` starts it.

Real processes only: moto enforcing IAM (users' roles, the Hub service's and Airflow workers'
identities, see ``platform_aws.py``), a real OIDC provider, and :class:`Platform` (the code
behind the command) starting PostgreSQL, Airflow 3 (API server, real scheduler, DAG processor,
triggerer) with OIDC login, the users' venv, JupyterHub with configurable-http-proxy, Unix
accounts per user, and the Small Fry Hub service.

alice schedules ``sales-report.ipynb`` from her S3 home through her server's API; the service
writes and signs the spec; the real scheduler runs it with alice's role; ``run.json`` names
alice's assumed role; her Jobs list shows the run. Then bob tries every way in that the issue
lists, and each is refused with a clear message.

Needs root (Unix accounts, servers started as them) and PostgreSQL's binaries.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time

import pytest
import requests

from ..airflow.naming import dag_id_for
from .airflow_sso import bearer, sso_login
from .hub_stack import xsrf_of
from .jobs_support import notebook
from .platform_aws import ACCOUNT, BUCKET, role_arn
from .platform_stack import ADMIN_GROUP, RUNS, team_platform

pytestmark = [
    pytest.mark.timeout(1500),
    pytest.mark.skipif(os.geteuid() != 0, reason="creates Unix accounts: needs root"),
]

ALICE, BOB, ADMIN = "tp-alice", "tp-bob", "tp-admin"
GROUPS = {ALICE: [f"team-{ALICE}"], BOB: [f"team-{BOB}"], ADMIN: [ADMIN_GROUP]}
ALICE_DAG = dag_id_for(ALICE, "sales")


@pytest.fixture(scope="module")
def platform():
    with team_platform(GROUPS) as platform:
        yield platform


@pytest.fixture(scope="module")
def alice(platform):
    return platform.hub.login(ALICE)


@pytest.fixture(scope="module")
def bob(platform):
    return platform.hub.login(BOB)


def call(platform, browser, user, method, path, **kwargs) -> requests.Response:
    """What JupyterLab does in ``user``'s browser: cookie plus the XSRF header on writes."""
    url = f"{platform.public_url}/user/{user}/{path}"
    headers = dict(kwargs.pop("headers", {}))
    if method != "GET":
        headers["X-XSRFToken"] = xsrf_of(browser, f"/user/{user}/")
    return browser.request(method, url, headers=headers, timeout=120, **kwargs)


def sales_job(owner: str = ALICE, **changes) -> dict:
    body = {
        "id": "sales",
        "title": "Sales report",
        "notebook": {"source": f"s3://{BUCKET}/home/{owner}/sales-report.ipynb"},
        "parameters": {"bucket": BUCKET, "region": "EMEA", "min_amount": 50.0},
        "schedule": {"type": "manual"},
        "timeout_seconds": 600,
    }
    body.update(changes)
    return body


def airflow_admin(platform) -> dict:
    """Bearer headers of the Hub service's Airflow account (sees every DAG)."""
    account = platform.airflow.service_account
    reply = requests.post(
        f"{platform.airflow.url}/auth/token",
        json={"username": account.username, "password": account.password},
        timeout=30,
    )
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def wait_for_dag(platform, dag_id: str, timeout: float = 120) -> dict:
    headers = airflow_admin(platform)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = requests.get(f"{platform.airflow.url}/api/v2/dags/{dag_id}", headers=headers)
        if reply.status_code == 200:
            return reply.json()
        time.sleep(1)
    raise AssertionError(f"Airflow never showed {dag_id}:\n{platform.airflow.log('dag-processor')}")


@pytest.fixture(scope="module")
def scheduled(platform, alice):
    """alice schedules the report and runs it now; the real scheduler runs it in Airflow."""
    created = call(platform, alice, ALICE, "POST", "smallfry/jobs", json=sales_job())
    assert created.status_code == 201, created.text
    job = created.json()
    scheduled_at = time.monotonic()
    wait_for_dag(platform, ALICE_DAG)
    visible_after = time.monotonic() - scheduled_at
    started = call(platform, alice, ALICE, "POST", "smallfry/jobs/sales/run")
    assert started.status_code == 202, started.text
    triggered_at = time.monotonic()
    run_id = started.json()["run_id"]
    deadline = time.monotonic() + 300
    runs = []
    while time.monotonic() < deadline:
        listed = call(platform, alice, ALICE, "GET", "smallfry/jobs")
        assert listed.status_code == 200, listed.text
        assert listed.json()["runs_uri"] == RUNS  # the service's, not a local default
        runs = listed.json()["jobs"][0]["runs"]
        if runs and runs[0]["status"] in ("success", "failed"):
            break
        time.sleep(2)
    return {
        "job": job,
        "run_id": run_id,
        "runs": runs,
        "dag_visible_s": visible_after,
        "run_s": time.monotonic() - triggered_at,
    }


def test_alices_job_is_written_and_signed_by_the_service(platform, scheduled):
    spec = scheduled["job"]["spec"]
    assert spec["owner"] == ALICE
    assert spec["run_as"] == {"role_arn": role_arn(f"nb-{ALICE}")}  # her group's role
    assert spec["notebook"]["uri"].startswith(f"s3://{BUCKET}/smallfry/snapshots/")
    on_disk = json.loads((platform.jobs_dir / ALICE / "sales.json").read_text())
    assert on_disk["signature"]["alg"] == "hmac-sha256"
    assert "signature" not in spec  # the signature stays between the service and Airflow
    # No user can read or write the jobs folder, nor read Airflow's task logs.
    for folder in (platform.jobs_dir, platform.state / "airflow"):
        assert folder.stat().st_mode & 0o077 == 0, folder


def test_airflow_runs_it_as_alice_and_her_jobs_list_shows_the_run(platform, scheduled, alice):
    runs = scheduled["runs"]
    assert runs and runs[0]["status"] == "success", (runs, platform.airflow.log("scheduler"))
    run = runs[0]
    assert run["trigger"] == "airflow"
    assert run["aws_identity"]["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/nb-{ALICE}/{ALICE}"
    s3 = platform.aws.client("s3")
    prefix = run["output_uri"].split(f"s3://{BUCKET}/", 1)[1].rsplit("/", 1)[0]
    assert prefix.startswith(f"smallfry/runs/{ALICE}/sales/")
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{prefix}/run.json")["Body"].read())
    assert manifest["status"] == "success" and manifest["aws_identity"] == run["aws_identity"]
    output = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{prefix}/output.ipynb")["Body"].read())
    text = "".join(
        "".join(o.get("text", "")) for c in output["cells"] for o in c.get("outputs", [])
    )
    assert "EMEA" in text and "orders in the file" in text
    # alice can open her run log with her own keys (the Jobs panel's output link).
    opened = call(platform, alice, ALICE, "GET", f"smallfry/aws/s3/{BUCKET}/{prefix}/output.ipynb")
    assert opened.status_code == 200, opened.text[:300]


def test_bob_cannot_write_a_spec_into_alices_folder(platform, scheduled, bob):
    claimed = sales_job(BOB)
    claimed["owner"] = ALICE
    claimed = call(platform, bob, BOB, "POST", "smallfry/jobs", json=claimed)
    assert claimed.status_code == 403, claimed.text
    assert "owned by the signed-in user" in claimed.json()["message"]
    as_bob = subprocess.run(
        ["runuser", "-u", BOB, "--", "sh", "-c", f"echo {{}} > {platform.jobs_dir / ALICE}/x.json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert as_bob.returncode != 0 and "Permission denied" in as_bob.stderr
    assert not (platform.jobs_dir / ALICE / "x.json").exists()


def test_bob_cannot_ask_for_a_role_outside_his_groups(platform, bob):
    body = sales_job(BOB, id="steal", run_as={"role_arn": role_arn(f"nb-{ALICE}")})
    refused = call(platform, bob, BOB, "POST", "smallfry/jobs", json=body)
    assert refused.status_code == 403, refused.text
    assert "is not one of your roles" in refused.json()["message"]
    assert not (platform.jobs_dir / BOB / "steal.json").exists()


def test_bob_cannot_plant_or_name_a_forged_snapshot(platform, scheduled, bob):
    forged = b'{"cells": [], "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4}'
    digest = hashlib.sha256(forged).hexdigest()
    put = call(
        platform, bob, BOB, "PUT", f"smallfry/aws/s3/{BUCKET}/smallfry/snapshots/{digest}.ipynb",
        data=forged,
    )  # fmt: skip
    assert put.status_code == 403 and "AccessDenied" in put.text
    alices = scheduled["job"]["spec"]["notebook"]
    named = call(
        platform, bob, BOB, "POST", "smallfry/jobs",
        json=sales_job(
            BOB, id="copycat", notebook={k: alices[k] for k in ("uri", "sha256", "kernel")}
        ),
    )  # fmt: skip
    assert named.status_code == 400 and named.json()["message"].startswith("notebook.uri")


def test_a_spec_the_service_did_not_sign_never_runs(platform, scheduled):
    signed = json.loads((platform.jobs_dir / ALICE / "sales.json").read_text())
    unsigned = {k: v for k, v in signed.items() if k != "signature"}
    (platform.jobs_dir / BOB).mkdir(exist_ok=True)
    (platform.jobs_dir / BOB / "unsigned.json").write_text(
        json.dumps({**unsigned, "id": "unsigned", "owner": BOB})
    )
    tampered = {**signed, "id": "tampered", "run_as": {"role_arn": role_arn(f"nb-{BOB}")}}
    (platform.jobs_dir / ALICE / "tampered.json").write_text(json.dumps(tampered))
    for owner, job, reason in ((BOB, "unsigned", "unsigned"), (ALICE, "tampered", "tampered")):
        dag = wait_for_dag(platform, dag_id_for(owner, job))
        tags = [t["name"] for t in dag["tags"]]
        assert "invalid-spec" in tags, dag
        assert reason in (dag.get("description") or ""), dag


def test_bob_gets_no_keys_from_sts_or_the_kernel_endpoint(platform, bob):
    sts = call(
        platform, bob, BOB, "POST", "smallfry/aws/sts/",
        data="Action=GetSessionToken&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert sts.status_code == 403 and "sts_actions" in sts.text
    assert "SecretAccessKey" not in sts.text
    kernel = call(platform, bob, BOB, "GET", "smallfry/credentials/process")
    assert kernel.status_code in (403, 404) and "SecretAccessKey" not in kernel.text


def test_bob_in_airflow_neither_sees_nor_triggers_alices_dag(platform, scheduled):
    browser = sso_login(platform.airflow, platform.idp, BOB, GROUPS[BOB])
    base = platform.airflow.url
    seen = requests.get(f"{base}/api/v2/dags/{ALICE_DAG}", headers=bearer(browser), timeout=30)
    assert seen.status_code in (403, 404), seen.text
    run = requests.post(
        f"{base}/api/v2/dags/{ALICE_DAG}/dagRuns", json={"logical_date": None},
        headers=bearer(browser), timeout=30,
    )  # fmt: skip
    assert run.status_code in (403, 404), run.text
    admin = sso_login(platform.airflow, platform.idp, ADMIN, GROUPS[ADMIN])
    assert requests.get(f"{base}/api/v2/dags/{ALICE_DAG}", headers=bearer(admin)).ok


def test_a_scheduled_kernel_runs_as_its_owner_and_cannot_read_the_signing_key(
    platform, scheduled, alice
):
    """The notebook job's kernel is alice's Unix account with a clean environment: Airflow's
    secrets and the spec-signing key (root's 0600 file) are out of its reach."""
    key = str(platform.spec_key_file)
    probe = notebook(
        "import os, pwd\n"
        'print("user=" + pwd.getpwuid(os.getuid()).pw_name)\n'
        'print("secrets=" + ",".join(sorted(k for k in os.environ '
        'if k.startswith(("AIRFLOW", "SMALLFRY_SPEC")))))\n'
        "try:\n"
        f"    open({key!r}).read()\n"
        '    print("key=READ")\n'
        "except PermissionError:\n"
        '    print("key=PermissionError")',
        parameters=None,
    )
    platform.aws.client("s3").put_object(
        Bucket=BUCKET, Key=f"home/{ALICE}/whoami.ipynb", Body=probe
    )
    body = sales_job(id="whoami", parameters={})
    body["notebook"] = {"source": f"s3://{BUCKET}/home/{ALICE}/whoami.ipynb"}
    assert call(platform, alice, ALICE, "POST", "smallfry/jobs", json=body).status_code == 201
    wait_for_dag(platform, dag_id_for(ALICE, "whoami"))
    assert call(platform, alice, ALICE, "POST", "smallfry/jobs/whoami/run").status_code == 202
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        runs = call(platform, alice, ALICE, "GET", "smallfry/jobs/whoami").json()["runs"]
        if runs and runs[0]["status"] in ("success", "failed"):
            break
        time.sleep(2)
    assert runs and runs[0]["status"] == "success", runs
    prefix = runs[0]["output_uri"].split(f"s3://{BUCKET}/", 1)[1]
    output = json.loads(
        platform.aws.client("s3").get_object(Bucket=BUCKET, Key=prefix)["Body"].read()
    )
    text = "".join(
        "".join(o.get("text", "")) for c in output["cells"] for o in c.get("outputs", [])
    )
    assert f"user={ALICE}" in text and "secrets=\n" in text and "key=PermissionError" in text, text


def test_run_now_right_after_scheduling_waits_for_airflow_to_load_the_job(platform, alice):
    """Airflow reads new specs every few seconds: Run now pressed at once must not fail."""
    body = sales_job(id="at-once")
    assert call(platform, alice, ALICE, "POST", "smallfry/jobs", json=body).status_code == 201
    started = call(platform, alice, ALICE, "POST", "smallfry/jobs/at-once/run")
    assert started.status_code == 202, started.text
    assert started.json()["dag_id"] == dag_id_for(ALICE, "at-once")
