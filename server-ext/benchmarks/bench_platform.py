"""The team platform's job latency: Schedule → DAG in Airflow, and Run now → run.json.

    python server-ext/benchmarks/bench_platform.py [--jobs 5]

Needs root and what ``tests/test_platform_end_to_end.py`` needs (PostgreSQL's binaries, the
Airflow venv, configurable-http-proxy). It starts the whole platform as that test does —
moto enforcing IAM, the test OIDC provider, :class:`Platform` with Airflow's
``parse_interval`` 5 — logs a user in through JupyterHub, and then, ``--jobs`` times plus one
cold job reported apart (the owner's first: Airflow role, first kernel as the owner):

1. **Schedule → visible**: the user's ``POST /user/<u>/smallfry/jobs`` through the Hub's proxy
   (the server forwards it to the Hub service, which snapshots the notebook, signs and writes
   the spec) until ``GET /api/v2/dags/<dag_id>`` answers 200, polled every 0.2 s. Split, with
   the DAG processor's log, into the service's write (the POST's round trip), the wait for
   the next parse of the DAG-folder file plus that parse, and the rest (permissions, API).
2. **Trigger → run.json**: ``POST …/smallfry/jobs/<id>/run`` until the run's ``run.json`` in S3
   says ``success``, polled every 0.2 s. Split with Airflow's own timestamps (DAG run and
   task instance) and the run.json's start and end.
3. **Baseline**, right after each platform run so drift hits both: the same signed spec run by
   ``python -m jupyterlab_smallfry.jobs.runner`` in Airflow's venv with the worker's
   environment (its AWS keys, the kernel as the owner, the signature check), i.e. the
   worker's own code without Airflow around it, from the process's start until it exits
   (its run.json written, status success).

Prints the medians and spreads, and the ratio of 2 to 3: what Airflow adds to a run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

from common import report
from jupyterlab_smallfry.airflow.naming import dag_id_for
from jupyterlab_smallfry.jobs.runner import run_folder
from jupyterlab_smallfry.jobs.store import join, owner_key
from jupyterlab_smallfry.tests.platform_aws import BUCKET
from jupyterlab_smallfry.tests.platform_stack import team_platform
from jupyterlab_smallfry.tests.test_platform_end_to_end import airflow_admin, call, sales_job

#: Not the end-to-end test's user names, so the two can run on one machine at once.
USER = "bp-alice"
GROUP = "team-bp-alice"
PARSE_INTERVAL = 5  # as the end-to-end test starts it
REFRESH_INTERVAL = 5  # AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL, fixed in airflow_stack.py
POLL = 0.2
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) \[\w+\s*\] (.*)$")


def _ts(text: str | None) -> float | None:
    """Epoch seconds of an ISO time from Airflow, run.json or a log line."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@contextlib.contextmanager
def platform_with_timings(parse_interval: int):
    """The platform as the end-to-end test starts it (``team_platform``); yields it with the
    seconds each part of ``Platform.start()`` took."""
    bring_up: dict[str, float] = {}
    steps: list[tuple[str, float]] = []
    rebuilt: list[str] = []

    def log(message: str) -> None:  # Platform says when each part starts
        rebuilt.extend(["rebuilt: package source changed"] * ("environment ready" in message))
        if ": starting" in message:
            steps.append((message.split(":", 1)[0], time.monotonic()))
        print(message, file=sys.stderr)

    users = {USER: [GROUP]}
    with team_platform(users, "bench-platform", parse_interval=parse_interval, log=log) as platform:
        ended = time.monotonic()
        start = ended - platform.started_in
        venv = f"users' venv ({(rebuilt or ['up to date'])[0]})"
        marks = [(venv, start), *steps, ("", ended)]
        for (name, at), (_, until) in itertools.pairwise(marks):
            bring_up[f"  {name}"] = until - at
        bring_up["Platform.start() in all"] = platform.started_in
        yield platform, bring_up


class DagProcessorLog:
    """Timestamps from the DAG processor's output: when a DAG was first written to the
    database, and when each parse of the DAG-folder file wrote its DAGs."""

    def __init__(self, path: Path):
        self.path = path

    def lines(self) -> list[tuple[float, str]]:
        found = []
        for line in self.path.read_text(errors="replace").splitlines():
            match = LOG_LINE.match(line)
            if match:
                found.append((_ts(match.group(1)), match.group(2)))
        return found

    def created(self, dag_id: str) -> float | None:
        for at, text in self.lines():
            if text.startswith(f"Creating ORM DAG for {dag_id} "):
                return at
        return None

    def parses(self) -> list[float]:
        return [at for at, text in self.lines() if text.startswith("Bulk-writing dags to db")]

    def durations(self) -> list[float]:
        """'Last Duration' of the factory file in the stats tables the manager prints."""
        text = self.path.read_text(errors="replace")
        return [
            float(m.group(1))
            for m in re.finditer(r"smallfry_jobs\.py\s+\d+\s+\d+\s+([\d.]+)s\s+\d{4}-", text)
        ]


