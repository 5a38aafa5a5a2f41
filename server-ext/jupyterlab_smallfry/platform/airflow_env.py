"""Airflow's own virtual environment, built once per lock file.

Airflow pins hundreds of packages that need not agree with JupyterLab's, so it gets its own
venv, built with uv from ``airflow-requirements.txt`` beside this file (Airflow's constraints
files cannot always be fetched; that lock is ours, made with ``uv pip compile --python-version
3.11 airflow-requirements.in -o airflow-requirements.txt``). The venv is keyed by the lock
and the Python version, so a restart reuses it and a new lock builds a new one; the platform
and the tests share it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REQUIREMENTS = Path(__file__).with_name("airflow-requirements.txt")
UV_VERSION = "0.13.9"


def venv_path(cache: Path | str | None = None) -> Path:
    """Where the venv for this lock lives: ``<cache>/airflow-venv-<hash>``; the cache is
    ``$SMALLFRY_CACHE`` or ``~/.cache/smallfry`` unless given."""
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.split()[0].encode())
    base = Path(cache or os.environ.get("SMALLFRY_CACHE") or Path.home() / ".cache" / "smallfry")
    return base / f"airflow-venv-{key.hexdigest()[:12]}"


def ensure_airflow_venv(cache: Path | str | None = None, log=print) -> Path:
    """The venv's python, building the venv first if this lock has none yet."""
    venv = venv_path(cache)
    python = venv / "bin" / "python"
    done = venv / ".smallfry-complete"
    if done.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.with_name(venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs at once build it once
        if done.exists():
            return python
        started = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)  # a half-built one from an interrupted run
        log(f"building the Airflow venv at {venv} (once per lock; about a minute)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        env.pop("PIP_CONSTRAINT", None)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--isolated"]
        subprocess.run([*pip, f"uv=={UV_VERSION}"], check=True, env=env)
        uv = [str(venv / "bin" / "uv"), "pip", "install", "--quiet", "--python", str(python)]
        subprocess.run([*uv, "-r", str(REQUIREMENTS)], check=True, env=env)
        done.write_text(f"built in {time.monotonic() - started:.0f}s\n")
        log(f"Airflow venv built in {time.monotonic() - started:.0f}s")
    return python
