"""What the factory builds, inspected inside the real Airflow venv (no scheduler, no S3)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from .airflow_env import HERE, SERVER_EXT, ensure_venv

pytestmark = pytest.mark.timeout(600)
FIXTURES = HERE.parent / "jobs" / "fixtures"

# Runs in the Airflow venv: builds the DAGs and reports what a user would see in Airflow.
INSPECT = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import botocore.client
def no_aws(*a, **k):
    raise AssertionError("the factory called AWS while parsing")
botocore.client.BaseClient._make_api_call = no_aws
from jupyterlab_smallfry.airflow import build_dags
ns = {}
dags = build_dags(ns, sys.argv[1])
out = {}
for dag_id, dag in dags.items():
    task = dag.tasks[0]
    cb = dag.on_failure_callback
    cb = cb[0] if isinstance(cb, list) and cb else cb
    out[dag_id] = {
        "in_namespace": ns.get(dag_id) is dag,
        "timetable": type(dag.timetable).__name__,
        "cron": getattr(dag.timetable, "_expression", None),
        "timezone": str(getattr(dag.timetable, "_timezone", "")) or None,
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "paused_on_creation": dag.is_paused_upon_creation,
        "tags": sorted(dag.tags),
        "description": dag.description,
        "owner": task.owner,
        "task_id": task.task_id,
        "task_type": type(task).__name__,
        "template_fields": list(task.template_fields),
        "retries": task.retries,
        "retry_delay": task.retry_delay.total_seconds(),
        "execution_timeout": task.execution_timeout.total_seconds() if task.execution_timeout else None,
        "failure_emails": list(getattr(cb, "to", []) or []) if cb else [],
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def built():
    python = ensure_venv()
    jobs = Path(tempfile.mkdtemp(prefix="smallfry-factory-"))
    for owner in ("alice", "bob"):
        (jobs / owner).mkdir()
    full = json.loads((FIXTURES / "valid" / "full.json").read_text())
    (jobs / "alice" / "daily-sales.json").write_text(json.dumps({**full, "owner": "mallory"}))
    paused = {**full, "id": "paused", "paused": True}
    (jobs / "alice" / "paused.json").write_text(json.dumps(paused))
    shutil.copy(FIXTURES / "valid" / "manual-minimal.json", jobs / "bob" / "adhoc.json")
    manual = json.loads((jobs / "bob" / "adhoc.json").read_text())
    manual["output"] = {"uri_template": "/srv/runs/{owner}/{job_id}/{run_id}/"}
    (jobs / "bob" / "adhoc.json").write_text(json.dumps(manual))
    (jobs / "bob" / "list.json").write_text("[]")
    (jobs / "bob" / "renamed.json").write_text(json.dumps({**manual, "id": "adhoc"}))
    (jobs / "bob" / ".adhoc.json.123.tmp").write_text("{")  # a writer's temporary file
    for case in sorted((FIXTURES / "invalid").glob("*.json"))[:8]:
        spec = json.loads(case.read_text())["spec"]
        (jobs / "alice" / f"bad-{case.stem}.json").write_text(json.dumps(spec))
    env = {
        **os.environ,
        "PYTHONPATH": str(SERVER_EXT),
        "AIRFLOW_HOME": str(jobs / ".home"),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }

    def run(extra=None):
        proc = subprocess.run(
            [str(python), "-c", INSPECT, str(jobs)],
            env={**env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    return run


def test_a_valid_spec_maps_to_the_dag_users_expect(built):
    dags = built()
    d = dags["smallfry__alice__daily-sales"]
    assert d["in_namespace"]
    assert (d["timetable"], d["cron"], d["timezone"]) == (
        "CronTriggerTimetable",
        "0 6 * * 1-5",
        "Europe/Amsterdam",
    )
    assert d["start_date"] == "2026-11-24T23:00:00+00:00"  # midnight in Amsterdam
    assert d["catchup"] is False and d["max_active_runs"] == 1 and d["paused_on_creation"] is False
    assert d["owner"] == "alice"  # from the folder, not the "mallory" written in the file
    assert "owner:alice" in d["tags"] and {"smallfry", "sales", "daily"} <= set(d["tags"])
    assert (d["task_id"], d["task_type"], d["template_fields"]) == (
        "run_notebook",
        "NotebookJobOperator",
        [],
    )
    assert (d["retries"], d["retry_delay"], d["execution_timeout"]) == (2, 600.0, 1800.0)
    assert d["failure_emails"] == ["alice@example.com"]


def test_paused_and_manual_specs_have_no_schedule(built):
    dags = built()
    assert dags["smallfry__alice__paused"]["timetable"] == "NullTimetable"
    assert dags["smallfry__alice__paused"]["paused_on_creation"] is True
    assert "paused" in dags["smallfry__alice__paused"]["tags"]
    assert dags["smallfry__bob__adhoc"]["timetable"] == "NullTimetable"
    assert dags["smallfry__bob__adhoc"]["task_type"] == "NotebookJobOperator"


def test_bad_files_become_placeholders_and_never_hide_the_others(built):
    dags = built()
    bad = {k: v for k, v in dags.items() if "invalid-spec" in v["tags"]}
    assert set(bad) == {"smallfry__bob__list", "smallfry__bob__renamed"} | {
        k for k in dags if k.startswith("smallfry__alice__bad-")
    }
    assert len([k for k in dags if k.startswith("smallfry__alice__bad-")]) == 8
    assert all(
        v["task_type"] == "InvalidSpecOperator" and v["timetable"] == "NullTimetable"
        for v in bad.values()
    )
    assert "does not match the file name" in dags["smallfry__bob__renamed"]["description"]
    assert "a job spec must be a JSON object" in dags["smallfry__bob__list"]["description"]
    assert "schedule.cron" in dags["smallfry__alice__bad-last-day-L"]["description"]
    assert len(dags) == 3 + 2 + 8  # the temporary file is ignored


def test_a_running_task_parses_only_its_own_dag(built):
    dags = built(
        {
            "_AIRFLOW_PARSING_CONTEXT_DAG_ID": "smallfry__alice__paused",
            "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "run_notebook",
        }
    )
    assert list(dags) == ["smallfry__alice__paused"]
