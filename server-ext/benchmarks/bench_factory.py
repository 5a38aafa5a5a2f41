"""How long Airflow takes to parse the Small Fry DAG factory, and how much memory, with
1,000 and with 10,000 job specs: one file for every spec vs the shard files.

    python server-ext/benchmarks/bench_factory.py [--counts 1000 10000] [--shards 32]

Runs in the test Airflow venv (built on first use, see tests/airflow_env.py). One process
imports Airflow, then forks a child per DAG-folder file that times ``DagBag(file)`` and
reports how far its resident memory rose (``VmHWM`` after minus ``VmRSS`` before): what
Airflow's DAG processor does, one forked parse per file, each under ``dagbag_import_timeout``
(30 s by default). For each count:

- an empty DAG folder (the baseline),
- the single-file layout (``smallfry_jobs.py``: every spec in one parse),
- each of the shard files (``smallfry_jobs_NN_of_32.py``): the slowest, the sum, the largest
  memory rise,
- one task's parse (Airflow sets the parsing context's dag_id; the factory builds only it).

Then the ratios 10,000 / 1,000 of the same run. Target: the slowest shard under 5 s at
10,000 specs (the single file is expected to pass 30 s there: that is why there are shards).
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

# argv: a JSON list of [label, path]; prints one JSON line per file.
_MEASURE = r"""
import json, os, sys, time, warnings
warnings.simplefilter("ignore")
import airflow.sdk, jsonschema, pendulum  # imports are not what we measure
from airflow.models.dagbag import DagBag
import airflow.timetables.trigger, jupyterlab_smallfry.airflow.factory  # nor these

def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

for label, path in json.loads(sys.argv[1]):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child parses, like the DAG processor's per-file process
        os.close(read)
        before = kib("VmRSS")
        start = time.perf_counter()
        bag = DagBag(dag_folder=path)
        elapsed = time.perf_counter() - start
        out = {"label": label, "seconds": elapsed, "mib": (kib("VmHWM") - before) / 1024,
               "dags": len(bag.dags), "errors": len(bag.import_errors)}
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        print(fh.read(), flush=True)
    os.waitpid(pid, 0)
