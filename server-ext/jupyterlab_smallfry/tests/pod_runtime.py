"""Pods on this machine without a cluster: podman builds the job image from
``deploy/images`` (on a debootstrapped Debian base, no registry) and runs a Kubernetes
``v1/Pod`` manifest with ``podman kube play``.

The image is tagged with a hash of everything that goes into it, so a session (or a CI run
on the same machine) builds it once and reuses it until an input changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
IMAGES = REPO / "deploy" / "images"
BASE_IMAGE = "localhost/debian:bookworm"

#: What podman needs on a VM without systemd where RLIMIT_NOFILE cannot be raised (crun
#: fails there): runc and fixed ulimits. Used unless CONTAINERS_CONF names another file.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
"""


def missing_tools() -> str | None:
    """Why pods cannot run here (None: they can)."""
    needed = ["podman", "runc", "catatonit"]
    if not _image_exists(BASE_IMAGE):
        needed.append("debootstrap")
    missing = [tool for tool in needed if not _which(tool)]
    if missing:
        return (
            f"{', '.join(missing)} not installed (apt-get install -y --no-install-recommends "
            "podman debootstrap runc catatonit)"
        )
    return None


def _which(tool: str) -> str | None:
    # catatonit lives in /usr/libexec/podman on Debian, off PATH.
    return shutil.which(tool) or shutil.which(tool, path="/usr/libexec/podman:/usr/sbin:/sbin")


def podman_env() -> dict:
    env = dict(os.environ)
    if not env.get("CONTAINERS_CONF"):
        conf = _cache() / "containers.conf"
        if not conf.exists() or conf.read_text() != CONTAINERS_CONF:
            conf.write_text(CONTAINERS_CONF)
        env["CONTAINERS_CONF"] = str(conf)
    return env


def _cache() -> Path:
    base = Path(os.environ.get("SMALLFRY_CACHE") or Path.home() / ".cache" / "smallfry")
    base.mkdir(parents=True, exist_ok=True)
    return base


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        ["podman", *args],
        env=podman_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def _image_exists(name: str) -> bool:
    if not shutil.which("podman"):
        return False
    return podman("image", "exists", name, check=False).returncode == 0


#: Tracked files that never go into an image (tests, benchmarks, CI, docs).
_NOT_IN_IMAGES = (
    "server-ext/jupyterlab_smallfry/tests/",
    "server-ext/benchmarks/",
    "ui-tests/",
    ".ci/",
    "binder/",
    "README.md",
    "CHANGELOG.md",
)
#: What each image is built from besides its own folder: the Python package for all; the
#: front end too for the single-user image (its wheel carries the JupyterLab extension).
_IMAGE_SOURCES = {
    "job": ["pyproject.toml", "package.json", "server-ext"],
    "hub": ["pyproject.toml", "package.json", "server-ext"],
    # Its Airflow lock is the team platform's, under server-ext/ (build.sh copies it in).
    "airflow": ["pyproject.toml", "package.json", "server-ext"],
    "singleuser": ["."],
}


