"""Chained jobs, run requests and notifications with Airflow's real scheduler.

Airflow 3 (scheduler, DAG processor, API server, triggerer; LocalExecutor on PostgreSQL, as
``platform/airflow_stack.py`` runs it for a team) builds alice's jobs from the jobs folder. A
Run now of ``extract`` through Airflow's REST API makes the scheduler run ``report`` on its own,
through the asset ``extract``'s task updates, and ``report``'s run.json in (moto) S3 names the
extract run that released it. Both runs leave ``progress.json`` (done, every code cell) beside
run.json, and extract's run.json lists the S3 objects its notebook read and wrote (boto3) with
the ETags moto gave them. A notebook that fails tells a webhook (an Airflow connection
defined as an ``AIRFLOW_CONN_…`` variable of the scheduler) and an e-mail address (through
the ``smtp_default`` connection) once each, naming the job, the run and the error. A
single-user Jupyter server configured with ``airflow_api_url`` starts "Run with other
parameters", "Re-run" and "Reproduce" through Airflow's REST API, and the scheduler runs them
with those parameters injected.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from ..airflow.naming import dag_id_for
from ..platform.airflow_api import AirflowClient
from ..platform.airflow_stack import AirflowSettings, AirflowStack
from ..platform.postgres import PostgresCluster
from .airflow_env import ensure_venv
from .jobs_support import FAILING, cell_text, injected_source, notebook, read_json
from .notify_receiver import NotifyReceiver
from .processes import AWS_TEST_ENV, free_port

pytestmark = pytest.mark.timeout(600)

BUCKET = "smallfry-airflow-chain"
OWNER = "alice"
HOOK = "smallfry_notify_ops_hook"
MAIL_TO = "alice@example.com"
ORDERS = b"id,amount\n1,10\n2,20\n3,30\n"
NOTEBOOKS = {
    # Reads an input object and writes its extract, with plain boto3: the lineage hooks in the
    # kernel see both (the worker's AWS_ENDPOINT_URL points boto3 at moto).
    "extract": notebook(
        "import boto3\n"
        's3 = boto3.client("s3")\n'
        f'rows = s3.get_object(Bucket="{BUCKET}", Key="inputs/orders.csv")["Body"].read()',
        f's3.put_object(Bucket="{BUCKET}", Key="extracts/orders.csv", Body=rows.upper())\n'
        'print(f"EXTRACT rows={len(rows.splitlines()) - 1}")',
        parameters=None,
    ),
    "report": notebook('print("REPORT after the extract")', parameters=None),
    "fails": FAILING,
    "params": notebook('print(f"PARAMS region={region} days={days}")'),
}


#: The notebooks' snapshot names (their sha256), as the jobs' specs give them.
DIGESTS = {name: hashlib.sha256(body).hexdigest() for name, body in NOTEBOOKS.items()}


def _spec(job_id: str, notebook_name: str, sha256: str, **extra) -> dict:
    return {
        "apiVersion": "smallfry/v1",
        "kind": "NotebookJob",
        "id": job_id,
        "owner": OWNER,
        "notebook": {
            "uri": f"s3://{BUCKET}/snapshots/{sha256}.ipynb",
            "sha256": sha256,
            "kernel": "python3",
        },
        "schedule": {"type": "manual"},
        "retries": {"count": 0},
        "timeout_seconds": 300,
        "output": {"uri_template": f"s3://{BUCKET}/runs/{{owner}}/{{job_id}}/{{run_id}}/"},
        **extra,
    }


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def world(moto_url, direct_s3):
    timings: dict = {}
    started = time.monotonic()
    python = ensure_venv()
    direct_s3.create_bucket(Bucket=BUCKET)
    direct_s3.put_object(Bucket=BUCKET, Key="inputs/orders.csv", Body=ORDERS)
    digests = DIGESTS
    for name, body in NOTEBOOKS.items():
        direct_s3.put_object(Bucket=BUCKET, Key=f"snapshots/{digests[name]}.ipynb", Body=body)
    with NotifyReceiver() as rx:
        pg = PostgresCluster(tempfile.mkdtemp(prefix="sf-pg-chain-"), free_port(), durable=False)
        root = Path(tempfile.mkdtemp(prefix="sf-airflow-chain-"))
        stack = None
        try:
            jobs = root / "jobs" / OWNER
            jobs.mkdir(parents=True)
            specs = {
                "extract": _spec("extract", "extract", digests["extract"]),
                "report": _spec("report", "report", digests["report"], after=["extract"]),
                "fails": _spec(
                    "fails",
                    "fails",
                    digests["fails"],
                    notifications={
                        "on_failure": [{"type": "webhook", "connection": HOOK}, MAIL_TO]
                    },
                ),
                "params": _spec(
                    "params", "params", digests["params"], parameters={"region": "US", "days": 7}
                ),
            }
            for job_id, spec in specs.items():
                (jobs / f"{job_id}.json").write_text(json.dumps(spec))
            database_url = pg.start().create_database("airflow")
            hook_url = f"{rx.http_url}/hooks/ops"
            stack = AirflowStack(
                AirflowSettings(
                    python=python,
                    home=root / "home",
                    database_url=database_url,
                    # No one logs in through SSO here; the machine account uses the REST API.
                    oidc_issuer="http://127.0.0.1:9/",
                    client_id="airflow",
                    client_secret="unused",
                    admin_group="airflow-admins",
                    jobs_dir=root / "jobs",
                    port=free_port(),
                    parse_interval=3,
                    extra_env={
                        **AWS_TEST_ENV,
                        "AWS_ENDPOINT_URL": moto_url,
                        # The worker's connections, as a deployment defines them in its
                        # secrets backend: a webhook and the mail server.
                        f"AIRFLOW_CONN_{HOOK.upper()}": json.dumps(
                            {"conn_type": "http", "host": hook_url}
                        ),
                        "AIRFLOW_CONN_SMTP_DEFAULT": f"smtp://127.0.0.1:{rx.smtp_port}"
                        "?disable_ssl=true&disable_tls=true&from_email=smallfry%40example.com",
                        # The scheduler may queue the asset-triggered run without waiting.
                        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                    },
                )
            )
            stack.start()
            timings["bring-up"] = round(time.monotonic() - started, 1)
            wanted = {dag_id_for(OWNER, j) for j in specs}
            account = stack.service_account

            async def wait_for_dags():
                deadline = time.monotonic() + 120
                async with AirflowClient(stack.url, account.username, account.password) as api:
                    while time.monotonic() < deadline:
                        dags = {d["dag_id"]: d for d in await api.dags()}
                        if wanted <= set(dags):
                            return dags
                        await asyncio.sleep(1)
                raise AssertionError(f"DAGs never showed:\n{stack.log('dag-processor')}")

            dags = run(wait_for_dags())
            timings["specs parsed"] = round(time.monotonic() - started, 1)
            yield {
                "stack": stack,
                "dags": dags,
                "rx": rx,
                "hook_url": hook_url,
                "jobs_dir": root / "jobs",
                "timings": timings,
            }
        finally:
            if stack is not None:
                stack.stop()
            pg.stop()
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(pg.folder, ignore_errors=True)
            print(f"\nAirflow chain timings (s): {timings}")


def _client(world) -> AirflowClient:
    account = world["stack"].service_account
    return AirflowClient(world["stack"].url, account.username, account.password)


async def _finished(api: AirflowClient, dag_id: str, run_id: str, timeout: float = 150) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dag_run = await api.dag_run(dag_id, run_id)
        if dag_run["state"] in ("success", "failed"):
            return dag_run
        await asyncio.sleep(1)
    raise AssertionError(f"{dag_id} {run_id} did not finish in {timeout}s")


async def _first_run(api: AirflowClient, dag_id: str, timeout: float = 120) -> dict:
    """The first run of ``dag_id`` the scheduler starts by itself, once it has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = await api.dag_runs(dag_id)
        if runs:
            return await _finished(api, dag_id, runs[-1]["dag_run_id"])
        await asyncio.sleep(1)
    raise AssertionError(f"the scheduler never started {dag_id}")


