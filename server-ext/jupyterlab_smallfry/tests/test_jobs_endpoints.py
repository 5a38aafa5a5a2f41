"""``/smallfry/jobs`` against a real Jupyter server (three users) and a real moto S3 server."""

from __future__ import annotations

import concurrent.futures
import hashlib
import http.client
import json
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from .jobs_support import REPORT, cell_text, injected_source, notebook, read_json
from .processes import jupyter_server

pytestmark = pytest.mark.timeout(240)

USERS = {"tok-alice": "alice", "tok-bob": "bob", "tok-eve": "eve@example.com"}
BUCKET = "smallfry-jobs-endpoints"


@pytest.fixture(scope="module")
def jobs_dir():
    return Path(tempfile.mkdtemp(prefix="smallfry-jobs-"))


@pytest.fixture(scope="module")
def jobs_server(moto_url, direct_s3, jobs_dir):
    direct_s3.create_bucket(Bucket=BUCKET)
    direct_s3.put_object(Bucket=BUCKET, Key="notebooks/report.ipynb", Body=REPORT)
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}",
        f"--SmallFry.sts_endpoint_url={moto_url}",
        f"--SmallFry.jobs_uri={jobs_dir}",
        f"--SmallFry.runs_uri=s3://{BUCKET}/runs/",
        "--ServerApp.identity_provider_class="
        "jupyterlab_smallfry.tests.jobs_identity.TokenPerUserIdentityProvider",
        env={"SMALLFRY_TEST_USERS": json.dumps(USERS)},
    ) as srv:
        yield srv