class Bench:
    def __init__(self, platform, browser):
        self.platform = platform
        self.browser = browser
        self.airflow = platform.airflow.url
        self.headers = airflow_admin(platform)
        self.s3 = platform.aws.client("s3")
        self.dag_log = DagProcessorLog(platform.airflow.logs / "dag-processor.log")

    def api(self, path: str) -> requests.Response:
        reply = requests.get(f"{self.airflow}/api/v2{path}", headers=self.headers, timeout=30)
        if reply.status_code == 401:  # the service account's token expired: a new one
            self.headers = airflow_admin(self.platform)
            reply = requests.get(f"{self.airflow}/api/v2{path}", headers=self.headers, timeout=30)
        return reply

    def schedule(self, job_id: str) -> dict:
        """POST the job, then poll Airflow for its DAG; the parts in seconds."""
        dag_id = dag_id_for(USER, job_id)
        wall, start = time.time(), time.monotonic()
        created = call(self.platform, self.browser, USER, "POST", "smallfry/jobs",
                       json=sales_job(USER, id=job_id))  # fmt: skip
        written = time.monotonic()
        assert created.status_code == 201, created.text
        deadline = written + 120
        while self.api(f"/dags/{dag_id}").status_code != 200:
            if time.monotonic() > deadline:
                raise AssertionError(f"{dag_id} never appeared:\n"
                                     f"{self.platform.airflow.log('dag-processor')}")  # fmt: skip
            time.sleep(POLL)
        visible = time.monotonic()
        orm = self.dag_log.created(dag_id)
        post_s = written - start
        parts = {"total": visible - start, "service write (POST)": post_s}
        if orm is not None:
            parts["wait for next parse + parse"] = orm - wall - post_s
            parts["DB write → API 200 seen"] = visible - start - (orm - wall)
        return parts

    def trigger(self, job_id: str) -> dict:
        """Run now, then poll S3 for the final run.json; the parts in seconds."""
        dag_id = dag_id_for(USER, job_id)
        wall, start = time.time(), time.monotonic()
        started = call(self.platform, self.browser, USER, "POST", f"smallfry/jobs/{job_id}/run")
        answered = time.monotonic()
        assert started.status_code == 202, started.text
        run = started.json()
        key = run["run_uri"].split(f"s3://{BUCKET}/", 1)[1]
        deadline = answered + 300
        while True:
            with contextlib.suppress(self.s3.exceptions.NoSuchKey):
                manifest = json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
                if manifest["status"] in ("success", "failed"):
                    break
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no final run.json:\n{self.platform.airflow.log('scheduler')}"
                )
            time.sleep(POLL)
        done = time.monotonic()
        assert manifest["status"] == "success", manifest
        total = done - start
        dag_run = self.api(f"/dags/{dag_id}/dagRuns/{run['run_id']}").json()
        tis = self.api(f"/dags/{dag_id}/dagRuns/{run['run_id']}/taskInstances").json()
        ti = tis["task_instances"][0]
        marks = [
            ("Run now (POST: trigger + queued run.json)", answered - start + wall),
            ("scheduler starts the DAG run", _ts(dag_run.get("start_date"))),
            ("task queued", _ts(ti.get("queued_when"))),
            ("executor starts the task process", _ts(ti.get("start_date"))),
            ("task: parse DAG, assume role → run_spec", _ts(manifest["start"])),
            ("run_spec: kernel as owner + papermill", _ts(manifest["end"])),
            ("outputs + run.json written → seen", done - start + wall),
        ]
        parts = {"total": total}
        previous = wall
        for name, at in marks:
            if at is not None:
                parts[name] = at - previous
                previous = at
        parts["papermill part (run.json duration)"] = manifest["duration_seconds"]
        parts["all but papermill"] = total - manifest["duration_seconds"]
        return parts

    def baseline(self, job_id: str, run_id: str) -> dict:
        """The worker's code without Airflow: the runner, in Airflow's venv and environment."""
        spec = json.loads((self.platform.jobs_dir / owner_key(USER) / f"{job_id}.json").read_text())
        request = json.dumps({"spec": spec, "run_id": run_id, "trigger": "bench"})
        env = self.platform.airflow.environment("scheduler")  # what its tasks inherit
        python = str(self.platform.airflow.settings.python)
        start = time.monotonic()
        out = subprocess.run([python, "-m", "jupyterlab_smallfry.jobs.runner"], input=request,
                             env=env, capture_output=True, text=True, check=False)  # fmt: skip
        total = time.monotonic() - start
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
        key = join(run_folder(spec, run_id), "run.json").split(f"s3://{BUCKET}/", 1)[1]
        manifest = json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        assert manifest["status"] == "success", manifest
        return {
            "total": total,
            "papermill part (run.json duration)": manifest["duration_seconds"],
            "all but papermill": total - manifest["duration_seconds"],
        }


