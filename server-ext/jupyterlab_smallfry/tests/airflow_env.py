"""A real Airflow 3 in its own virtual environment, built once per requirements lock.

The venv lives at ``~/.cache/smallfry/airflow-venv-<hash>`` (``SMALLFRY_CACHE`` moves it),
keyed by the lock file and the Python version, so a rerun reuses it and a changed lock builds
a new one. It is built with uv (installed from PyPI into the venv first), which resolves and
installs the ~300 pinned packages in well under a minute on a fresh machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "airflow-requirements.txt"
SERVER_EXT = HERE.parents[1]
UV_VERSION = "0.13.9"


def venv_path() -> Path:
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.split()[0].encode()).hexdigest()[
        :12
    ]
    cache = Path(os.environ.get("SMALLFRY_CACHE") or Path.home() / ".cache" / "smallfry")
    return cache / f"airflow-venv-{key}"


def ensure_venv(log=print) -> Path:
    """The venv's python, building the venv first if this lock has none yet."""
    venv = venv_path()
    python = venv / "bin" / "python"
    done = venv / ".smallfry-complete"
    if done.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.with_name(venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs at once build it once
        if done.exists():
            return python
        started = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)  # a half-built one from an interrupted run
        log(f"building the Airflow venv at {venv} (first run only)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        env.pop("PIP_CONSTRAINT", None)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--isolated",
             "--disable-pip-version-check", f"uv=={UV_VERSION}"],
            check=True,
            env=env,
        )
        subprocess.run(
            [
                str(venv / "bin" / "uv"),
                "pip",
                "install",
                "--quiet",
                "--python",
                str(python),
                "-r",
                str(REQUIREMENTS),
            ],
            check=True,
            env=env,
        )
        done.write_text(f"built in {time.monotonic() - started:.0f}s\n")
        log(f"Airflow venv built in {time.monotonic() - started:.0f}s")
    return python


class Airflow:
    """One AIRFLOW_HOME (sqlite) with a DAG folder; runs the ``airflow`` CLI of the venv."""

    def __init__(self, python: Path, home: Path, extra_env: dict | None = None):
        self.python = python
        self.home = home
        self.dags = home / "dags"
        self.dags.mkdir(parents=True, exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "VIRTUAL_ENV"))},
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # The factory must be importable by Airflow: here from the source tree, in a
            # deployment from the installed wheel.
            "PYTHONPATH": str(SERVER_EXT),
            "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **(extra_env or {}),
        }

    def run(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [str(self.python), "-m", "airflow", *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        # Kept for whoever debugs a failure: the full output of every command.
        name = "-".join(a.replace("/", "_") for a in args)[:120]
        (self.home / f"cli-{name}.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"airflow {' '.join(args)} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
        return proc

    def python_run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.python), *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )


@contextlib.contextmanager
def timed(label: str, sink: list):
    start = time.monotonic()
    yield
    sink.append((label, round(time.monotonic() - start, 1)))