def _run_json(direct_s3, job_id: str, run_id: str, name: str = "run.json") -> dict:
    """A file the run wrote in its folder (run.json, progress.json)."""
    from ..jobs.store import safe_run_id

    return read_json(direct_s3, BUCKET, f"runs/{OWNER}/{job_id}/{safe_run_id(run_id)}/{name}")


def _code_cells(job_id: str) -> int:
    return sum(c["cell_type"] == "code" for c in json.loads(NOTEBOOKS[job_id])["cells"])


def _etag(direct_s3, key: str) -> str:
    return direct_s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')


def test_the_jobs_are_dags_a_chained_one_waiting_for_its_upstream(world):
    dags = world["dags"]
    for job in ("extract", "report", "fails"):
        dag = dags[dag_id_for(OWNER, job)]
        assert "invalid-spec" not in dag["tags"] and not dag["is_paused"], dag
    report = dags[dag_id_for(OWNER, "report")]
    # Airflow shows what it waits for: the asset extract's success updates.
    assert "asset" in json.dumps(report.get("timetable_summary") or report).lower(), report


def test_run_now_of_extract_makes_the_scheduler_run_report(world, direct_s3):
    started = time.monotonic()

    async def go():
        async with _client(world) as api:
            extract_run = await api.trigger(dag_id_for(OWNER, "extract"), note="Run now")
            extract = await _finished(api, dag_id_for(OWNER, "extract"), extract_run)
            report = await _first_run(api, dag_id_for(OWNER, "report"))
            return extract_run, extract, report

    extract_run, extract, report = run(go())
    world["timings"]["extract then report"] = round(time.monotonic() - started, 1)
    stack = world["stack"]
    assert extract["state"] == "success", stack.log("scheduler")
    assert report["state"] == "success", stack.log("scheduler")
    assert report["run_type"] == "asset_triggered"

    upstream = _run_json(direct_s3, "extract", extract_run)
    assert upstream["status"] == "success" and upstream["triggered_by"] == "run_now"
    manifest = _run_json(direct_s3, "report", report["dag_run_id"])
    assert manifest["status"] == "success", manifest
    assert manifest["triggered_by"] == "upstream"
    assert manifest["upstream"] == [{"job_id": "extract", "run_id": extract_run}]
    out = read_json(direct_s3, BUCKET, manifest["output_uri"].split("/", 3)[3])
    assert "REPORT after the extract" in json.dumps(out)

    # What the panel shows of a finished run the Airflow worker executed: its progress (every
    # code cell done) and what it read and wrote in S3, with the ETags moto gave them.
    report_run = report["dag_run_id"]
    for job_id, run_id, ran in (
        ("extract", extract_run, upstream),
        ("report", report_run, manifest),
    ):
        progress = _run_json(direct_s3, job_id, run_id, "progress.json")
        assert progress["state"] == "done", progress
        assert progress["cells"] == progress["cell"] == _code_cells(job_id) == ran["cells"]
    assert "EXTRACT rows=3" in "".join(
        _run_json(direct_s3, "extract", extract_run, "progress.json")["output_tail"]
    )
    lineage = upstream["lineage"]
    assert lineage["truncated"] is False
    assert [(o["bucket"], o["key"], o["etag"]) for o in lineage["reads"]] == [
        (BUCKET, "inputs/orders.csv", _etag(direct_s3, "inputs/orders.csv"))
    ]
    assert [(o["bucket"], o["key"], o["etag"]) for o in lineage["writes"]] == [
        (BUCKET, "extracts/orders.csv", _etag(direct_s3, "extracts/orders.csv"))
    ]
    assert lineage["reads"][0]["bytes"] == len(ORDERS)
    assert manifest["lineage"] == {"reads": [], "writes": [], "truncated": False}


