"""``smallfry-airflow dag-files DAG_FOLDER [--jobs-dir DIR] [--shards N]``: write the factory's
files into Airflow's DAG folder (one per shard; stale ones from another shard count removed);
``smallfry-airflow dag-file [--jobs-dir DIR]``: print the two lines every such file holds;
``python -m jupyterlab_smallfry.airflow validate DIR``: check every spec in a jobs folder the
way the DAG factory will (size, JSON, schema, chains (``after``) and, with a signing key set,
the signature)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import dag_folder_file, write_dag_files
from .naming import DEFAULT_SHARDS, MAX_SHARDS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyterlab_smallfry.airflow")
    sub = parser.add_subparsers(dest="command", required=True)
    dag_file = sub.add_parser("dag-file", help="print the two-line file for Airflow's DAG folder")
    dag_file.add_argument(
        "--jobs-dir",
        help="the local folder Airflow syncs job specs into "
        "(default: $SMALLFRY_JOBS_DIR when Airflow parses)",
    )
    files = sub.add_parser(
        "dag-files",
        help="write the factory's files (one per shard) into Airflow's DAG folder",
    )
    files.add_argument("dag_folder")
    files.add_argument("--jobs-dir", help="as for dag-file")
    files.add_argument(
        "--shards",
        type=int,
        default=DEFAULT_SHARDS,
        help=f"how many files the specs are spread over (default {DEFAULT_SHARDS}; "
        "keep each under ~1,000 specs)",
    )
    check = sub.add_parser("validate", help="check every <owner>/<id>.json under a jobs folder")
    check.add_argument("jobs_dir")
    args = parser.parse_args(argv)
    if args.command == "dag-file":
        sys.stdout.write(dag_folder_file(args.jobs_dir))
        return 0
    if args.command == "dag-files":
        if not 1 <= args.shards <= MAX_SHARDS:
            parser.error(f"--shards must be from 1 to {MAX_SHARDS}")
        folder = Path(args.dag_folder)
        if not folder.is_dir():
            print(f"{folder} is not a folder", file=sys.stderr)
            return 2
        for stale in write_dag_files(folder, args.jobs_dir, args.shards):
            print(f"removed {stale}", file=sys.stderr)
        print(f"wrote {args.shards} factory files to {folder}", file=sys.stderr)
        return 0
    from ..jobs.signing import SigningKeyError, load_key
    from .factory import CheckedSpecs

    try:
        key = load_key()
    except SigningKeyError as err:
        print(f"the spec-signing key cannot be used: {err}", file=sys.stderr)
        return 2
    if key is None:
        print("note: no spec-signing key is set, so signatures are not checked", file=sys.stderr)
    bad = 0
    checked = CheckedSpecs(key)
    for path in sorted(Path(args.jobs_dir).glob("*/*.json")):
        if path.name.startswith("."):
            continue  # a writer's temporary file, as the factory skips it
        _spec, errors = checked.get(path)
        if not errors:
            errors = checked.chain_errors(path)  # after: as the DAG would say it
        for err in errors:
            print(f"{path}: {err}")
        bad += bool(errors)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
