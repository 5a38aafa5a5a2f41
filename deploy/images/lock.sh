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