def test_a_failing_job_tells_the_webhook_and_the_mailbox_once(world, direct_s3):
    rx = world["rx"]
    dag_id = dag_id_for(OWNER, "fails")

    async def go():
        async with _client(world) as api:
            run_id = await api.trigger(dag_id)
            return run_id, await _finished(api, dag_id, run_id)

    run_id, dag_run = run(go())
    assert dag_run["state"] == "failed"
    # The runner sends before the task ends, so both have arrived by now.
    hooks = rx.wait_for(1, kind="http", timeout=5)
    mails = rx.wait_for(1, kind="smtp", timeout=5)
    assert len(hooks) == 1 and len(mails) == 1, rx.messages
    hook, mail = hooks[0], mails[0]
    assert hook["path"] == "/hooks/ops"
    body = json.dumps(hook["body"])
    for words in ("fails", run_id, "boom 42"):
        assert words in body, (words, hook["body"])
        assert words in mail["subject"] + mail["body"], (words, mail)
    assert mail["to"] == [MAIL_TO]

    manifest = _run_json(direct_s3, "fails", run_id)
    assert manifest["status"] == "failed" and manifest["error"]["message"] == "boom 42"
    sent = {(n["type"], n["target"], n["ok"]) for n in manifest["notifications"]}
    assert sent == {("webhook", HOOK, True), ("email", MAIL_TO, True)}
    # The webhook's URL is a secret: not in run.json, nor in any task log.
    assert world["hook_url"] not in json.dumps(manifest)
    task_logs = list((world["stack"].home / "logs").rglob("*.log"))
    assert task_logs
    for path in task_logs:
        assert world["hook_url"] not in path.read_text(errors="replace"), path


