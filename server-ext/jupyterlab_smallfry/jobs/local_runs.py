"""Run a job once, now, on this server: a single user's "Run now" when no Airflow is set.

The run happens in a child process (``python -m jupyterlab_smallfry.jobs.runner``, the same
runner the Airflow task uses) that gets the spec and the user's current S3 keys on stdin, so
no key is on its command line or in its environment. ``run.json`` says "running" before the
answer goes out, so a listing right after shows the run.

Chained jobs (``after``) without Airflow: when a run's process ends and its run.json says
success, this server starts each of the owner's jobs that runs after it once *all* of that
job's upstreams have a newest run that succeeded and started after the dependent's own newest
run — the rule Airflow applies with asset events (see :mod:`.chain`), so a chain behaves the
same on the demo and on Airflow. The chain lives as long as this server: a server stopped
mid-chain does not pick it up again (Airflow does).
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

from ..logs import log
from .chain import dependents, upstream_ids
from .service import JobError, blocking
from .store import JobStore, Storage, dumps, join, list_runs, output_folder
from .validation import SpecError

#: Seconds a run may take beyond its own time limit before its process is killed.
_GRACE_SECONDS = 120


class LocalRuns:
    """Starts runs as child processes of this server, reaps them and starts what runs after."""

    def __init__(
        self,
        storage: Callable[[], Awaitable[Storage]],
        s3_request: Callable[[], Awaitable[dict]],
        jobs_uri: str | None = None,
    ):
        self._storage = storage
        self._s3_request = s3_request
        # Where the owner's specs are, to find the jobs that run after a finished one; None:
        # chained jobs are not started (a starter used without a job store).
        self._jobs_uri = jobs_uri
        # Run id -> the task that waits for its process (kept so it is not collected).
        self._running: dict[str, asyncio.Future] = {}
        # One chain decision at a time: two upstreams finishing together must start their
        # common dependent once, and the first start is what the second one then sees.
        self._chain_lock = asyncio.Lock()

    async def start(self, spec: dict, owner: str, options: dict | None = None) -> dict:
        """Start one run of ``spec``; the run id and where its manifest and output go.

        ``options`` (see :mod:`.run_options`): other parameters, a snapshot to reproduce,
        ``triggered_by`` (``run_now`` unless said) and the ``upstream`` runs of a chained run.
        """
        from .runner import start_manifest

        options = {**(options or {})}
        options.setdefault("triggered_by", "run_now")
        shown = _effective_spec(spec, options)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H-%M-%S")
        run_id = f"smallfry__{stamp}__{secrets.token_hex(3)}"
        folder = output_folder(spec["output"]["uri_template"], spec["owner"], spec["id"], run_id)
        request = {
            "spec": spec,
            "run_id": run_id,
            "trigger": "server",
            "options": options,
            "s3": await self._s3_request(),
        }
        manifest = start_manifest(shown, run_id, "server", options=options)
        storage = await self._storage()
        await blocking(storage.write, join(folder, "run.json"), dumps(manifest))
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
        task = self._running[run_id] = asyncio.ensure_future(
            self._reap_then_chain(proc, limit, spec, owner, run_id)
        )
        task.add_done_callback(lambda _f: self._running.pop(run_id, None))
        return {
            "run_id": run_id,
            "run_uri": join(folder, "run.json"),
            "output_uri": join(folder, "output.ipynb"),
        }

    async def _reap_then_chain(self, proc, limit: float, spec: dict, owner: str, run_id: str):
        await _reap(proc, limit)
        if self._jobs_uri is None:
            return
        try:
            await self._start_dependents(spec, owner, run_id)
        except Exception:  # noqa: BLE001 - a task nobody awaits: say it in the log
            log.exception("Small Fry: starting the jobs that run after %s failed", spec["id"])

    async def _start_dependents(self, spec: dict, owner: str, run_id: str) -> list[str]:
        """Start the owner's jobs that run after ``spec`` and now have all they wait for;
        their run ids. Nothing if this run did not succeed."""
        storage = await self._storage()
        folder = output_folder(spec["output"]["uri_template"], spec["owner"], spec["id"], run_id)
        data = await blocking(storage.read, join(folder, "run.json"))
        manifest = _json_object(data)
        status = manifest.get("status") if manifest else None
        if status != "success":
            log.info(
                "Small Fry: run %s of %r ended %s; the jobs that run after it wait",
                run_id,
                spec["id"],
                status or "without a run.json",
            )
            return []
        store = JobStore(self._jobs_uri, storage)
        async with self._chain_lock:
            specs = {s["id"]: s for s in await blocking(store.list, spec["owner"])}
            started = []
            for dependent in dependents(specs, spec["id"]):
                upstream, why = await blocking(_ready_upstream, storage, dependent, specs)
                if upstream is None:
                    log.info("Small Fry: %r does not run yet: %s", dependent["id"], why)
                    continue
                answer = await self.start(
                    dependent, owner, {"triggered_by": "upstream", "upstream": upstream}
                )
                log.info(
                    "Small Fry: %r runs after %s (run %s)",
                    dependent["id"],
                    ", ".join(u["job_id"] for u in upstream),
                    answer["run_id"],
                )
                started.append(answer["run_id"])
            return started


def _ready_upstream(
    storage: Storage, dependent: dict, specs: dict[str, dict]
) -> tuple[list | None, str]:
    """``([{job_id, run_id}], "")`` of the upstream runs that release ``dependent`` now, or
    ``(None, why it waits)``: each upstream's newest run must have succeeded and started after
    the dependent's own newest run (so one set of upstream successes starts it once). A
    paused job waits, as a paused DAG does in Airflow."""
    if dependent.get("paused"):
        return None, "it is paused"
    own = _newest_run(storage, dependent)
    since = (own or {}).get("start") or ""
    upstream = []
    for up_id in upstream_ids(dependent):
        up = specs.get(up_id)
        newest = _newest_run(storage, up) if up else None
        if not newest or newest.get("status") != "success":
            return None, f"it waits for {up_id!r} to succeed"
        if not (newest.get("start") or "") > since:
            return None, f"it waits for a new run of {up_id!r}"
        upstream.append({"job_id": up_id, "run_id": newest["run_id"]})
    return upstream, ""


def _newest_run(storage: Storage, spec: dict) -> dict | None:
    template = (spec.get("output") or {}).get("uri_template")
    if not template:
        return None
    runs = list_runs(storage, template, spec["owner"], spec["id"], 1)
    return runs[0] if runs else None


def _effective_spec(spec: dict, options: dict) -> dict:
    """The spec as this run will execute it (other parameters, a reproduced snapshot), checked
    before the run starts so a bad request is a 400 and not a failed run."""
    from .run_options import apply_run_options

    try:
        return apply_run_options(spec, options)
    except SpecError as err:
        raise JobError(400, err.message, field=err.field or "options") from None


def _json_object(data: bytes | None) -> dict | None:
    try:
        doc = json.loads(data) if data else None
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


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