def medians(samples: list[dict]) -> dict[str, tuple[float, float, float]]:
    """Per part: (median, min, max) over the samples, in the order of the first sample."""
    names = [name for name in samples[0] if all(name in s for s in samples)]
    return {
        name: (
            statistics.median(s[name] for s in samples),
            min(s[name] for s in samples),
            max(s[name] for s in samples),
        )
        for name in names
    }


def rows_of(stats: dict, cold: dict | None = None, indent: str = "") -> list:
    """Table rows: median (min – max), and the cold job's figure where there is one."""
    rows = []
    for name, (mid, low, high) in stats.items():
        extra = f"   cold {cold[name]:5.2f} s" if cold and name in cold else ""
        rows.append((f"{indent}{name}", f"{mid:5.2f} s  ({low:.2f} – {high:.2f}){extra}"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=5, help="measured jobs (after one cold one)")
    parser.add_argument("--parse-interval", type=int, default=PARSE_INTERVAL)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_platform.py needs root (Unix accounts per user)", file=sys.stderr)
        return 2
    schedules, triggers, baselines, cold = [], [], [], {}
    with platform_with_timings(args.parse_interval) as (platform, bring_up):
        began = time.monotonic()
        browser = platform.hub.login(USER)
        bring_up["first login (OIDC + user's server spawned)"] = time.monotonic() - began
        bench = Bench(platform, browser)
        for i in range(args.jobs + 1):
            job_id = f"bench-{i}"
            print(f"job {job_id} ...", file=sys.stderr)
            scheduled = bench.schedule(job_id)
            triggered = bench.trigger(job_id)
            plain = bench.baseline(job_id, f"plain-{i}")
            if i == 0:
                cold = {"schedule": scheduled, "trigger": triggered, "baseline": plain}
                continue
            schedules.append(scheduled)
            triggers.append(triggered)
            baselines.append(plain)
        parse_at = bench.dag_log.parses()
        parse_durations = bench.dag_log.durations()

    gaps = [b - a for a, b in itertools.pairwise(parse_at)]
    report("Platform bring-up (moto, OIDC provider, then Platform.start())",
           [(name, f"{seconds:7.1f} s") for name, seconds in bring_up.items()])  # fmt: skip
    sched = medians(schedules)
    parse_s = statistics.median(parse_durations or [0])
    report(
        f"Schedule → DAG visible in Airflow's API, {args.jobs} jobs, median (min – max)",
        rows_of(sched, cold["schedule"])
        + [
            (
                "DAG processor, measured",
                (
                    f"parses every {statistics.median(gaps):.2f} s (median), each "
                    f"{parse_s:.2f} s (its 'Last Duration')"
                ),
            ),
            (
                "bound by the settings",
                (
                    f"wait + parse ≤ {args.parse_interval + 1 + parse_s:.1f} s: "
                    f"min_file_process_interval {args.parse_interval} s + the manager's ~1 s loop "
                    f"+ one parse; refresh_interval {REFRESH_INTERVAL} s bounds only new files "
                    "in the DAG folder (a spec is not one)"
                ),
            ),
        ],
    )
    trig, base = medians(triggers), medians(baselines)
    ratio = trig["total"][0] / base["total"][0]
    ratios = sorted(t["total"] / b["total"] for t, b in zip(triggers, baselines))
    report(
        f"Run now → final run.json in S3, {args.jobs} runs, median (min – max)",
        rows_of(trig, cold["trigger"])
        + [("baseline: runner as a worker, no Airflow", "")]
        + rows_of(base, cold["baseline"], "  ")
        + [
            (
                "Airflow run / baseline",
                (
                    f"{ratio:.2f}x of the medians; per pair median {statistics.median(ratios):.2f}x "
                    f"({ratios[0]:.2f} – {ratios[-1]:.2f})"
                ),
            ),
            ("Airflow adds", f"{trig['total'][0] - base['total'][0]:.2f} s (medians)"),
        ],
    )
    print(
        f"\nheadline: Run now → run.json {trig['total'][0]:.1f} s vs runner alone "
        f"{base['total'][0]:.1f} s = {ratio:.2f}x (all but papermill "
        f"{trig['all but papermill'][0]:.1f} s vs {base['all but papermill'][0]:.1f} s); Schedule → visible {sched['total'][0]:.1f} s "
        f"(service {sched['service write (POST)'][0]:.2f} s; parse interval {args.parse_interval} s); "
        f"bring-up {bring_up['Platform.start() in all']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