def test_other_parameters_rerun_and_reproduce_from_jupyter_run_in_airflow(
    world, moto_url, direct_s3
):
    """Run with other parameters, then Re-run and Reproduce of that run, from a single-user
    Jupyter server with ``SmallFry.airflow_api_url``: the server triggers the DAG through
    Airflow's REST API with ``conf={"options": …}``, and the real scheduler (not ``airflow
    dags test``) runs the notebook with those parameters."""
    from urllib.parse import quote

    import requests

    from .processes import jupyter_server

    started = time.monotonic()
    account = world["stack"].service_account
    api_url = (
        f"http://{quote(account.username, safe='')}:{quote(account.password, safe='')}@"
        f"{world['stack'].local_url.split('://', 1)[1]}/api/v2"
    )
    dag_id = dag_id_for(OWNER, "params")
    other = {"region": "EU", "days": 3}
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}",
        f"--SmallFry.jobs_uri={world['jobs_dir']}",
        f"--SmallFry.runs_uri=s3://{BUCKET}/runs/",
        f"--SmallFry.airflow_api_url={api_url}",
        "--ServerApp.identity_provider_class="
        "jupyterlab_smallfry.tests.jobs_identity.TokenPerUserIdentityProvider",
        env={"SMALLFRY_TEST_USERS": json.dumps({"tok-alice": f"{OWNER}"})},
    ) as srv:
        session = requests.Session()
        session.headers["Authorization"] = "token tok-alice"

        def run_request(body: dict) -> dict:
            r = session.post(srv.url + "smallfry/jobs/params/run", json=body)
            assert r.status_code == 202, r.text
            answer = r.json()
            assert answer["airflow"] is True and answer["dag_id"] == dag_id, answer
            return answer

        async def finish(*run_ids: str) -> list[dict]:
            async with _client(world) as api:
                return await asyncio.gather(*(_finished(api, dag_id, r) for r in run_ids))

        first = run_request({"parameters": other})
        # Until the worker starts it, the panel already shows the run's own parameters.
        queued = session.get(srv.url + f"smallfry/jobs/params/runs/{first['run_id']}").json()
        assert queued["run"]["parameters"] == other, queued
        [first_run] = run(finish(first["run_id"]))
        # Re-run and Reproduce of the finished run (side by side): its parameters, not the
        # spec's; Reproduce also its notebook snapshot, and the inputs changed since (none).
        second = run_request({"rerun": first["run_id"]})
        third = run_request({"reproduce": first["run_id"]})
        assert third["changed_inputs"] == []
        second_run, third_run = run(finish(second["run_id"], third["run_id"]))
        assert account.password not in srv.log_text()
    world["timings"]["parameters, then rerun and reproduce"] = round(time.monotonic() - started, 1)

    stack = world["stack"]
    snapshot = {"uri": f"s3://{BUCKET}/snapshots/{DIGESTS['params']}.ipynb"}
    snapshot["sha256"] = DIGESTS["params"]
    for answer, dag_run, kind, extra in (
        (first, first_run, "parameters", {}),
        (second, second_run, "rerun", {}),
        (third, third_run, "reproduce", {"notebook": snapshot}),
    ):
        assert dag_run["state"] == "success", stack.log("scheduler")
        # What Airflow was asked to run: the options in the run's conf, as Jupyter sent them.
        options = {"parameters": other, "triggered_by": kind, **extra}
        assert dag_run["conf"] == {"options": options}
        manifest = _run_json(direct_s3, "params", answer["run_id"])
        assert manifest["status"] == "success", manifest
        assert manifest["triggered_by"] == kind
        assert manifest["parameters"] == other
        out = read_json(direct_s3, BUCKET, answer["output_uri"].split("/", 3)[3])
        assert 'region = "EU"' in injected_source(out) and "days = 3" in injected_source(out)
        assert "PARAMS region=EU days=3" in cell_text(out)
        assert manifest["notebook"] == snapshot
