"""The Jobs panel's listing (``GET /smallfry/jobs``) at scale: 1,000 jobs with 10 runs each
vs 1,000 jobs with 100 runs each (100,000 runs), in the same run; and one job's run history
(a page of ``GET /smallfry/jobs/<id>/runs``) and one run's poll (``…/runs/<run id>``) at both
sizes.

    python server-ext/benchmarks/bench_jobs_listing.py [--jobs 1000] [--runs 10 100]

A real Jupyter server with Small Fry keeps its jobs and runs in a moto S3 server; each user
(one per runs-per-job case) owns ``--jobs`` specs and every job has that many run folders
(``run.json`` each, as the runner writes them). The listing shows each job's 3 newest runs,
so it must read 3 manifests per job however many runs there are: the time should stay flat
as runs grow (ratio ~1); so should a history page (it reads the manifests it shows) and a
poll (two reads by key, no listing). Besides the HTTP time, the S3 requests one job's listing makes are
counted in process, by operation, so a listing that reads every run shows up plainly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from common import direct_client, jupyter_server, moto_server, report, timed
from jupyterlab_smallfry.jobs.store import Storage, list_runs, safe_run_id

BUCKET = "bench-jobs"
#: Runs per job the listing shows, and runs per history page.
NEWEST = 3
PAGE = 10
JOBS = f"s3://{BUCKET}/smallfry/jobs/"
RUNS = f"s3://{BUCKET}/smallfry/runs/"


def spec(owner: str, job_id: str) -> dict:
    return {
        "apiVersion": "smallfry/v1",
        "kind": "NotebookJob",
        "id": job_id,
        "title": f"Benchmark job {job_id}",
        "owner": owner,
        "notebook": {"uri": f"s3://{BUCKET}/snap.ipynb", "sha256": "0" * 64, "kernel": "python3"},
        "parameters": {},
        "schedule": {
            "type": "cron",
            "cron": "*/15 * * * *",
            "timezone": "UTC",
            "start_date": "2026-01-01",
        },
        "output": {"uri_template": RUNS + "{owner}/{job_id}/{run_id}/"},
    }


def manifest(owner: str, job_id: str, run: int) -> bytes:
    """Run ``run`` of a job that runs every 15 minutes from 2026-01-01."""
    when = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=15 * run)
    start = when.isoformat().replace("+00:00", "Z")
    run_id = f"scheduled__{start}"
    return json.dumps(
        {"run_id": run_id, "job_id": job_id, "owner": owner, "status": "success", "start": start}
    ).encode()


def run_folder(run: int) -> str:
    return safe_run_id(json.loads(manifest("", "", run))["run_id"])


def fill(s3, owner: str, jobs: int, runs: int) -> None:
    """``jobs`` specs of ``owner`` with ``runs`` run manifests each (parallel: set-up)."""

    def put_job(j: int) -> None:
        job_id = f"job-{j:04d}"
        s3.put_object(
            Bucket=BUCKET,
            Key=f"smallfry/jobs/{owner}/{job_id}.json",
            Body=json.dumps(spec(owner, job_id)).encode(),
        )
        for r in range(runs):
            s3.put_object(
                Bucket=BUCKET,
                Key=f"smallfry/runs/{owner}/{job_id}/{run_folder(r)}/run.json",
                Body=manifest(owner, job_id, r),
            )

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put_job, range(jobs)))


def requests_for_one_job(moto_url: str, owner: str) -> dict[str, int]:
    """The S3 calls ``list_runs`` makes for one job's newest runs, by operation."""
    s3 = direct_client(moto_url)
    counts: dict[str, int] = {}

    def count(model, **_kw):
        counts[model.name] = counts.get(model.name, 0) + 1

    s3.meta.events.register("before-call.s3", count)
    template = RUNS + "{owner}/{job_id}/{run_id}/"
    runs = list_runs(Storage(lambda: s3), template, owner, "job-0000", NEWEST)
    assert len(runs) == NEWEST
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--runs", type=int, nargs=2, default=[10, 100])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    few, many = args.runs
    users = {f"tok-{n}": f"runs{n}" for n in (few, many)}
    with (
        moto_server() as moto_url,
        jupyter_server(
            f"--SmallFry.endpoint_url={moto_url}",
            f"--SmallFry.jobs_uri={JOBS}",
            f"--SmallFry.runs_uri={RUNS}",
            "--ServerApp.identity_provider_class="
            "jupyterlab_smallfry.tests.jobs_identity.TokenPerUserIdentityProvider",
            env={"SMALLFRY_TEST_USERS": json.dumps(users)},
        ) as server,
    ):
        s3 = direct_client(moto_url)
        s3.create_bucket(Bucket=BUCKET)
        started = time.perf_counter()
        for n in (few, many):
            fill(s3, f"runs{n}", args.jobs, n)
        setup = time.perf_counter() - started

        def listing(n: int):
            def get():
                r = requests.get(
                    server.url + "smallfry/jobs",
                    headers={"Authorization": f"token tok-{n}"},
                    timeout=600,
                )
                r.raise_for_status()
                jobs = r.json()["jobs"]
                assert len(jobs) == args.jobs and all(len(j["runs"]) == NEWEST for j in jobs)
                # The newest runs, newest first.
                newest = [run["run_id"] for run in jobs[0]["runs"]]
                assert newest == sorted(newest, reverse=True), newest
                assert newest[0] == json.loads(manifest("", "", n - 1))["run_id"], newest

            return get

        def history(n: int, poll: bool):
            headers = {"Authorization": f"token tok-{n}"}
            base = server.url + "smallfry/jobs/job-0000/runs"
            newest = json.loads(manifest("", "", n - 1))["run_id"]

            def get():
                if poll:
                    r = requests.get(f"{base}/{run_folder(n - 1)}", headers=headers, timeout=60)
                    r.raise_for_status()
                    assert r.json()["run"]["run_id"] == newest
                    return
                r = requests.get(base, params={"limit": PAGE}, headers=headers, timeout=60)
                r.raise_for_status()
                assert [x["run_id"] for x in r.json()["runs"]][:1] == [newest]
                assert len(r.json()["runs"]) == min(PAGE, n)

            return get

        t_few = timed(listing(few), repeat=args.repeat, warmup=1)
        t_many = timed(listing(many), repeat=args.repeat, warmup=1)
        page_few = timed(history(few, False), repeat=args.repeat * 4, warmup=1)
        page_many = timed(history(many, False), repeat=args.repeat * 4, warmup=1)
        poll_few = timed(history(few, True), repeat=args.repeat * 4, warmup=1)
        poll_many = timed(history(many, True), repeat=args.repeat * 4, warmup=1)
        calls_few = requests_for_one_job(moto_url, f"runs{few}")
        calls_many = requests_for_one_job(moto_url, f"runs{many}")
    total = args.jobs * many
    report(
        f"GET /smallfry/jobs: {args.jobs:,} jobs, {NEWEST} newest runs each shown "
        f"(median of {args.repeat}; set-up {setup:.0f} s)",
        [
            (f"{few} runs per job ({args.jobs * few:,} runs)", f"{t_few:.2f} s"),
            (f"{many} runs per job ({total:,} runs)", f"{t_many:.2f} s"),
            (f"ratio {many} / {few} runs per job", f"{t_many / t_few:.2f}x  (flat = 1x)"),
            (f"S3 calls for one job, {few} runs", json.dumps(calls_few, sort_keys=True)),
            (f"S3 calls for one job, {many} runs", json.dumps(calls_many, sort_keys=True)),
            ("per job shown", f"{1000 * t_many / args.jobs:.1f} ms"),
            (f"history page of {PAGE}, {few} runs per job", f"{1000 * page_few:.0f} ms"),
            (f"history page of {PAGE}, {many} runs per job", f"{1000 * page_many:.0f} ms"),
            (f"poll one run, {few} runs per job", f"{1000 * poll_few:.0f} ms"),
            (f"poll one run, {many} runs per job", f"{1000 * poll_many:.0f} ms"),
        ],
    )


if __name__ == "__main__":
    main()
