"""Chained jobs (``after``): the rules the form and the factory apply, and a single user's
server (no Airflow) starting a job when the jobs it runs after have succeeded."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
import requests

from jupyterlab_smallfry.airflow.naming import dag_id_for
from jupyterlab_smallfry.jobs.chain import asset_name, check_after, dependents

from .jobs_support import FAILING, cell_text, notebook, read_json
from .processes import jupyter_server


def _spec(job_id: str, after=(), cron: str | None = None) -> dict:
    spec = {"id": job_id, "owner": "ana", "schedule": {"type": "manual"}}
    if cron:
        spec["schedule"] = {"type": "cron", "cron": cron, "timezone": "UTC"}
    if after:
        spec["after"] = list(after)
    return spec


def _owner(*specs: dict) -> dict[str, dict]:
    return {s["id"]: s for s in specs}


def _messages(errors) -> list[str]:
    assert all(e.field == "after" for e in errors)
    return [e.message for e in errors]


def test_a_job_without_after_and_a_valid_chain_pass():
    extract = _spec("extract", cron="0 6 * * *")
    report = _spec("report", after=["extract"])
    assert check_after(extract, _owner(extract)) == []
    # On create the new job is not yet among the owner's specs.
    assert check_after(report, _owner(extract)) == []
    assert check_after(report, _owner(extract, report)) == []


def test_a_missing_upstream_is_named():
    report = _spec("report", after=["extract", "clean"])
    msgs = _messages(check_after(report, _owner(_spec("clean"), report)))
    assert len(msgs) == 1
    assert "'extract'" in msgs[0] and "'clean'" not in msgs[0]


def test_a_job_cannot_run_after_itself():
    report = _spec("report", after=["report"])
    msgs = _messages(check_after(report, _owner(report)))
    assert msgs == ["a job cannot run after itself ('report')"]


def test_a_two_job_cycle_is_named_in_run_order():
    extract = _spec("extract")
    report = _spec("report", after=["extract"])
    # Editing extract to run after report closes the loop.
    edited = _spec("extract", after=["report"])
    msgs = _messages(check_after(edited, _owner(extract, report)))
    assert len(msgs) == 1
    assert msgs[0].endswith("extract → report → extract")


def test_a_longer_cycle_names_the_smallest_loop_in_run_order():
    # a → b → c → a (b runs after a, c after b, a after c), and an unrelated d after a.
    a = _spec("a", after=["c"])
    b = _spec("b", after=["a"])
    c = _spec("c", after=["b"])
    d = _spec("d", after=["a"])
    msgs = _messages(check_after(a, _owner(a, b, c, d)))
    assert msgs[0].endswith("a → b → c → a")
    msgs = _messages(check_after(b, _owner(a, b, c, d)))
    assert msgs[0].endswith("b → c → a → b")


def test_a_diamond_is_not_a_cycle():
    a = _spec("a")
    b = _spec("b", after=["a"])
    c = _spec("c", after=["a"])
    d = _spec("d", after=["b", "c"])
    for spec in (a, b, c, d):
        assert check_after(spec, _owner(a, b, c, d)) == []


def test_a_chained_job_may_not_have_a_cron_schedule():
    extract = _spec("extract")
    report = _spec("report", after=["extract"], cron="0 7 * * *")
    msgs = _messages(check_after(report, _owner(extract)))
    assert len(msgs) == 1
    assert "takes its times from them" in msgs[0]


def test_dependents_are_the_direct_ones_in_id_order():
    a = _spec("a")
    z = _spec("z", after=["a"])
    b = _spec("b", after=["a", "z"])
    c = _spec("c", after=["b"])
    assert [s["id"] for s in dependents(_owner(a, z, b, c), "a")] == ["b", "z"]
    assert dependents(_owner(a, z, b, c), "c") == []


def test_asset_names_differ_per_owner_and_job():
    assert asset_name("ana", "extract").startswith(dag_id_for("ana", "extract"))
    names = {asset_name(o, j) for o in ("ana", "ana.b", "ana_b") for j in ("x", "y")}
    assert len(names) == 6


# --- Without Airflow: a single user's server starts the jobs that run after a success --------

BUCKET = "smallfry-jobs-chain"


@pytest.fixture(scope="module")
def chain_server(moto_url, direct_s3):
    direct_s3.create_bucket(Bucket=BUCKET)
    for name, body in NOTEBOOKS.items():
        direct_s3.put_object(Bucket=BUCKET, Key=f"notebooks/{name}.ipynb", Body=body)
    jobs_dir = Path(tempfile.mkdtemp(prefix="smallfry-chain-jobs-"))
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}",
        f"--SmallFry.sts_endpoint_url={moto_url}",
        f"--SmallFry.jobs_uri={jobs_dir}",
        f"--SmallFry.runs_uri=s3://{BUCKET}/runs/",
    ) as srv:
        http = requests.Session()
        http.headers["Authorization"] = f"token {srv.token}"
        http.base = srv.url + "smallfry/jobs"  # type: ignore[attr-defined]
        yield srv, http


NOTEBOOKS = {
    "extract": notebook('print("EXTRACT rows=3")', parameters=None),
    "report": notebook('print("REPORT from the extract")', parameters=None),
    "failing": FAILING,
}


def _create(http, job_id: str, notebook_name: str, after=()) -> None:
    body = {
        "id": job_id,
        "notebook": {"source": f"s3://{BUCKET}/notebooks/{notebook_name}.ipynb"},
        "schedule": {"type": "manual"},
    }
    if after:
        body["after"] = list(after)
    r = http.post(http.base, json=body)
    assert r.status_code == 201, r.text


def _runs(http, job_id: str) -> list[dict]:
    r = http.get(f"{http.base}/{job_id}")
    assert r.status_code == 200, r.text
    return r.json()["runs"]


def _run_now(http, job_id: str) -> str:
    r = http.post(f"{http.base}/{job_id}/run")
    assert r.status_code == 202, r.text
    return r.json()["run_id"]


def _finished_run(http, job_id: str, timeout: float = 90) -> dict:
    """The job's newest run once it has finished (runs are other processes: poll run.json)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(http, job_id)
        if runs and runs[0]["status"] in ("success", "failed"):
            return runs[0]
        time.sleep(0.5)
    raise AssertionError(f"no finished run of {job_id!r} within {timeout}s: {runs}")


