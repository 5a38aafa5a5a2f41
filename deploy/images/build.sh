#!/usr/bin/env bash
# Build Small Fry's container images with podman or docker.
#
#   deploy/images/build.sh base [--tag localhost/debian:bookworm] [--mirror URL]
#       a Debian bookworm base image without a registry (debootstrap --variant=minbase,
#       then `import`); needs root and debootstrap
#   deploy/images/build.sh job|singleuser|hub|airflow|all [options]
#       --base IMAGE           FROM image (default docker.io/library/debian:bookworm-slim)
#       --tag NAME             image name (default localhost/smallfry-<image>:<version>);
#                              only with one image
#       --extra-ca-bundle FILE PEM file of extra CA certificates (a TLS-intercepting proxy),
#                              passed as the EXTRA_CA_CERTS build argument
#       --engine podman|docker (default: $CONTAINER_ENGINE, else podman, else docker)
#
# Small Fry goes into each image as a wheel built from this checkout. The job, Hub and
# Airflow images need only the Python package, so their wheel is built without the front end
# (SKIP_JUPYTER_BUILDER: no Node.js, seconds); the single-user image needs the JupyterLab
# extension, so its wheel comes from a production build of the front end. Both are built
# in a staging copy of the tracked files, never in the checkout itself (its lib/ and
# labextension/ stay as they are).
# Nothing secret is passed to a build: the images get their AWS identity at run time.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

die() { echo "build.sh: $*" >&2; exit 2; }

engine=${CONTAINER_ENGINE:-}
if [[ -z $engine ]]; then
  if command -v podman >/dev/null; then engine=podman
  elif command -v docker >/dev/null; then engine=docker
  fi
fi

what=${1:-}
[[ -n $what ]] || die "say what to build: base, job, singleuser, hub, airflow or all"
shift
base=docker.io/library/debian:bookworm-slim
tag=""
ca_file=""
mirror=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --base) base=${2:?}; shift 2 ;;
    --tag) tag=${2:?}; shift 2 ;;
    --extra-ca-bundle) ca_file=${2:?}; shift 2 ;;
    --engine) engine=${2:?}; shift 2 ;;
    --mirror) mirror=${2:?}; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[[ -n $engine ]] || die "neither podman nor docker is installed"

make_base() {
  local name=${tag:-localhost/debian:bookworm}
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  if [[ -z $mirror ]]; then
    # The mirror apt already uses on this machine (deb822 or one-line sources), else Debian's.
    mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list.d/*.sources \
      /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 | awk '{print $2}' || true)
    mirror=${mirror:-http://deb.debian.org/debian}
  fi
  local rootfs
  rootfs=$(mktemp -d /var/tmp/smallfry-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
  # No package lists or caches in the image; apt-get update fetches fresh lists anyway.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  tar -C "$rootfs" -c . | "$engine" import - "$name" >/dev/null
  echo "$name"
}

stage_source() { # dest: the checkout's tracked files as they are now (no node_modules)
  local dest=$1
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked files that still exist (one being deleted in the work tree is skipped).
    (cd "$root" && git ls-files -z --cached | while IFS= read -r -d '' f; do
      [[ -e $f ]] && printf '%s\0' "$f"; done | tar --null -T - -c) | tar -x -C "$dest"
  else
    (cd "$root" && tar --exclude=./node_modules --exclude=./.git -c .) | tar -x -C "$dest"
  fi
}

quote_log() { # log what: show the end of a quiet step's output, then stop
  tail -n 60 "$1" >&2
  die "$2 failed (the end of its output is above)"
}

build_wheel() { # image dest_dir
  local image=$1 out=$2 src
  src=$(mktemp -d /var/tmp/smallfry-src.XXXXXX)
  stage_source "$src"
  if [[ $image == singleuser ]]; then
    # The labextension, production build: reuse the checkout's node_modules if it has one.
    if [[ -d $root/node_modules ]]; then ln -s "$root/node_modules" "$src/node_modules"
    else (cd "$src" && npm ci --no-audit --no-fund >"$out/npm.log" 2>&1) || quote_log "$out/npm.log" "npm ci"
    fi
    (cd "$src" && npm run build:prod >"$out/npm.log" 2>&1) || quote_log "$out/npm.log" "npm run build:prod"
    rm -f "$out/npm.log"
    (cd "$src" && python3 -m pip wheel --no-deps --quiet -w "$out" .)
  else
    # hatch-jupyter-builder's own switch: no npm build; the version hook still runs.
    (cd "$src" && SKIP_JUPYTER_BUILDER=1 python3 -m pip wheel --no-deps --quiet -w "$out" .)
  fi
  rm -rf "$src"
}

build_image() { # image
  local image=$1 ctx name version
  [[ -f $here/$image/Containerfile ]] || die "no image named $image (job, singleuser, hub, airflow)"
  version=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['version'])" "$root/package.json")
  name=${tag:-localhost/smallfry-$image:$version}
  ctx=$(mktemp -d /var/tmp/smallfry-ctx.XXXXXX)
  # The image's folder is its build context (Containerfile, lock, any script it copies in).
  cp -R "$here/$image/." "$ctx/"
  if [[ $image == airflow ]]; then
    # Airflow's own lock is the team platform's (the Airflow the tests run): one lock, not two.
    cp "$root/server-ext/jupyterlab_smallfry/platform/airflow-requirements.txt" "$ctx/"
  fi
  mkdir "$ctx/wheels"
  build_wheel "$image" "$ctx/wheels"
  local args=(build --file "$ctx/Containerfile" --build-arg "BASE=$base" --tag "$name")
  if [[ -n $ca_file ]]; then
    [[ -r $ca_file ]] || die "cannot read the CA bundle $ca_file"
    args+=(--build-arg "EXTRA_CA_CERTS=$(cat "$ca_file")")
  fi
  "$engine" "${args[@]}" "$ctx" >&2
  rm -rf "$ctx"
  echo "$name"
}

case $what in
  base) make_base ;;
  job|singleuser|hub|airflow) build_image "$what" ;;
  all)
    [[ -z $tag ]] || die "--tag names one image; build them one by one"
    for image in job singleuser hub airflow; do build_image "$image"; done ;;
  *) die "unknown image $what (base, job, singleuser, hub, airflow, all)" ;;
esac
