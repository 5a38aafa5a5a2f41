"""A real Airflow 3 for the tests, in the venv the team platform builds (see
``platform/airflow_env.py``), and a runner for its CLI."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

from ..platform.airflow_env import REQUIREMENTS, ensure_airflow_venv, venv_path  # noqa: F401

HERE = Path(__file__).resolve().parent
SERVER_EXT = HERE.parents[1]


def ensure_venv(log=print) -> Path:
    """The Airflow venv's python (the platform's own builder, cached in ~/.cache/smallfry)."""
    return ensure_airflow_venv(log=log)


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
            check=False,  # checked below, with the output in the message
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
