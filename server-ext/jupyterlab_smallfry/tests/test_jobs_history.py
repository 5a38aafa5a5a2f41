"""Run history against a real S3 server (moto): what a page, a poll and an inputs check cost.

Every S3 request the history code makes is counted by a botocore hook on the real client, so
"a page of 20 reads 20 run.json" and "polling a run makes no LIST" are measured, not assumed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from ..jobs import history
from ..jobs.service import JobError
from ..jobs.store import record_run_status
from .jobs_support import REPORT, s3_storage
from .processes import AWS_TEST_ENV, free_port, jupyter_server, wait_for_url

pytestmark = pytest.mark.timeout(240)

BUCKET = "smallfry-jobs-history"
RUNS = 500
#: Runs 0..RUNS-1, hour by hour; every 7th failed, the newest 3 still running, the rest done.
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def run_id(i: int) -> str:
    at = (START + dt.timedelta(hours=i)).strftime("%Y-%m-%dT%H-%M-%S")
    # Both kinds of id the panel meets: Airflow's schedule and this server's Run now.
    return f"scheduled__{at}-00-00" if i % 2 else f"smallfry__{at}__{i:06x}"


def status_of(i: int) -> str:
    if i >= RUNS - 3:
        return "running"
    return "failed" if i % 7 == 0 else "success"


SPEC = {
    "id": "hourly",
    "owner": "alice",
    "parameters": {"region": "EU"},
    "notebook": {"uri": f"s3://{BUCKET}/snapshots/{'a' * 64}.ipynb", "sha256": "a" * 64},
    "output": {"uri_template": f"s3://{BUCKET}/runs/{{owner}}/{{job_id}}/{{run_id}}/"},
}


class Counted:
    """The S3 requests a storage makes: ``(operation, key or prefix)``."""

    def __init__(self, storage):
        self.calls: list[tuple[str, str]] = []
        storage.s3.meta.events.register("before-parameter-build.s3", self._seen)

    def _seen(self, model, params, **_):
        self.calls.append((model.name, params.get("Key") or params.get("Prefix") or ""))

    def ops(self) -> Counter:
        return Counter(op for op, _ in self.calls)

    def gets(self, name: str) -> list[str]:
        return [k for op, k in self.calls if op == "GetObject" and k.endswith("/" + name)]

    def reset(self):
        self.calls.clear()


@pytest.fixture(scope="module")
def runs(moto_url, direct_s3):
    """500 runs of one job, each with run.json and output.ipynb, finished ones indexed."""
    direct_s3.create_bucket(Bucket=BUCKET)
    storage = s3_storage(moto_url)

    def put(i):
        rid = run_id(i)
        folder = f"runs/alice/hourly/{rid}/"
        manifest = {"run_id": rid, "status": status_of(i), "parameters": {"n": i}}
        direct_s3.put_object(Bucket=BUCKET, Key=folder + "run.json", Body=json.dumps(manifest))
        direct_s3.put_object(Bucket=BUCKET, Key=folder + "output.ipynb", Body=b"{}")
        if status_of(i) != "running":
            record_run_status(storage, SPEC, rid, status_of(i))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(RUNS)))
    return storage


@pytest.fixture
def counted(moto_url):
    storage = s3_storage(moto_url)
    return storage, Counted(storage)


def newest_first(indexes) -> list[str]:
    return [run_id(i) for i in sorted(indexes, reverse=True)]


def test_a_page_of_20_of_500_runs_reads_20_manifests_and_lists_once(runs, counted):
    storage, seen = counted
    page = history.runs_page(storage, SPEC, limit=20)
    assert [r["run_id"] for r in page["runs"]] == newest_first(range(RUNS - 20, RUNS))
    assert len(seen.gets("run.json")) == 20
    assert seen.ops() == Counter({"ListObjectsV2": 1, "GetObject": 20})
    # The output link is the run's own folder, whatever its run.json says.
    newest = page["runs"][0]
    assert (
        newest["output_uri"] == f"s3://{BUCKET}/runs/alice/hourly/{run_id(RUNS - 1)}/output.ipynb"
    )
    assert page["next"] == history.check_cursor(page["next"])


def test_paging_on_visits_every_run_once_reading_each_manifest_once(runs, counted):
    storage, seen = counted
    shown, cursor, pages = [], None, 0
    while True:
        page = history.runs_page(storage, SPEC, limit=64, before=cursor)
        shown += [r["run_id"] for r in page["runs"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert shown == newest_first(range(RUNS))
    assert pages == 8  # 7 full pages and the last 52
    assert len(seen.gets("run.json")) == RUNS
    assert seen.ops()["ListObjectsV2"] == pages


def test_failed_runs_come_from_the_index_without_reading_other_manifests(runs, counted):
    storage, seen = counted
    page = history.runs_page(storage, SPEC, limit=10, status="failed")
    failed = [i for i in range(RUNS) if status_of(i) == "failed"]
    assert [r["run_id"] for r in page["runs"]] == newest_first(failed)[:10]
    assert {r["status"] for r in page["runs"]} == {"failed"}
    assert len(seen.gets("run.json")) == 10
    assert [p for op, p in seen.calls if op == "ListObjectsV2"] == [
        "runs/alice/hourly/.index/failed/"
    ]
    rest = history.runs_page(storage, SPEC, limit=100, status="failed", before=page["next"])
    assert [r["run_id"] for r in rest["runs"]] == newest_first(failed)[10:]
    assert rest["next"] is None


def test_running_runs_are_the_unindexed_folders_whose_manifest_says_so(runs, counted):
    storage, seen = counted
    page = history.runs_page(storage, SPEC, limit=20, status="running")
    assert [r["run_id"] for r in page["runs"]] == newest_first(range(RUNS - 3, RUNS))
    # Three folders without a marker, and those three manifests read; nothing else.
    assert len(seen.gets("run.json")) == 3
    assert page["next"] is None


def test_polling_one_run_is_two_reads_by_key_and_no_listing(runs, counted, direct_s3):
    storage, seen = counted
    rid = run_id(RUNS - 1)
    progress = {"state": "running", "cell": 2, "cells": 5, "output_tail": ["row 1"]}
    key = f"runs/alice/hourly/{rid}/progress.json"
    direct_s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(progress))
    for _ in range(3):
        answer = history.get_run(storage, SPEC, rid)
    assert answer["run"]["status"] == "running"
    assert answer["progress"] == progress
    assert seen.ops() == Counter({"GetObject": 6})
    seen.reset()
    finished = history.get_run(storage, SPEC, run_id(3))
    assert finished["progress"] is None and finished["run"]["status"] == "success"
    assert "ListObjectsV2" not in seen.ops()


def test_a_run_polled_by_its_airflow_run_id_is_found_in_its_folder(runs, counted):
    storage, _seen = counted
    raw = (START + dt.timedelta(hours=1)).isoformat()  # what Airflow calls run 1
    assert history.get_run(storage, SPEC, f"scheduled__{raw}")["run"]["run_id"] == run_id(1)


def test_a_local_runs_folder_pages_and_filters_the_same_way(tmp_path):
    """A single user without S3 keeps runs in a folder: same order, same index, same cursor."""
    from ..jobs.store import Storage

    storage = Storage()
    spec = {**SPEC, "output": {"uri_template": f"{tmp_path}/{{owner}}/{{job_id}}/{{run_id}}/"}}
    for i in range(12):
        folder = tmp_path / "alice" / "hourly" / run_id(i)
        folder.mkdir(parents=True)
        manifest = {"run_id": run_id(i), "status": status_of(i + RUNS - 12)}
        (folder / "run.json").write_text(json.dumps(manifest))
        if manifest["status"] != "running":
            record_run_status(storage, spec, run_id(i), manifest["status"])
    page = history.runs_page(storage, spec, limit=5)
    assert [r["run_id"] for r in page["runs"]] == newest_first(range(7, 12))
    rest = history.runs_page(storage, spec, limit=50, before=page["next"])
    assert [r["run_id"] for r in rest["runs"]] == newest_first(range(7))
    running = history.runs_page(storage, spec, status="running")
    assert [r["run_id"] for r in running["runs"]] == newest_first(range(9, 12))
    failed = history.runs_page(storage, spec, status="failed")
    assert {r["status"] for r in failed["runs"]} == {"failed"} and failed["runs"]
    assert history.get_run(storage, spec, run_id(11))["run"]["status"] == "running"


@pytest.mark.parametrize("bad", ["..", "../other", "a/b", "a\\b", ".", "x\0y", "a..b", ""])
def test_run_ids_that_could_name_another_folder_are_refused(bad):
    with pytest.raises(JobError) as err:
        history.check_run_id(bad)
    assert err.value.status == 400 and err.value.errors[0]["field"] == "run_id"


@pytest.mark.parametrize("bad", ["../x", "a/b", ".index", "has space"])
def test_a_cursor_is_only_a_folder_name(bad):
    with pytest.raises(JobError) as err:
        history.check_cursor(bad)
    assert err.value.errors[0]["field"] == "before"


def test_a_missing_run_is_404(runs, counted):
    storage, _seen = counted
    with pytest.raises(JobError) as err:
        history.get_run(storage, SPEC, "manual__2030-01-01T00:00:00+00:00")
    assert err.value.status == 404


def test_inputs_say_which_objects_changed_or_went_since_the_run(runs, counted, direct_s3):
    storage, seen = counted
    etags = {}
    for name in ("same.csv", "changed.csv", "gone.csv"):
        put = direct_s3.put_object(Bucket=BUCKET, Key=f"data/{name}", Body=b"a,b\n1,2\n")
        etags[name] = put["ETag"].strip('"')
    direct_s3.put_object(Bucket=BUCKET, Key="data/changed.csv", Body=b"a,b\n3,4\n")
    direct_s3.delete_object(Bucket=BUCKET, Key="data/gone.csv")
    manifest = {
        "lineage": {
            "reads": [
                {"bucket": BUCKET, "key": f"data/{n}", "etag": etags[n], "version_id": None}
                for n in etags
            ],
            "writes": [],
            "truncated": False,
        }
    }
    found = {i["key"]: i for i in history.check_inputs(storage, manifest)}
    assert found["data/same.csv"]["changed"] is False
    assert found["data/same.csv"]["etag_now"] == etags["same.csv"]
    assert found["data/changed.csv"]["changed"] is True
    assert found["data/changed.csv"]["etag_now"] not in (None, etags["changed.csv"])
    assert found["data/gone.csv"] == {
        "bucket": BUCKET,
        "key": "data/gone.csv",
        "etag": etags["gone.csv"],
        "etag_now": None,
        "changed": True,
        "missing": True,
    }
    assert seen.ops() == Counter({"HeadObject": 3})


def test_inputs_are_checked_on_at_most_200_objects(runs, counted):
    storage, seen = counted
    reads = [{"bucket": BUCKET, "key": f"none/{i}", "etag": "x"} for i in range(250)]
    found = history.check_inputs(storage, {"lineage": {"reads": reads}})
    assert len(found) == history.MAX_INPUTS == 200
    assert all(i["missing"] for i in found)
    assert seen.ops() == Counter({"HeadObject": 200})


# --- a team deployment: the user's server forwards, the Hub service answers --------------------

TEAM_BUCKET = "smallfry-jobs-history-team"
TEAM_TOKENS = {"alice-hub-token": "alice", "bob-hub-token": "bob"}
ROLE = "arn:aws:iam::123456789012:role/analysts"


@contextlib.contextmanager
def hub_api():
    """A stand-in for the Hub's ``GET /hub/api/user``: whose token this is, with the scope that
    lets the token reach the Small Fry service (what HubAuth asks of a real Hub)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            _scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            name = TEAM_TOKENS.get(token)
            if self.path.rstrip("/") != "/hub/api/user" or name is None:
                status, body = 403, {"status": 403, "message": "Missing or invalid credentials"}
            else:
                status = 200
                body = {
                    "kind": "user",
                    "name": name,
                    "groups": [],
                    "scopes": ["access:services!service=smallfry"],
                }
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hub/api"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def team(moto_url, direct_s3):
    """The Small Fry Hub service (a real process) and alice's Jupyter server forwarding to it."""
    from ..hub.service import new_spec_key

    direct_s3.create_bucket(Bucket=TEAM_BUCKET)
    direct_s3.put_object(Bucket=TEAM_BUCKET, Key="notebooks/report.ipynb", Body=REPORT)
    state = Path(tempfile.mkdtemp(prefix="smallfry-team-"))
    key_file = new_spec_key(state / "spec.key")
    port = free_port()
    with hub_api() as api_url:
        env = {
            **os.environ,
            **AWS_TEST_ENV,
            "JUPYTERHUB_API_URL": api_url,
            "JUPYTERHUB_API_TOKEN": "service-token",
            "JUPYTERHUB_SERVICE_NAME": "smallfry",
            "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}/",
            "JUPYTERHUB_SERVICE_PREFIX": "/services/smallfry/",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        log_path = state / "service.log"
        with open(log_path, "wb") as log:
            service = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jupyterlab_smallfry.hub.service",
                    f"--SmallFryService.jobs_uri={state / 'jobs'}",
                    f"--SmallFryService.runs_uri=s3://{TEAM_BUCKET}/runs/",
                    f"--SmallFryService.endpoint_url={moto_url}",
                    f"--SmallFryService.spec_key_file={key_file}",
                    f"--SmallFryBroker.role_arn={ROLE}",
                    f"--SmallFryBroker.sts_endpoint_url={moto_url}",
                    "--SmallFryBroker.region=us-east-1",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=state,
            )
        service_url = f"http://127.0.0.1:{port}/services/smallfry/"
        try:
            wait_for_url(
                service_url + "jobs",
                service,
                headers={"Authorization": "token alice-hub-token"},
                log=log_path.read_text,
            )
            with jupyter_server(
                f"--SmallFry.endpoint_url={moto_url}",
                f"--SmallFry.sts_endpoint_url={moto_url}",
                f"--SmallFry.jobs_service_url={service_url}",
                env={"JUPYTERHUB_API_TOKEN": "alice-hub-token"},
            ) as srv:
                alice = requests.Session()
                alice.headers["Authorization"] = f"token {srv.token}"
                alice.base = srv.url + "smallfry/jobs"  # type: ignore[attr-defined]
                body = {
                    "id": "team-report",
                    "notebook": {"source": f"s3://{TEAM_BUCKET}/notebooks/report.ipynb"},
                    "parameters": {"region": "EU", "days": 3},
                    "schedule": {"type": "manual"},
                }
                created = alice.post(alice.base, json=body)
                assert created.status_code == 201, created.text
                yield alice, service_url, state
        finally:
            service.terminate()
            service.wait(timeout=15)