"""


def make_specs(jobs: Path, count: int, per_owner: int = 20) -> None:
    """``count`` specs, ``per_owner`` to an owner (so 10,000 specs have 10 times the users)."""
    sha = "0" * 64
    owners = max(1, count // per_owner)
    for i in range(count):
        owner = f"user{i % owners:04d}"
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


def measure(python: Path, files: list[tuple[str, Path]], env: dict) -> list[dict]:
    out = subprocess.run(
        [str(python), "-c", _MEASURE, json.dumps([[label, str(p)] for label, p in files])],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def median_runs(python, files, env, repeat) -> dict[str, dict]:
    """Per label: median seconds and MiB over ``repeat`` runs (the rest from the first)."""
    runs = [measure(python, files, env) for _ in range(repeat)]
    out = {}
    for i, first in enumerate(runs[0]):
        out[first["label"]] = {
            **first,
            "seconds": statistics.median(r[i]["seconds"] for r in runs),
            "mib": statistics.median(r[i]["mib"] for r in runs),
        }
    return out


def one_count(python, work: Path, count: int, shards: int, repeat: int, env: dict) -> dict:
    from jupyterlab_smallfry.airflow import dag_folder_file, write_dag_files
    from jupyterlab_smallfry.airflow.naming import shard_file_name, shard_of

    base = work / str(count)
    jobs, single, sharded, empty = base / "jobs", base / "single", base / "sharded", base / "empty"
    for folder in (single, sharded, empty):
        folder.mkdir(parents=True)
    make_specs(jobs, count)
    (single / "smallfry_jobs.py").write_text(dag_folder_file(str(jobs)))
    write_dag_files(sharded, str(jobs), shards)
    shard_files = sorted(sharded.glob("smallfry_jobs_*_of_*.py"))
    files = [("empty", empty), ("single", single / "smallfry_jobs.py")]
    files += [(p.name, p) for p in shard_files]
    got = median_runs(python, files, env, repeat)
    # One task's parse: the worker parses only the file that holds its DAG.
    owner = min(p.name for p in jobs.iterdir())
    task_env = {
        **env,
        "_AIRFLOW_PARSING_CONTEXT_DAG_ID": f"smallfry__{owner}__job-{0:04d}",
        "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "run_notebook",
    }
    task_file = sharded / shard_file_name(shard_of(owner, shards), shards)
    task = median_runs(python, [("task", task_file)], task_env, repeat)["task"]
    shard_rows = [got[p.name] for p in shard_files]
    assert got["single"]["dags"] == count and got["single"]["errors"] == 0, got["single"]
    assert sum(r["dags"] for r in shard_rows) == count, "a spec was lost or built twice"
    assert not any(r["errors"] for r in shard_rows) and task["dags"] == 1
    return {
        "empty_s": got["empty"]["seconds"],
        "single_s": got["single"]["seconds"],
        "single_mib": got["single"]["mib"],
        "max_shard_s": max(r["seconds"] for r in shard_rows),
        "sum_shards_s": sum(r["seconds"] for r in shard_rows),
        "max_shard_mib": max(r["mib"] for r in shard_rows),
        "max_shard_dags": max(r["dags"] for r in shard_rows),
        "min_shard_dags": min(r["dags"] for r in shard_rows),
        "task_s": task["seconds"],
    }


ROWS = [
    ("empty DAG folder", "empty_s", "{:.3f} s"),
    ("single file: parse", "single_s", "{:.2f} s"),
    ("single file: memory rise", "single_mib", "{:.0f} MiB"),
    ("shards: slowest file", "max_shard_s", "{:.2f} s"),
    ("shards: all files, summed", "sum_shards_s", "{:.2f} s"),
    ("shards: largest memory rise", "max_shard_mib", "{:.0f} MiB"),
    ("shards: most / fewest DAGs", None, None),
    ("one task's parse (its shard)", "task_s", "{:.3f} s"),
]


def main() -> int:
    sys.path.insert(0, str(SERVER_EXT))
    from jupyterlab_smallfry.airflow.naming import DEFAULT_SHARDS

    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--shards", type=int, default=DEFAULT_SHARDS)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    from jupyterlab_smallfry.tests.airflow_env import ensure_venv

    python = ensure_venv(log=lambda msg: print(msg, file=sys.stderr))
    work = Path(tempfile.mkdtemp(prefix="smallfry-bench-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SMALLFRY_"))},
        "AIRFLOW_HOME": str(work / "home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Let the single file finish at 10,000 specs, to measure how far past 30 s it goes.
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "600",
        "PYTHONPATH": str(SERVER_EXT),
    }
    results = {n: one_count(python, work, n, args.shards, args.repeat, env) for n in args.counts}
    low, high = args.counts[0], args.counts[-1]
    print(f"\nDAG factory parse, {args.shards} shards (median of {args.repeat})")
    print(f"  {'':30s}" + "".join(f"{n:>12,d}" for n in args.counts) + f"{'ratio':>9s}")
    for label, key, fmt in ROWS:
        if key is None:
            cells = [f"{r['max_shard_dags']}/{r['min_shard_dags']}" for r in results.values()]
            print(f"  {label:30s}" + "".join(f"{c:>12s}" for c in cells))
            continue
        cells = [fmt.format(results[n][key]) for n in args.counts]
        ratio = results[high][key] / max(results[low][key], 1e-6)
        print(f"  {label:30s}" + "".join(f"{c:>12s}" for c in cells) + f"{ratio:8.1f}x")
    worst = results[high]["max_shard_s"]
    print(
        f"\nslowest shard at {high:,} specs: {worst:.2f} s; target < 5 s "
        f"(Airflow's limit 30 s): {'OK' if worst < 5 else 'MISSED'}; single file "
        f"{results[high]['single_s']:.1f} s ({'past' if results[high]['single_s'] > 30 else 'within'} 30 s)"
    )
    return 0 if worst < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