def image_inputs(image: str) -> list[Path]:
    """Every file whose content goes into ``image``: its build files and the tracked files
    its wheel is built from (build.sh builds from the tracked files only)."""
    where = [*_IMAGE_SOURCES[image], "deploy/images/build.sh", f"deploy/images/{image}"]
    listed = subprocess.run(
        ["git", "ls-files", "-z", *where], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    other_images = tuple(f"deploy/images/{o}/" for o in _IMAGE_SOURCES if o != image)
    skip = _NOT_IN_IMAGES + other_images
    paths = [REPO / n.decode() for n in listed if n and not n.decode().startswith(skip)]
    return sorted(p for p in paths if p.is_file())


def image_tag(image: str) -> str:
    """``localhost/smallfry-<image>:test-<hash of the base image and the inputs>``."""
    digest = hashlib.sha256()
    digest.update(podman("image", "inspect", "--format", "{{.Id}}", BASE_IMAGE).stdout.encode())
    for path in image_inputs(image):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return f"localhost/smallfry-{image}:test-{digest.hexdigest()[:12]}"


def extra_ca_bundle() -> Path | None:
    """This machine's extra CA certificates (a TLS-intercepting proxy), for pip in builds."""
    certs = sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt"))
    if not certs:
        return None
    bundle = _cache() / "extra-ca-bundle.pem"
    bundle.write_text("".join(c.read_text() for c in certs))
    return bundle


def ensure_image(image: str, log=print) -> tuple[str, dict]:
    """The name of ``image`` (job, singleuser, hub), built (base image first, if needed)
    unless one with the same inputs exists; and what it took, in seconds:
    ``{"base": s, "image": s}`` for what was built now."""
    took = {}
    env = podman_env()
    if not _image_exists(BASE_IMAGE):
        log(f"making the base image {BASE_IMAGE} with debootstrap (once)")
        started = time.monotonic()
        subprocess.run(
            ["bash", str(IMAGES / "build.sh"), "base", "--tag", BASE_IMAGE],
            env=env,
            check=True,
            capture_output=True,
            timeout=900,
        )
        took["base"] = round(time.monotonic() - started, 1)
    tag = image_tag(image)
    if _image_exists(tag):
        return tag, took
    log(f"building the {image} image {tag}")
    started = time.monotonic()
    command = ["bash", str(IMAGES / "build.sh"), image, "--base", BASE_IMAGE, "--tag", tag]
    bundle = extra_ca_bundle()
    if bundle:
        command += ["--extra-ca-bundle", str(bundle)]
    proc = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    assert proc.returncode == 0, f"building the {image} image failed:\n{proc.stderr[-6000:]}"
    took["image"] = round(time.monotonic() - started, 1)
    _remove_older_test_images(tag)
    return tag, took


def _remove_older_test_images(keep: str) -> None:
    """Images of earlier inputs only fill the disk; their shared layers stay."""
    repository = keep.rsplit(":", 1)[0]
    names = podman("images", "--format", "{{.Repository}}:{{.Tag}}", repository).stdout.split()
    old = [n for n in names if n != keep and n.split(":")[-1].startswith("test-")]
    if old:
        podman("rmi", *old, check=False)


class PlayedPod:
    """A ``v1/Pod`` started with ``podman kube play``; :meth:`wait` gives its container's exit
    status, :meth:`logs` what it printed; :meth:`down` removes it."""

    def __init__(self, manifest: dict, folder: Path):
        self.manifest = manifest
        self.name = manifest["metadata"]["name"]
        self.container = f"{self.name}-{manifest['spec']['containers'][0]['name']}"
        self.file = folder / f"{self.name}.yaml"
        self.file.write_text(yaml.safe_dump(manifest, sort_keys=False))
        self.started = time.monotonic()
        podman("kube", "play", str(self.file), timeout=180)

    def wait(self, timeout: float) -> int:
        """The container's exit status, once it has stopped."""
        proc = podman("wait", self.container, timeout=timeout)
        self.seconds = round(time.monotonic() - self.started, 1)
        return int(proc.stdout.strip().splitlines()[-1])

    def logs(self) -> str:
        proc = podman("logs", self.container, check=False)
        return proc.stdout + proc.stderr

    def down(self) -> None:
        podman("kube", "down", str(self.file), check=False, timeout=120)


def image_user(tag: str) -> str:
    return json.loads(podman("image", "inspect", tag).stdout)[0]["Config"].get("User", "")


class Container:
    """A container of ``image`` on the host network (``podman run -d``), removed by
    :meth:`remove`; :meth:`exec` runs a command in it as the image's user."""

    def __init__(self, image: str, *args: str, env: dict | None = None):
        self.name = f"smallfry-test-{os.getpid()}-{time.monotonic_ns()}"
        flags = [f"--env={k}={v}" for k, v in (env or {}).items()]
        podman("run", "-d", "--name", self.name, "--network", "host", *flags, image, *args)

    def exec(self, *command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return podman("exec", self.name, *command, timeout=timeout)

    def logs(self) -> str:
        proc = podman("logs", self.name, check=False)
        return proc.stdout + proc.stderr

    def remove(self) -> None:
        podman("rm", "-f", self.name, check=False)