def _logged(srv, text: str, timeout: float = 90) -> None:
    """Wait until the server's log says ``text`` (the chain decision after a run ends)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in srv.log_text():
            return
        time.sleep(0.3)
    raise AssertionError(f"the server never logged {text!r}:\n{srv.log_text()[-3000:]}")


@pytest.mark.timeout(240)
def test_run_now_on_extract_runs_report_after_it(chain_server, direct_s3):
    _srv, http = chain_server
    _create(http, "extract", "extract")
    _create(http, "report", "report", after=["extract"])
    extract_run = _run_now(http, "extract")
    done = _finished_run(http, "extract")
    assert done["run_id"] == extract_run and done["status"] == "success", done
    assert done.get("triggered_by") == "run_now"

    report = _finished_run(http, "report")
    assert report["status"] == "success", report
    assert report["triggered_by"] == "upstream"
    assert report["upstream"] == [{"job_id": "extract", "run_id": extract_run}]
    out = read_json(direct_s3, BUCKET, report["output_uri"].split("/", 3)[3])
    assert "REPORT from the extract" in cell_text(out)
    # One success of extract starts report once.
    assert len(_runs(http, "report")) == 1


@pytest.mark.timeout(240)
def test_a_failing_upstream_starts_nothing(chain_server):
    srv, http = chain_server
    _create(http, "fails", "failing")
    _create(http, "after-fails", "report", after=["fails"])
    run_id = _run_now(http, "fails")
    _logged(srv, f"run {run_id} of 'fails' ended failed; the jobs that run after it wait")
    assert _finished_run(http, "fails")["status"] == "failed"
    assert _runs(http, "after-fails") == []


@pytest.mark.timeout(240)
def test_a_job_after_two_others_waits_for_both(chain_server):
    srv, http = chain_server
    _create(http, "left", "extract")
    _create(http, "right", "extract")
    _create(http, "both", "report", after=["left", "right"])
    left = _run_now(http, "left")
    _logged(srv, "'both' does not run yet: it waits for 'right' to succeed")
    assert _finished_run(http, "left")["status"] == "success"
    assert _runs(http, "both") == []

    right = _run_now(http, "right")
    both = _finished_run(http, "both")
    assert both["status"] == "success", both
    assert both["triggered_by"] == "upstream"
    assert both["upstream"] == [
        {"job_id": "left", "run_id": left},
        {"job_id": "right", "run_id": right},
    ]
    assert len(_runs(http, "both")) == 1