def client(server, token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    session.base = server.url + "smallfry/jobs"  # type: ignore[attr-defined]
    return session


@pytest.fixture
def alice(jobs_server):
    return client(jobs_server, "tok-alice")


@pytest.fixture
def bob(jobs_server):
    return client(jobs_server, "tok-bob")


def daily(job_id="daily", **extra) -> dict:
    body = {
        "id": job_id,
        "title": "Sales, every weekday",
        "notebook": {"source": f"s3://{BUCKET}/notebooks/report.ipynb"},
        "parameters": {"region": "EU", "days": 3},
        "schedule": {
            "type": "cron",
            "cron": "0 6 * * 1-5",
            "timezone": "Europe/Amsterdam",
            "start_date": "2026-11-25",
        },
    }
    body.update(extra)
    return body


def create(session, body) -> requests.Response:
    return session.post(session.base, json=body)


def test_create_stamps_owner_and_snapshots_the_notebook(alice, jobs_dir, direct_s3):
    r = create(alice, daily("snap"))
    assert r.status_code == 201, r.text
    spec = r.json()["spec"]
    assert spec["owner"] == "alice"
    digest = hashlib.sha256(REPORT).hexdigest()
    assert spec["notebook"]["sha256"] == digest
    assert spec["notebook"]["uri"] == f"s3://{BUCKET}/snapshots/{digest}.ipynb"
    assert spec["notebook"]["kernel"] == "python3"
    assert spec["output"]["uri_template"] == f"s3://{BUCKET}/runs/{{owner}}/{{job_id}}/{{run_id}}/"
    on_disk = json.loads((jobs_dir / "alice" / "snap.json").read_text())
    assert on_disk == spec
    assert (
        direct_s3.get_object(Bucket=BUCKET, Key=f"snapshots/{digest}.ipynb")["Body"].read()
        == REPORT
    )

    # Editing the notebook afterwards does not change what the job runs.
    direct_s3.put_object(
        Bucket=BUCKET, Key="notebooks/report.ipynb", Body=notebook('print("edited")')
    )
    try:
        again = alice.get(alice.base + "/snap").json()["spec"]
        assert again["notebook"]["sha256"] == digest
    finally:
        direct_s3.put_object(Bucket=BUCKET, Key="notebooks/report.ipynb", Body=REPORT)


def test_body_claiming_another_owner_is_refused(alice, jobs_dir):
    r = create(alice, daily("claim", owner="bob"))
    assert r.status_code == 403
    assert "owner" in r.json()["message"]
    assert not (jobs_dir / "bob" / "claim.json").exists()
    assert not (jobs_dir / "alice" / "claim.json").exists()
    assert create(alice, daily("claim")).status_code == 201
    r = alice.put(alice.base + "/claim", json=daily("claim", owner="bob"))
    assert r.status_code == 403
    assert json.loads((jobs_dir / "alice" / "claim.json").read_text())["owner"] == "alice"


def test_each_user_sees_and_changes_only_their_own_jobs(alice, bob, jobs_server, jobs_dir):
    assert create(alice, daily("mine")).status_code == 201
    assert create(bob, daily("mine", title="Bob's")).status_code == 201  # same id, other owner
    assert bob.get(bob.base + "/mine").json()["spec"]["title"] == "Bob's"
    bob_ids = [j["spec"]["id"] for j in bob.get(bob.base).json()["jobs"]]
    assert bob_ids == ["mine"]
    assert all(j["spec"]["owner"] == "alice" for j in alice.get(alice.base).json()["jobs"])
    assert bob.delete(bob.base + "/mine").status_code == 204
    assert (jobs_dir / "alice" / "mine.json").exists()
    assert bob.get(bob.base + "/mine").status_code == 404

    eve = client(jobs_server, "tok-eve")
    assert create(eve, daily("mail")).status_code == 201
    assert (jobs_dir / "eve@example.com" / "mail.json").exists()


def _raw(server, method: str, path: str, token: str, body: bytes | None = None) -> int:
    """Send the path exactly as written (requests would normalise '..' away)."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(
            method,
            path,
            body=body,
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize(
    "job_path",
    [
        "../x",
        "..",
        "a/b",
        "%2e%2e",
        "%2e%2e%2fx",
        "..%2F..%2Fetc%2Fpasswd",
        "a%2Fb",
        "UPPER",
        ".hidden",
        "x%00y",
    ],
)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_ids_that_could_leave_the_folder_are_refused(jobs_server, jobs_dir, job_path, method):
    body = json.dumps(daily("x")).encode() if method == "PUT" else None
    status = _raw(jobs_server, method, f"/smallfry/jobs/{job_path}", "tok-alice", body)
    assert status == 400
    assert not list(jobs_dir.parent.glob("x.json")) and not (jobs_dir / "x.json").exists()


@pytest.mark.parametrize("job_id", ["../x", "a/b", "..", "%2e%2e"])
def test_post_with_traversal_id_is_refused(alice, job_id, jobs_dir):
    r = create(alice, daily(job_id))
    assert r.status_code == 400
    assert "id" in r.json()["message"]


@pytest.mark.parametrize(
    "change,field",
    [
        (
            {
                "schedule": {
                    "type": "cron",
                    "cron": "0 6 * * * *",
                    "timezone": "UTC",
                    "start_date": "2026-11-25",
                }
            },
            "schedule.cron",
        ),
        (
            {
                "schedule": {
                    "type": "cron",
                    "cron": "0 25 * * *",
                    "timezone": "UTC",
                    "start_date": "2026-11-25",
                }
            },
            "schedule.cron",
        ),
        (
            {
                "schedule": {
                    "type": "cron",
                    "cron": "@daily",
                    "timezone": "Mars/Olympus",
                    "start_date": "2026-11-25",
                }
            },
            "schedule.timezone",
        ),
        ({"parameters": {"min-amount": 3}}, "parameters.min-amount"),
        ({"parameters": {"lambda": 3}}, "parameters.lambda"),
        ({"output": {"uri_template": "s3://b/{owner}/{run_id}/"}}, "output.uri_template"),
        ({"retries": {"count": -1}}, "retries.count"),
    ],
)
def test_invalid_spec_gives_400_naming_the_field(alice, jobs_dir, change, field):
    r = create(alice, daily("bad", **change))
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith(field + ":"), r.json()["message"]
    assert not (jobs_dir / "alice" / "bad.json").exists()


def test_malformed_json_and_non_objects_give_400(alice, jobs_server):
    assert (
        alice.post(
            alice.base, data=b'{"id": "x",', headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert alice.post(alice.base, json=["not", "an", "object"]).status_code == 400
    assert alice.put(alice.base + "/x", data=b"nope").status_code == 400
    assert requests.post(jobs_server.url + "smallfry/jobs", json=daily("anon")).status_code == 403


def test_notebook_without_kernel_or_missing_is_refused(alice, direct_s3):
    r = create(
        alice, daily("nofile", notebook={"source": f"s3://{BUCKET}/notebooks/missing.ipynb"})
    )
    assert r.status_code == 400 and "does not exist" in r.json()["message"]
    bare = json.loads(REPORT)
    bare["metadata"].pop("kernelspec")
    direct_s3.put_object(Bucket=BUCKET, Key="notebooks/bare.ipynb", Body=json.dumps(bare).encode())
    r = create(alice, daily("nokernel", notebook={"source": f"s3://{BUCKET}/notebooks/bare.ipynb"}))
    assert r.status_code == 400 and r.json()["message"].startswith("notebook.kernel")


def test_duplicate_create_conflicts_and_concurrent_creates_have_one_winner(alice, jobs_dir):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = sorted(
            pool.map(lambda _: create(client_like(alice), daily("race")).status_code, range(8))
        )
    assert statuses == [201] + [409] * 7
    assert create(alice, daily("race")).status_code == 409


def client_like(session):
    clone = requests.Session()
    clone.headers.update(session.headers)
    clone.base = session.base
    return clone


def test_concurrent_writers_never_leave_a_partial_file(alice, jobs_dir):
    assert create(alice, daily("busy")).status_code == 201
    path = jobs_dir / "alice" / "busy.json"
    titles = {f"title {i}" for i in range(24)}
    padding = "x" * 4900  # big enough that a non-atomic write would be seen half-done
    seen, bad = set(), []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                seen.add(json.loads(path.read_text())["title"])
            except ValueError as err:
                bad.append(err)

    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(
                pool.map(
                    lambda t: (
                        client_like(alice)
                        .put(alice.base + "/busy", json=daily("busy", title=t, description=padding))
                        .status_code
                    ),
                    sorted(titles),
                )
            )
    finally:
        stop.set()
        watcher.join()
    assert codes == [200] * len(titles)
    assert bad == []
    assert json.loads(path.read_text())["title"] in titles
    assert seen and seen <= titles | {"Sales, every weekday"}
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def test_pause_resume_and_delete(alice, jobs_dir):
    assert create(alice, daily("pausable")).status_code == 201
    r = alice.post(alice.base + "/pausable/pause")
    assert r.status_code == 200 and r.json()["spec"]["paused"] is True
    assert json.loads((jobs_dir / "alice" / "pausable.json").read_text())["paused"] is True
    assert alice.post(alice.base + "/pausable/resume").json()["spec"]["paused"] is False
    assert alice.delete(alice.base + "/pausable").status_code == 204
    assert not (jobs_dir / "alice" / "pausable.json").exists()
    assert alice.get(alice.base + "/pausable").status_code == 404
    assert alice.delete(alice.base + "/pausable").status_code == 404


def test_listing_shows_recent_runs_from_manifests(alice, direct_s3):
    assert create(alice, daily("history")).status_code == 201
    for run_id, status, start in [
        ("scheduled__a", "success", "2026-11-20T05:00:00.000Z"),
        ("scheduled__b", "failed", "2026-11-21T05:00:00.000Z"),
    ]:
        direct_s3.put_object(
            Bucket=BUCKET,
            Key=f"runs/alice/history/{run_id}/run.json",
            Body=json.dumps({"run_id": run_id, "status": status, "start": start}),
        )
    jobs = {j["spec"]["id"]: j for j in alice.get(alice.base).json()["jobs"]}
    runs = jobs["history"]["runs"]
    assert [(r["run_id"], r["status"]) for r in runs] == [
        ("scheduled__b", "failed"),
        ("scheduled__a", "success"),
    ]
    assert runs[0]["output_uri"] == f"s3://{BUCKET}/runs/alice/history/scheduled__b/output.ipynb"
    assert jobs["history"]["dag_id"] == "smallfry__alice__history"


def test_listing_shows_the_three_newest_runs_by_run_time_whatever_was_written_last(
    alice, direct_s3
):
    """A backfill or a slow run writes its manifest late; the panel still shows the newest
    runs, newest first (run ids carry their UTC time; S3 keeps write times to the second)."""
    assert create(alice, daily("backfilled")).status_code == 201
    days = [3, 8, 1, 7, 2, 6, 4, 5]  # written in this order, all within a second or two
    for day in days:
        run_id = f"scheduled__2026-11-0{day}T05-00-00-00-00"
        direct_s3.put_object(
            Bucket=BUCKET,
            Key=f"runs/alice/backfilled/{run_id}/run.json",
            Body=json.dumps({"run_id": run_id, "status": "success", "start": None}),
        )
    jobs = {j["spec"]["id"]: j for j in alice.get(alice.base).json()["jobs"]}
    shown = [r["run_id"][len("scheduled__2026-11-0") :][0] for r in jobs["backfilled"]["runs"]]
    assert shown == ["8", "7", "6"]


def test_run_now_executes_with_papermill_and_shows_in_the_list(alice, direct_s3):
    assert create(alice, daily("now")).status_code == 201
    r = alice.post(alice.base + "/now/run")
    assert r.status_code == 202, r.text
    run = r.json()
    key = run["run_uri"].split("/", 3)[3]
    listed = alice.get(alice.base + "/now").json()["runs"]
    assert [x["run_id"] for x in listed] == [run["run_id"]]
    deadline = time.monotonic() + 120
    manifest = read_json(direct_s3, BUCKET, key)
    while manifest["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.5)  # the run happens in another process; its manifest is the signal
        manifest = read_json(direct_s3, BUCKET, key)
    assert manifest["status"] == "success", manifest
    assert manifest["parameters"] == {"region": "EU", "days": 3}
    out = read_json(direct_s3, BUCKET, run["output_uri"].split("/", 3)[3])
    assert "REPORT region=EU doubled=6" in cell_text(out)
    assert 'region = "EU"' in injected_source(out)
    assert alice.get(alice.base + "/now").json()["runs"][0]["status"] == "success"


def test_a_spec_can_only_point_at_this_servers_snapshots(alice):
    foreign = "s3://someone-elses-bucket/x/" + "a" * 64 + ".ipynb"
    r = create(
        alice, daily("foreign", notebook={"uri": foreign, "sha256": "a" * 64, "kernel": "python3"})
    )
    assert r.status_code == 400 and r.json()["message"].startswith("notebook.uri")
    made = create(alice, daily("kept")).json()["spec"]
    # Re-sending the spec as read (snapshot kept) is fine: that is what "edit" does.
    body = {k: v for k, v in made.items() if k not in ("owner",)}
    body["title"] = "Renamed"
    r = alice.put(alice.base + "/kept", json=body)
    assert r.status_code == 200 and r.json()["spec"]["notebook"] == made["notebook"]


def test_a_snapshot_uri_from_the_request_is_never_trusted(alice, direct_s3):
    """Someone can put an object under the snapshots prefix (a forged "snapshot") and name it
    with its real sha256: only the snapshot the job already has may be named."""
    forged = notebook('print("forged")')
    digest = hashlib.sha256(forged).hexdigest()
    direct_s3.put_object(Bucket=BUCKET, Key=f"snapshots/{digest}.ipynb", Body=forged)
    asked = {
        "uri": f"s3://{BUCKET}/snapshots/{digest}.ipynb",
        "sha256": digest,
        "kernel": "python3",
    }
    r = create(alice, daily("forged", notebook=asked))
    assert r.status_code == 400 and r.json()["message"].startswith("notebook.uri"), r.text
    assert create(alice, daily("swap")).status_code == 201
    r = alice.put(alice.base + "/swap", json=daily("swap", notebook=asked))
    assert r.status_code == 400 and r.json()["message"].startswith("notebook.uri"), r.text
    assert alice.get(alice.base + "/swap").json()["spec"]["notebook"]["sha256"] != digest


def test_nan_infinity_and_oversized_specs_are_refused(alice, jobs_dir):
    for constant in ("NaN", "Infinity", "-Infinity"):
        raw = json.dumps(daily("nan")).replace('"days": 3', f'"days": {constant}')
        r = alice.post(alice.base, data=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (constant, r.text)
        assert constant.lstrip("-") in r.json()["message"]
    assert not (jobs_dir / "alice" / "nan.json").exists()
    listing = alice.get(alice.base)
    assert listing.status_code == 200 and isinstance(listing.json()["jobs"], list)
    big = daily("big", parameters={f"p{i}": "x" * 1000 for i in range(300)})
    r = create(alice, big)
    assert r.status_code == 413, r.text
    assert "limit" in r.json()["message"]
    assert not (jobs_dir / "alice" / "big.json").exists()


def test_an_edit_of_a_version_someone_else_changed_is_a_conflict(alice, jobs_dir):
    created = create(alice, daily("shared"))
    assert created.status_code == 201
    seen = alice.get(alice.base + "/shared")
    etag = seen.headers["ETag"]
    assert seen.json()["etag"] == etag == created.json()["etag"]
    first = alice.put(
        alice.base + "/shared", json=daily("shared", title="First"), headers={"If-Match": etag}
    )
    assert first.status_code == 200, first.text
    assert first.json()["etag"] != etag
    late = alice.put(
        alice.base + "/shared", json=daily("shared", title="Second"), headers={"If-Match": etag}
    )
    assert late.status_code == 409 and "changed by someone else" in late.json()["message"]
    paused = alice.post(alice.base + "/shared/pause", headers={"If-Match": etag})
    assert paused.status_code == 409
    on_disk = json.loads((jobs_dir / "alice" / "shared.json").read_text())
    assert on_disk["title"] == "First" and not on_disk.get("paused")
    current = first.json()["etag"]
    assert alice.post(alice.base + "/shared/pause", headers={"If-Match": current}).ok


def test_a_missing_jobs_bucket_is_a_clear_error_not_a_crash(moto_url):
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}",
        "--SmallFry.jobs_uri=s3://no-such-bucket-smallfry/jobs/",
    ) as srv:
        r = requests.get(srv.url + "smallfry/jobs", headers={"Authorization": f"token {srv.token}"})
        assert r.status_code == 502
        assert r.json()["message"].startswith("S3 refused: NoSuchBucket")


# --- errors as data: each problem on its field, each message whole -------------------------


def test_a_spec_with_several_problems_lists_each_on_its_field(alice, jobs_dir):
    """A bad id does not hide the spec's other problems, and a message containing "; " (the
    parameter name rule) arrives whole, so the form never has to split a string."""
    r = create(alice, daily("Bad ID", parameters={"min-amount": 3}, retries={"count": -1}))
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == [
        {
            "field": "id",
            "message": "must be 1-63 characters: lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit",
        },
        {
            "field": "parameters.min-amount",
            "message": "'min-amount' is not a valid parameter name "
            "(letters, digits, _; not starting with a digit)",
        },
        {"field": "retries.count", "message": "-1 is less than the minimum of 0"},
    ]
    # Old clients and logs still read one message naming the fields.
    assert r.json()["message"].startswith("id: must be 1-63 characters")
    assert not list(jobs_dir.glob("*/Bad ID.json"))


def test_an_id_conflict_is_an_error_on_the_id_with_its_message_whole(alice):
    assert create(alice, daily("twice")).status_code == 201
    r = create(alice, daily("twice"))
    assert r.status_code == 409
    assert r.json() == {
        "message": "id: a job 'twice' already exists; edit it or pick another id",
        "errors": [
            {"field": "id", "message": "a job 'twice' already exists; edit it or pick another id"}
        ],
    }


def test_refusals_about_one_field_name_it_as_data(alice):
    foreign = "s3://someone-elses-bucket/x/" + "a" * 64 + ".ipynb"
    cases = [
        (
            create(
                alice,
                daily("alien", notebook={"uri": foreign, "sha256": "a" * 64, "kernel": "python3"}),
            ),
            400,
            "notebook.uri",
            (
                "must be a snapshot taken by this server; "
                "send notebook.source (the notebook's path) to take one"
            ),
        ),
        (
            create(alice, daily("gone", notebook={"source": f"s3://{BUCKET}/missing.ipynb"})),
            400,
            "notebook.source",
            f"s3://{BUCKET}/missing.ipynb does not exist",
        ),
        (
            create(alice, daily("mine", owner="bob")),
            403,
            "owner",
            "jobs are always owned by the signed-in user (alice)",
        ),
        (
            alice.put(alice.base + "/here", json=daily("there")),
            400,
            "id",
            "the body's id does not match the URL",
        ),
    ]
    for r, status, field, message in cases:
        assert r.status_code == status, r.text
        assert r.json()["errors"] == [{"field": field, "message": message}], r.text
        assert r.json()["message"] == f"{field}: {message}"


# --- run history, one run, inputs, run with options, chains (issue 12) ----------------------


def _put_run(direct_s3, job_id: str, run_id: str, status: str, **extra) -> None:
    """A run as a runner leaves it: its run.json and, once finished, its index marker."""
    folder = f"runs/alice/{job_id}/{run_id}/"
    manifest = {"run_id": run_id, "job_id": job_id, "owner": "alice", "status": status, **extra}
    direct_s3.put_object(Bucket=BUCKET, Key=folder + "run.json", Body=json.dumps(manifest))
    if status in ("success", "failed"):
        marker = f"runs/alice/{job_id}/.index/{status}/{run_id}"
        direct_s3.put_object(Bucket=BUCKET, Key=marker, Body=b"")


def _wait_for_end(direct_s3, run: dict, timeout: float = 120) -> dict:
    key = run["run_uri"].split("/", 3)[3]
    deadline = time.monotonic() + timeout
    manifest = read_json(direct_s3, BUCKET, key)
    while manifest["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)  # the run happens in another process; its manifest is the signal
        manifest = read_json(direct_s3, BUCKET, key)
    return manifest


def test_run_history_pages_newest_first_and_filters_by_status(alice, direct_s3):
    assert create(alice, daily("paged")).status_code == 201
    ids = [f"scheduled__2026-10-{d:02d}T05-00-00-00-00" for d in range(1, 31)]
    for day, rid in enumerate(ids, start=1):
        _put_run(direct_s3, "paged", rid, "failed" if day % 5 == 0 else "success")
    first = alice.get(alice.base + "/paged/runs", params={"limit": 20})
    assert first.status_code == 200, first.text
    assert [r["run_id"] for r in first.json()["runs"]] == ids[::-1][:20]
    rest = alice.get(alice.base + "/paged/runs", params={"before": first.json()["next"]}).json()
    assert [r["run_id"] for r in rest["runs"]] == ids[::-1][20:]
    assert rest["next"] is None
    failed = alice.get(alice.base + "/paged/runs", params={"status": "failed"}).json()
    assert [r["run_id"] for r in failed["runs"]] == [ids[d - 1] for d in (30, 25, 20, 15, 10, 5)]
    for query, field in [
        ({"limit": 0}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"status": "done"}, "status"),
        ({"before": "../x"}, "before"),
    ]:
        r = alice.get(alice.base + "/paged/runs", params=query)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == field, r.text


def test_one_run_is_its_manifest_and_progress(alice, bob, direct_s3):
    assert create(alice, daily("watched")).status_code == 201
    rid = "manual__2026-11-30T10:00:00+00:00"  # as Airflow names it; stored under a safe name
    folder = "runs/alice/watched/manual__2026-11-30T10-00-00-00-00/"
    manifest = {"run_id": rid, "status": "running", "parameters": {"region": "EU"}}
    direct_s3.put_object(Bucket=BUCKET, Key=folder + "run.json", Body=json.dumps(manifest))
    progress = {"state": "running", "cell": 2, "cells": 3, "output_tail": ["REPORT region=EU"]}
    direct_s3.put_object(Bucket=BUCKET, Key=folder + "progress.json", Body=json.dumps(progress))
    r = alice.get(alice.base + "/watched/runs/" + requests.utils.quote(rid, safe=""))
    assert r.status_code == 200, r.text
    assert r.json()["run"]["status"] == "running"
    assert r.json()["progress"] == progress
    assert r.json()["run"]["output_uri"] == f"s3://{BUCKET}/{folder}output.ipynb"
    assert alice.get(alice.base + "/watched/runs/scheduled__nope").status_code == 404
    # Bob has no job of that name: the owner is always the one asking.
    assert (
        bob.get(bob.base + "/watched/runs/" + requests.utils.quote(rid, safe="")).status_code == 404
    )
    assert bob.get(bob.base + "/watched/runs").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/smallfry/jobs/watched/runs/..",
        "/smallfry/jobs/watched/runs/%2e%2e",
        "/smallfry/jobs/watched/runs/a%2Fb",
        "/smallfry/jobs/watched/runs/..%2F..%2Fbob%2Fx/inputs",
        "/smallfry/jobs/watched/compare?base=..&remote=notebook",
        "/smallfry/jobs/watched/compare?base=a&remote=..%2Fx",
    ],
)
def test_run_ids_that_could_leave_the_jobs_runs_are_refused(jobs_server, path):
    assert _raw(jobs_server, "GET", path, "tok-alice") == 400


def test_history_routes_need_a_signed_in_user(jobs_server):
    for path in ("watched/runs", "watched/runs/x", "watched/runs/x/inputs", "watched/compare"):
        r = requests.get(jobs_server.url + "smallfry/jobs/" + path)
        assert r.status_code == 403, path


def test_inputs_of_a_run_say_what_changed_since(alice, direct_s3):
    assert create(alice, daily("lineage")).status_code == 201
    etags = {}
    for name in ("kept.csv", "edited.csv"):
        put = direct_s3.put_object(Bucket=BUCKET, Key=f"lake/{name}", Body=b"a\n1\n")
        etags[name] = put["ETag"].strip('"')
    direct_s3.put_object(Bucket=BUCKET, Key="lake/edited.csv", Body=b"a\n2\n")
    reads = [{"bucket": BUCKET, "key": f"lake/{n}", "etag": e} for n, e in etags.items()]
    reads.append({"bucket": BUCKET, "key": "lake/never.csv", "etag": "0" * 32})
    _put_run(direct_s3, "lineage", "scheduled__a", "success", lineage={"reads": reads})
    r = alice.get(alice.base + "/lineage/runs/scheduled__a/inputs")
    assert r.status_code == 200, r.text
    found = {i["key"]: i for i in r.json()["inputs"]}
    assert (found["lake/kept.csv"]["changed"], found["lake/kept.csv"]["missing"]) == (False, False)
    assert found["lake/edited.csv"]["changed"] is True
    assert found["lake/edited.csv"]["etag_now"] != etags["edited.csv"]
    assert found["lake/never.csv"]["missing"] is True


def test_run_with_other_parameters_then_rerun_them(alice, direct_s3):
    assert create(alice, daily("params")).status_code == 201
    r = alice.post(alice.base + "/params/run", json={"parameters": {"region": "US", "days": 5}})
    assert r.status_code == 202, r.text
    manifest = _wait_for_end(direct_s3, r.json())
    assert manifest["status"] == "success", manifest
    assert manifest["parameters"] == {"region": "US", "days": 5}
    assert manifest["triggered_by"] == "parameters"
    out = read_json(direct_s3, BUCKET, r.json()["output_uri"].split("/", 3)[3])
    assert "REPORT region=US doubled=10" in cell_text(out)

    again = alice.post(alice.base + "/params/run", json={"rerun": manifest["run_id"]})
    assert again.status_code == 202, again.text
    rerun = _wait_for_end(direct_s3, again.json())
    assert rerun["status"] == "success", rerun
    assert (rerun["parameters"], rerun["triggered_by"]) == ({"region": "US", "days": 5}, "rerun")
    # Polled as the panel does: by its id, with the run now listed first.
    one = alice.get(alice.base + f"/params/runs/{rerun['run_id']}").json()
    assert one["run"]["status"] == "success"
    newest = alice.get(alice.base + "/params/runs", params={"limit": 1}).json()["runs"]
    assert [x["run_id"] for x in newest] == [rerun["run_id"]]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"parameters": {"min-amount": 3}}, "parameters.min-amount"),
        ({"parameters": [1, 2]}, "parameters"),
        ({"rerun": 7}, "rerun"),
        ({"parameters": {}, "rerun": "x"}, ""),
        ({"spec": {}}, ""),
    ],
)
def test_a_bad_run_request_is_refused_on_its_field_and_starts_nothing(alice, body, field):
    assert create(alice, daily("strict")).status_code in (201, 409)
    r = alice.post(alice.base + "/strict/run", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == field
    assert alice.get(alice.base + "/strict/runs").json()["runs"] == []


def test_rerun_of_a_run_that_does_not_exist_is_404(alice):
    assert create(alice, daily("norun")).status_code == 201
    r = alice.post(alice.base + "/norun/run", json={"rerun": "scheduled__never"})
    assert r.status_code == 404


def test_reproduce_runs_the_old_snapshot_and_warns_which_inputs_changed(alice, direct_s3):
    first = create(alice, daily("repro")).json()["spec"]["notebook"]
    put = direct_s3.put_object(Bucket=BUCKET, Key="lake/repro.csv", Body=b"a\n1\n")
    reads = [{"bucket": BUCKET, "key": "lake/repro.csv", "etag": put["ETag"].strip('"')}]
    old_run = "scheduled__2026-11-01T05-00-00-00-00"
    _put_run(
        direct_s3,
        "repro",
        old_run,
        "success",
        parameters={"region": "APAC", "days": 2},
        notebook={"uri": first["uri"], "sha256": first["sha256"]},
        lineage={"reads": reads},
    )
    # Since then the job got a new notebook and the input changed.
    direct_s3.put_object(
        Bucket=BUCKET, Key="notebooks/v2.ipynb", Body=notebook('print("VERSION TWO")')
    )
    edited = daily("repro", notebook={"source": f"s3://{BUCKET}/notebooks/v2.ipynb"})
    assert alice.put(alice.base + "/repro", json=edited).status_code == 200
    direct_s3.put_object(Bucket=BUCKET, Key="lake/repro.csv", Body=b"a\n2\n")

    r = alice.post(alice.base + "/repro/run", json={"reproduce": old_run})
    assert r.status_code == 202, r.text
    assert [(c["key"], c["changed"]) for c in r.json()["changed_inputs"]] == [
        ("lake/repro.csv", True)
    ]
    manifest = _wait_for_end(direct_s3, r.json())
    assert manifest["status"] == "success", manifest
    assert manifest["triggered_by"] == "reproduce"
    assert manifest["notebook"]["sha256"] == first["sha256"]
    out = read_json(direct_s3, BUCKET, r.json()["output_uri"].split("/", 3)[3])
    assert "REPORT region=APAC doubled=4" in cell_text(out)
    assert "VERSION TWO" not in cell_text(out)


def test_chains_are_checked_on_save_and_an_upstream_cannot_be_deleted(alice, jobs_dir):
    manual = {"type": "manual"}
    assert create(alice, daily("extract", schedule=manual)).status_code == 201
    r = create(alice, daily("load", schedule=manual, after=["extract"]))
    assert r.status_code == 201, r.text
    r = create(alice, daily("orphan", schedule=manual, after=["no-such-job"]))
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {
            "field": "after",
            "message": "no job of yours is called 'no-such-job': create it first or remove it",
        }
    ]
    looped = daily("extract", schedule=manual, after=["load"])
    r = alice.put(alice.base + "/extract", json=looped)
    assert r.status_code == 400
    assert "extract → load → extract" in r.json()["errors"][0]["message"]
    r = alice.delete(alice.base + "/extract")
    assert r.status_code == 409 and "'load'" in r.json()["message"]
    assert (jobs_dir / "alice" / "extract.json").exists()
    assert alice.delete(alice.base + "/load").status_code == 204
    assert alice.delete(alice.base + "/extract").status_code == 204
