"""``python -m jupyterlab_smallfry.airflow dag-file [--jobs-dir DIR]``: print the DAG-folder file;
``python -m jupyterlab_smallfry.airflow validate DIR``: check every spec in a jobs folder the
way the DAG factory will (size, JSON, schema and, with a signing key set, the signature)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import dag_folder_file


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyterlab_smallfry.airflow")
    sub = parser.add_subparsers(dest="command", required=True)
    dag_file = sub.add_parser("dag-file", help="print the two-line file for Airflow's DAG folder")
    dag_file.add_argument(
        "--jobs-dir",
        help="the local folder Airflow syncs job specs into "
        "(default: $SMALLFRY_JOBS_DIR when Airflow parses)",
    )
    check = sub.add_parser("validate", help="check every <owner>/<id>.json under a jobs folder")
    check.add_argument("jobs_dir")
    args = parser.parse_args(argv)
    if args.command == "dag-file":
        sys.stdout.write(dag_folder_file(args.jobs_dir))
        return 0
    from ..jobs.signing import SigningKeyError, load_key
    from .factory import check_spec_file

    try:
        key = load_key()
    except SigningKeyError as err:
        print(f"the spec-signing key cannot be used: {err}", file=sys.stderr)
        return 2
    if key is None:
        print("note: no spec-signing key is set, so signatures are not checked", file=sys.stderr)
    bad = 0
    for path in sorted(Path(args.jobs_dir).glob("*/*.json")):
        if path.name.startswith("."):
            continue  # a writer's temporary file, as the factory skips it
        _spec, errors = check_spec_file(path, key)
        for err in errors:
            print(f"{path}: {err}")
        bad += bool(errors)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
