"""The Python environment every user's single-user server runs from, on a one-machine platform.

Each user's server runs as that user's own Unix account, so the Python it runs must be one
every account can execute. The Hub's own Python often is not (a pyenv or conda under a 0700
home such as /root). This module builds a virtual environment from a system Python (Debian's
``/usr/bin/python3.11``) in a world-readable folder, with JupyterLab, ``jupyterhub-singleuser``,
ipykernel, papermill and Small Fry itself, pinned to the versions the test suite runs.

It is built once per set of inputs and reused: ``<base>/env-<hash>`` where the hash covers
the system Python's version, the pins and the uv version. Small Fry is reinstalled into it
whenever its source changes (a second hash, kept in the venv), which takes seconds. A file
lock makes concurrent callers build it once. uv (pinned, installed into a private cache
first) does the resolving and installing; files are copied, never hard-linked from uv's
cache, and made world-readable, and the result is checked by importing it as ``nobody``.

    from jupyterlab_smallfry.platform.user_env import ensure_user_env
    bin_dir = ensure_user_env("/opt/smallfry/user-envs")
    # c.Spawner.cmd = [str(bin_dir / "jupyterhub-singleuser")]
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UV_VERSION = "0.13.9"

#: A Python outside any private home; every account can execute it.
DEFAULT_PYTHON = "/usr/bin/python3.11"

#: What users' servers and kernels need, pinned like the ``test`` extra of pyproject.toml.
REQUIREMENTS = (
    "jupyterlab==4.6.6",
    "jupyter_server==2.21.1",
    "jupyterhub==6.1.1",
    "ipykernel==7.4.0",
    "papermill==2.7.0",
    "nbconvert==7.17.2",
    "boto3==1.44.5",
    "botocore==1.44.5",
)

DISTRIBUTION = "jupyterlab-smallfry"
COMPLETE = ".smallfry-complete"
SOURCE_STAMP = ".smallfry-source"

#: The repository this file lives in, when it runs from a source checkout.
_REPO = Path(__file__).resolve().parents[3]
#: Built front end; its presence lets the wheel build skip npm (see pyproject.toml).
_STYLE_JS = Path("server-ext/jupyterlab_smallfry/labextension/static/style.js")


class UserEnvError(RuntimeError):
    """The user environment could not be built or is not usable by other accounts."""


def default_source() -> Path | None:
    """This checkout's root when running from source, else None (install from the index)."""
    return _REPO if (_REPO / "pyproject.toml").is_file() else None


def env_key(python: str = DEFAULT_PYTHON) -> str:
    """Hash of what the venv is made from: the Python's version, the pins, uv's version."""
    version = _run([python, "-c", "import sys; print(sys.version)"], capture=True).strip()
    text = "\n".join([python, version, UV_VERSION, *REQUIREMENTS])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def source_hash(source: Path | str | None) -> str:
    """Hash of the Small Fry files that go into the wheel (or of the wheel/requirement)."""
    if source is None:
        from .._version import __version__

        return f"index:{DISTRIBUTION}=={__version__}"
    path = Path(source)
    if path.is_file():
        return "wheel:" + hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    package = path / "server-ext" / "jupyterlab_smallfry"
    files = [path / "pyproject.toml", path / "package.json", path / "server-ext" / "install.json"]
    files += sorted((path / "server-ext" / "jupyter-config").rglob("*"))
    files += sorted(
        p
        for p in package.rglob("*")
        if "__pycache__" not in p.parts
        and p.relative_to(package).parts[0] != "tests"
        and p.suffix not in (".pyc", ".map")
    )
    for file in files:
        if file.is_file():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_user_env(
    base: Path | str,
    python: str = DEFAULT_PYTHON,
    source: Path | str | None = "default",
    cache: Path | str | None = None,
    log=print,
) -> Path:
    """The ``bin`` folder of a venv every Unix account can run, building it if needed.

    ``base``: a folder whose path every account can traverse (e.g. /opt/smallfry/user-envs);
    created 0755. ``python``: the system Python to base it on. ``source``: a checkout of this
    repository (the default when running from one), a wheel file, or None for the released
    ``jupyterlab-smallfry`` of this version from the package index. ``cache``: where uv itself
    is installed (default ``$SMALLFRY_CACHE`` or ``~/.cache/smallfry``; need not be public).
    """
    if source == "default":
        source = default_source()
    base = Path(base)
    base.mkdir(mode=0o755, parents=True, exist_ok=True)
    _check_traversable(base)
    venv = base / f"env-{env_key(python)}"
    bin_dir = venv / "bin"
    wanted = source_hash(source)
    if _is_current(venv, wanted):
        return bin_dir
    with open(base / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent test sessions build it once
        if _is_current(venv, wanted):
            return bin_dir
        started = time.monotonic()
        uv = _ensure_uv(Path(cache or os.environ.get("SMALLFRY_CACHE") or _home_cache()))
        env = _uv_env()
        if not (venv / COMPLETE).exists():
            shutil.rmtree(venv, ignore_errors=True)  # half-built by an interrupted run
            log(f"building the users' Python environment at {venv} (first run only)")
            _run([str(uv), "venv", "--quiet", "--python", python, "--seed", str(venv)], env=env)
        with tempfile.TemporaryDirectory(prefix="smallfry-wheel-") as out:
            target = _smallfry_target(uv, source, Path(out), env, log)
            _run(
                [
                    str(uv),
                    "pip",
                    "install",
                    "--quiet",
                    "--python",
                    str(bin_dir / "python"),
                    "--link-mode",
                    "copy",
                    "--reinstall-package",
                    DISTRIBUTION,
                    target,
                    *REQUIREMENTS,
                ],
                env=env,
            )
        _make_world_readable(venv)
        _check_usable(bin_dir)
        (venv / COMPLETE).write_text(f"{python}\n")
        (venv / SOURCE_STAMP).write_text(wanted + "\n")
        _make_world_readable(venv)
        log(f"users' Python environment ready in {time.monotonic() - started:.0f}s: {bin_dir}")
    return bin_dir


def _is_current(venv: Path, wanted: str) -> bool:
    stamp = venv / SOURCE_STAMP
    return (venv / COMPLETE).exists() and stamp.exists() and stamp.read_text().strip() == wanted


def _home_cache() -> Path:
    return Path.home() / ".cache" / "smallfry"


def _uv_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV", "UV_"))}
    env.pop("PYTHONPATH", None)  # never let the Hub's source tree leak into the build
    return env


def _run(args: list, env: dict | None = None, capture: bool = False, cwd=None) -> str:
    proc = subprocess.run(
        args, check=False, env=env, cwd=cwd, capture_output=True, text=True, umask=0o022
    )
    if proc.returncode != 0:
        raise UserEnvError(
            f"{' '.join(map(str, args[:4]))} … exited {proc.returncode}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc.stdout if capture else ""


def _ensure_uv(cache: Path) -> Path:
    """uv, pinned, installed with the running Python's pip into a private folder, once."""
    target = cache / f"uv-{UV_VERSION}"
    uv = target / "bin" / "uv"
    if uv.exists():
        return uv
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"uv-{UV_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if uv.exists():
            return uv
        partial = Path(tempfile.mkdtemp(prefix="uv-", dir=cache))
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--isolated",
                "--disable-pip-version-check",
                "--target",
                str(partial),
                f"uv=={UV_VERSION}",
            ],
            env=_uv_env(),
        )
        partial.rename(target)
    return uv


