"""Run a job once, now, on this server: a single user's "Run now" when no Airflow is set.

The run happens in a child process (``python -m jupyterlab_smallfry.jobs.runner``, the same
runner the Airflow task uses) that gets the spec and the user's current S3 keys on stdin, so
no key is on its command line or in its environment. ``run.json`` says "running" before the
answer goes out, so a listing right after shows the run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from .service import blocking
from .store import Storage, dumps, join, output_folder

#: Seconds a run may take beyond its own time limit before its process is killed.
_GRACE_SECONDS = 120


class LocalRuns:
    """Starts runs as child processes of this server and reaps them."""

    def __init__(
        self,
        storage: Callable[[], Awaitable[Storage]],
        s3_request: Callable[[], Awaitable[dict]],
    ):
        self._storage = storage
        self._s3_request = s3_request
        # Run id -> the task that waits for its process (kept so it is not collected).
        self._running: dict[str, asyncio.Future] = {}

    async def start(self, spec: dict, owner: str) -> dict:
        """Start one run of ``spec``; the run id and where its manifest and output go."""
        from .runner import start_manifest

        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H-%M-%S")
        run_id = f"smallfry__{stamp}__{secrets.token_hex(3)}"
        folder = output_folder(spec["output"]["uri_template"], spec["owner"], spec["id"], run_id)
        request = {
            "spec": spec,
            "run_id": run_id,
            "trigger": "server",
            "s3": await self._s3_request(),
        }
        storage = await self._storage()
        await blocking(
            storage.write, join(folder, "run.json"), dumps(start_manifest(spec, run_id, "server"))
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "jupyterlab_smallfry.jobs.runner",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=_runner_env(),
        )
        proc.stdin.write(json.dumps(request).encode("utf-8"))
        proc.stdin.close()
        limit = spec.get("timeout_seconds", 3600) + _GRACE_SECONDS
        task = self._running[run_id] = asyncio.ensure_future(_reap(proc, limit))
        task.add_done_callback(lambda _f: self._running.pop(run_id, None))
        return {
            "run_id": run_id,
            "run_uri": join(folder, "run.json"),
            "output_uri": join(folder, "output.ipynb"),
        }


def _runner_env() -> dict:
    # The runner imports this package from where this server does (an editable install too).
    env = dict(os.environ)
    pkg_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_root, env.get("PYTHONPATH")) if p)
    return env


async def _reap(proc, timeout: float) -> None:
    try:
        await asyncio.wait_for(proc.wait(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
