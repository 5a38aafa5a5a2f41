#!/usr/bin/env bash
# Lock each image's requirements: <image>/requirements.in plus Small Fry's own dependencies
# (pyproject.toml, with the extra the image needs) -> <image>/requirements.txt, every
# version pinned, for the Python of the default base image (Debian bookworm: 3.11).
# Needs uv (pip install uv==0.13.9). Run it after changing a requirements.in or the
# dependencies in pyproject.toml; tests/test_deploy_images.py checks that the locks still
# satisfy pyproject.toml.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
uv=${UV:-uv}
lock() { # image extra...
  local image=$1 extras=()
  shift
  for extra in "$@"; do extras+=(--extra "$extra"); done
  (cd "$root" && "$uv" pip compile --quiet --python-version 3.11 --no-header \
    --annotation-style line pyproject.toml "${extras[@]}" "deploy/images/$image/requirements.in" \
    -o "deploy/images/$image/requirements.txt")
}
lock job jobs lake
lock singleuser jobs lake
lock hub hub

# The Airflow image installs the team platform's Airflow lock as it is (the Airflow the tests
# run) and then only what Small Fry adds to it: Small Fry's dependencies ("jobs" and "lake"
# extras) are locked against that lock as constraints, and whatever it already pins is left
# out, so the image has one version of each package and Airflow's lock stays the only one.
lock_airflow() {
  local platform=server-ext/jupyterlab_smallfry/platform/airflow-requirements.txt full
  full=$(mktemp)
  (cd "$root" && "$uv" pip compile --quiet --python-version 3.11 --no-header \
    --annotation-style line pyproject.toml --extra jobs --extra lake -c "$platform" -o "$full")
  python3 - "$root/$platform" "$full" "$here/airflow/requirements.txt" <<'PY'
import re, sys
def pins(path):
    return {m[1].lower().replace("_", "-"): m[2] for line in open(path)
            if (m := re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line))}
airflow = pins(sys.argv[1])
header = ("# What Small Fry (pyproject.toml, extras jobs and lake) adds to Airflow's lock\n"
          "# (server-ext/jupyterlab_smallfry/platform/airflow-requirements.txt), locked against\n"
          "# it. Made by deploy/images/lock.sh; do not edit.\n")
kept = [line for line in open(sys.argv[2])
        if not ((m := re.match(r"([A-Za-z0-9_.-]+)==", line))
                and m[1].lower().replace("_", "-") in airflow)]
open(sys.argv[3], "w").write(header + "".join(kept))
PY
  rm -f "$full"
}
lock_airflow