def _smallfry_target(uv: Path, source, out: Path, env: dict, log) -> str:
    """What to hand ``uv pip install`` for Small Fry: a wheel built from source, or the index."""
    if source is None:
        from .._version import __version__

        return f"{DISTRIBUTION}=={__version__}"
    path = Path(source)
    if path.is_file():
        return str(path)
    if not (path / _STYLE_JS).exists():
        log("building the JupyterLab extension first (npm run build:prod)")
        _run(["npm", "run", "build:prod"], cwd=path)
    _run([str(uv), "build", "--quiet", "--wheel", "--out-dir", str(out), str(path)], env=env)
    wheels = sorted(out.glob("jupyterlab_smallfry-*.whl"))
    if not wheels:
        raise UserEnvError(f"uv build left no wheel in {out}")
    return str(wheels[-1])


def _make_world_readable(root: Path) -> None:
    """a+r on files, a+rx on folders and executables: other accounts run this venv."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files + ["."]:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                continue
            mode = stat.S_IMODE(info.st_mode)
            wanted = mode | 0o444
            if stat.S_ISDIR(info.st_mode) or mode & 0o100:
                wanted |= 0o111
            wanted &= ~0o022  # nobody but the owner writes into it
            if wanted != mode:
                os.chmod(path, wanted)


def _check_traversable(base: Path) -> None:
    for folder in [base, *base.parents]:
        if not os.stat(folder).st_mode & 0o001:
            raise UserEnvError(
                f"{folder} is not traversable by other accounts (mode "
                f"{oct(stat.S_IMODE(os.stat(folder).st_mode))}); put the users' environment "
                "under a public folder such as /opt/smallfry"
            )


def _check_usable(bin_dir: Path) -> None:
    """The extension is installed and enabled, and an unprivileged account can import it."""
    listing = subprocess.run(
        [str(bin_dir / "jupyter"), "labextension", "list"],
        check=False,
        capture_output=True,
        text=True,
        cwd="/",
        env={**_uv_env(), "HOME": tempfile.gettempdir()},
    )
    text = listing.stdout + listing.stderr
    line = next((x for x in text.splitlines() if DISTRIBUTION in x), "")
    if "enabled" not in line or "OK" not in line:
        raise UserEnvError(f"{DISTRIBUTION} is not an enabled lab extension in {bin_dir}:\n{text}")
    runuser = shutil.which("runuser")
    if os.geteuid() != 0 or not runuser:
        return  # only root can try it as another account
    probe = "import jupyterlab_smallfry, jupyterhub.singleuser, ipykernel, papermill, boto3"
    proc = subprocess.run(
        [runuser, "-u", "nobody", "--", str(bin_dir / "python"), "-c", probe],
        check=False,
        capture_output=True,
        text=True,
        cwd="/",
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"},
    )
    if proc.returncode != 0:
        raise UserEnvError(f"another account cannot use {bin_dir}:\n{proc.stderr[-3000:]}")