def _team_run(direct_s3, rid: str, status: str, nb: bytes | None = None, **extra) -> None:
    folder = f"runs/alice/team-report/{rid}/"
    manifest = {"run_id": rid, "status": status, "parameters": {"region": rid}, **extra}
    direct_s3.put_object(Bucket=TEAM_BUCKET, Key=folder + "run.json", Body=json.dumps(manifest))
    if nb is not None:
        direct_s3.put_object(Bucket=TEAM_BUCKET, Key=folder + "output.ipynb", Body=nb)
    if status in ("success", "failed"):
        marker = f"runs/alice/team-report/.index/{status}/{rid}"
        direct_s3.put_object(Bucket=TEAM_BUCKET, Key=marker, Body=b"")


def test_team_history_pages_and_one_run_come_from_the_hub_service(team, direct_s3):
    alice, _url, state = team
    # The spec was written (and signed) by the service, not by alice's server.
    on_disk = json.loads((state / "jobs" / "alice" / "team-report.json").read_text())
    assert on_disk["signature"] and on_disk["run_as"]["role_arn"] == ROLE
    ids = [f"scheduled__2026-09-0{d}T05-00-00-00-00" for d in range(1, 6)]
    for day, rid in enumerate(ids, start=1):
        _team_run(direct_s3, rid, "failed" if day == 2 else "success")
    first = alice.get(alice.base + "/team-report/runs", params={"limit": 3})
    assert first.status_code == 200, first.text
    assert [r["run_id"] for r in first.json()["runs"]] == ids[::-1][:3]
    rest = alice.get(alice.base + "/team-report/runs", params={"before": first.json()["next"]})
    assert [r["run_id"] for r in rest.json()["runs"]] == ids[::-1][3:]
    failed = alice.get(alice.base + "/team-report/runs", params={"status": "failed"}).json()
    assert [r["run_id"] for r in failed["runs"]] == [ids[1]]
    progress = {"state": "done", "cell": 3, "cells": 3}
    key = f"runs/alice/team-report/{ids[0]}/progress.json"
    direct_s3.put_object(Bucket=TEAM_BUCKET, Key=key, Body=json.dumps(progress))
    one = alice.get(alice.base + f"/team-report/runs/{ids[0]}").json()
    assert one["run"]["run_id"] == ids[0] and one["progress"] == progress
    r = alice.get(alice.base + "/team-report/runs", params={"status": "done"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "status"
    assert alice.get(alice.base + "/team-report/runs/scheduled__none").status_code == 404


def test_team_inputs_are_checked_with_the_jobs_role_for_its_owner(team, direct_s3):
    alice, _url, _state = team
    put = direct_s3.put_object(Bucket=TEAM_BUCKET, Key="lake/team.csv", Body=b"a\n1\n")
    reads = [{"bucket": TEAM_BUCKET, "key": "lake/team.csv", "etag": put["ETag"].strip('"')}]
    _team_run(direct_s3, "scheduled__inputs", "success", lineage={"reads": reads})
    url = alice.base + "/team-report/runs/scheduled__inputs/inputs"
    assert alice.get(url).json()["inputs"][0]["changed"] is False
    direct_s3.put_object(Bucket=TEAM_BUCKET, Key="lake/team.csv", Body=b"a\n2\n")
    assert alice.get(url).json()["inputs"][0]["changed"] is True


def test_team_compare_is_nbdimes_diff(team, direct_s3):
    alice, _url, _state = team
    import nbformat
    from nbdime import diff_notebooks

    books = {}
    for rid, text in (("scheduled__cmp1", "total 1"), ("scheduled__cmp2", "total 2")):
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("print(total)")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text + "\n")]
        nb.cells.append(cell)
        books[rid] = nb
        _team_run(direct_s3, rid, "success", nbformat.writes(nb).encode())
    r = alice.get(
        alice.base + "/team-report/compare",
        params={"base": "scheduled__cmp1", "remote": "scheduled__cmp2"},
    )
    assert r.status_code == 200, r.text
    expected = diff_notebooks(books["scheduled__cmp1"], books["scheduled__cmp2"])
    assert r.json()["diff"] == json.loads(json.dumps(expected))
    assert r.json()["parameters"] == {
        "base": {"region": "scheduled__cmp1"},
        "remote": {"region": "scheduled__cmp2"},
    }


