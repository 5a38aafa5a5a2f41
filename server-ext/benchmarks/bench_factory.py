"""How long Airflow takes to parse the Small Fry DAG-folder file with 1,000 job specs.

    python server-ext/benchmarks/bench_factory.py [--specs 1000] [--repeat 3]

Runs in the test Airflow venv (built on first use, see tests/airflow_env.py). Each case is a
fresh Python process that imports Airflow first and then times only ``DagBag(dag_folder)``,
i.e. what Airflow's DAG processor spends on the folder:

- an empty DAG folder (the baseline),
- the two-line factory file with 1,000 specs,
- the same while one task runs (Airflow sets the parsing context's dag_id, and the factory
  builds only that DAG).

Prints the medians and the ratio to the baseline. Target: 1,000 specs in under 5 s, far from
Airflow's 30 s ``dagbag_import_timeout``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER_EXT = HERE.parent

_MEASURE = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import airflow.sdk, jsonschema, pendulum  # imports are not what we measure
from airflow.models.dagbag import DagBag
start = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "dags": len(bag.dags), "errors": len(bag.import_errors)}))
"""


def make_specs(jobs: Path, count: int) -> None:
    sha = "0" * 64
    for i in range(count):
        owner = f"user{i % 50:02d}"
        folder = jobs / owner
        folder.mkdir(parents=True, exist_ok=True)
        spec = {
            "apiVersion": "smallfry/v1",
            "kind": "NotebookJob",
            "id": f"job-{i:04d}",
            "title": f"Benchmark job {i}",
            "owner": owner,
            "notebook": {
                "uri": f"s3://bench/snapshots/{sha}.ipynb",
                "sha256": sha,
                "kernel": "python3",
            },
            "parameters": {"region": "EU", "n": i, "ratio": 0.5, "flags": [1, 2, 3]},
            "schedule": {
                "type": "cron",
                "cron": ["0 6 * * 1-5", "@daily", "*/15 * * * *", "0 9 1 * MON"][i % 4],
                "timezone": ["Europe/Amsterdam", "America/New_York", "UTC"][i % 3],
                "start_date": "2026-01-01",
            },
            "retries": {"count": 1, "delay_seconds": 60},
            "timeout_seconds": 3600,
            "output": {"uri_template": "s3://bench/runs/{owner}/{job_id}/{run_id}/"},
            "notifications": {"on_failure": [f"{owner}@example.com"]} if i % 10 == 0 else {},
            "tags": ["bench"],
        }
        (folder / f"{spec['id']}.json").write_text(json.dumps(spec))


def measure(python: Path, dag_folder: Path, env: dict) -> dict:
    out = subprocess.run(
        [str(python), "-c", _MEASURE, str(dag_folder)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--specs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    sys.path.insert(0, str(SERVER_EXT))
    from jupyterlab_smallfry.airflow import dag_folder_file
    from jupyterlab_smallfry.tests.airflow_env import ensure_venv

    python = ensure_venv(log=lambda msg: print(msg, file=sys.stderr))
    work = Path(tempfile.mkdtemp(prefix="smallfry-bench-"))
    empty, full, jobs = work / "empty-dags", work / "dags", work / "jobs"
    empty.mkdir()
    full.mkdir()
    make_specs(jobs, args.specs)
    (full / "smallfry_jobs.py").write_text(dag_folder_file(str(jobs)))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(work / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "PYTHONPATH": str(SERVER_EXT),
    }
    one_task = {
        **env,
        "_AIRFLOW_PARSING_CONTEXT_DAG_ID": "smallfry__user07__job-0507",
        "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "run_notebook",
    }
    results = {}
    for label, folder, case_env in [
        ("empty DAG folder", empty, env),
        (f"factory, {args.specs} specs", full, env),
        ("factory, one task's parse", full, one_task),
    ]:
        runs = [measure(python, folder, case_env) for _ in range(args.repeat)]
        results[label] = runs
        print(
            f"{label:32s} median {statistics.median(r['seconds'] for r in runs):8.3f} s   "
            f"dags={runs[0]['dags']} import_errors={runs[0]['errors']}"
        )
    base = statistics.median(r["seconds"] for r in results["empty DAG folder"])
    full_s = statistics.median(r["seconds"] for r in results[f"factory, {args.specs} specs"])
    assert results[f"factory, {args.specs} specs"][0]["dags"] == args.specs
    assert results["factory, one task's parse"][0]["dags"] == 1
    print(
        f"ratio (factory with {args.specs} specs / empty folder): {full_s / max(base, 1e-6):.0f}x; "
        f"per spec {1000 * full_s / args.specs:.2f} ms; target < 5 s: {'OK' if full_s < 5 else 'MISSED'}"
    )
    return 0 if full_s < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