def test_team_run_requests_reach_the_service_and_are_checked_there(team):
    alice, _url, _state = team
    r = alice.post(alice.base + "/team-report/run", json={"parameters": {"min-amount": 1}})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "parameters.min-amount"
    r = alice.post(alice.base + "/team-report/run", json={"rerun": "scheduled__none"})
    assert r.status_code == 404
    # A valid request gets as far as the starter, which in this stack has no Airflow.
    r = alice.post(alice.base + "/team-report/run", json={"parameters": {"region": "US"}})
    assert r.status_code == 409 and "needs Airflow" in r.json()["message"]


def test_the_service_answers_history_only_for_the_tokens_owner(team):
    _alice, url, _state = team
    bob = {"Authorization": "token bob-hub-token"}
    assert requests.get(url + "jobs/team-report/runs", headers=bob).status_code == 404
    assert (
        requests.get(url + "jobs/team-report/runs/scheduled__inputs", headers=bob).status_code
        == 404
    )
    nobody = requests.get(url + "jobs/team-report/runs")
    assert nobody.status_code == 401
    alice = {"Authorization": "token alice-hub-token"}
    for path in ("runs/..%2Fx", "runs/a%2Fb/inputs", "compare?base=..&remote=notebook"):
        r = requests.get(url + "jobs/team-report/" + path, headers=alice)
        assert r.status_code == 400, (path, r.text)
