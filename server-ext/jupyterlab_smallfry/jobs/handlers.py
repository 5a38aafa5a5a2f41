"""REST API of notebook jobs: ``/smallfry/jobs`` and ``/smallfry/jobs/<id>[/run|/pause|/resume]``.

The owner of a job is always the authenticated user; a body that names someone else is
refused. Specs are validated before they are written, written atomically, and each user only
ever reads and writes under their own folder of the jobs location.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import json
import os
import secrets
import sys
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import tornado.web
from jupyter_server.base.handlers import APIHandler
from tornado.web import HTTPError

from .snapshot import NotebookError, notebook_kernel, snapshots_uri_for, take_snapshot
from .store import (
    JobStore,
    Storage,
    default_output_template,
    dumps,
    is_s3,
    join,
    list_runs,
    output_folder,
)
from .validation import API_VERSION, is_job_id, validate_spec

#: Fields the server owns; a client may not set them.
_SERVER_FIELDS = ("owner", "apiVersion", "kind")
_DEMO_RUNS_URI = "s3://smallfry-demo/runs/"


def dag_id_for(owner: str, job_id: str) -> str:
    from ..airflow.naming import dag_id_for as _dag_id

    return _dag_id(owner, job_id)


class JobsContext:
    """Where this server keeps jobs and runs, and an S3 client with the user's current keys."""

    def __init__(self, services):
        self.services = services
        cfg = services.config
        self.jobs_uri = cfg.jobs_uri or str(Path.home() / ".local/share/smallfry/jobs")
        if cfg.runs_uri:
            self.runs_uri = cfg.runs_uri
        elif cfg.embedded:
            # The Jobs panel opens outputs with the S3 browser, which shows the demo bucket.
            self.runs_uri = _DEMO_RUNS_URI
        else:
            self.runs_uri = join(self.jobs_uri.rstrip("/").rsplit("/", 1)[0], "runs") + "/"
        if not is_s3(self.jobs_uri):
            self.jobs_uri = os.path.abspath(os.path.expanduser(self.jobs_uri))
        if not is_s3(self.runs_uri):
            self.runs_uri = os.path.abspath(os.path.expanduser(self.runs_uri)) + "/"
        self.snapshots_uri = snapshots_uri_for(self.runs_uri)

    async def s3_request(self) -> dict:
        """Endpoint, region and the broker's current keys, for boto3 here or in a runner process."""
        creds = await self.services.broker.get()
        endpoint = (
            self.services.endpoints.s3_base.geturl() if self.services.endpoints.s3_custom else ""
        )
        return {
            "endpoint_url": endpoint,
            "region": self.services.region,
            "access_key": creds.access_key,
            "secret_key": creds.secret_key,
            "token": creds.token,
        }

    async def storage(self) -> Storage:
        s3 = await self.s3_request()

        def client():
            import boto3
            from botocore.config import Config

            return boto3.client(
                "s3",
                endpoint_url=s3["endpoint_url"] or None,
                region_name=s3["region"],
                aws_access_key_id=s3["access_key"],
                aws_secret_access_key=s3["secret_key"],
                aws_session_token=s3["token"],
                config=Config(
                    s3={"addressing_style": "path" if s3["endpoint_url"] else "auto"},
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )

        return Storage(client)


class _JobsBase(APIHandler):
    @property
    def jobs(self) -> JobsContext:
        ctx = self.settings.get("smallfry_jobs")
        if ctx is None:
            ctx = self.settings["smallfry_jobs"] = JobsContext(self.settings["smallfry"])
        return ctx

    @property
    def owner(self) -> str:
        """The authenticated user. A single-user server's token login has no user name (each
        request gets a random anonymous one), so there the server's own account owns the jobs."""
        from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider

        if type(self.identity_provider) in (IdentityProvider, PasswordIdentityProvider):
            return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
        return self.current_user.username

    async def blocking(self, fn, *args, **kwargs):
        """Run blocking I/O (files, boto3) off the event loop; S3 failures become a 502 that
        says what S3 said (never the request, which is signed)."""
        import botocore.exceptions

        try:
            return await asyncio.get_running_loop().run_in_executor(
                None, partial(fn, *args, **kwargs)
            )
        except botocore.exceptions.ClientError as err:
            error = err.response.get("Error", {})
            raise HTTPError(
                502, f"S3 refused: {error.get('Code', 'error')}: {error.get('Message', '')}"
            ) from None
        except botocore.exceptions.BotoCoreError as err:
            raise HTTPError(502, f"S3 is unreachable: {type(err).__name__}") from None

    def body(self) -> dict:
        body = self.get_json_body()  # answers 400 itself when the body is not JSON
        if not isinstance(body, dict):
            raise HTTPError(400, "The request body must be a JSON object (a job spec)")
        return body

    def check_id(self, job_id: str) -> str:
        if not is_job_id(job_id):
            raise HTTPError(
                400,
                f"{job_id!r} is not a job id: use 1-63 lower-case letters, digits, '-' and '_'",
            )
        return job_id

    async def store(self) -> JobStore:
        return JobStore(self.jobs.jobs_uri, await self.jobs.storage())

    async def with_runs(self, spec: dict, storage: Storage, limit: int = 10) -> dict:
        template = spec.get("output", {}).get("uri_template")
        runs = []
        if template:
            try:
                runs = await self.blocking(
                    list_runs, storage, template, spec["owner"], spec["id"], limit
                )
            except Exception as err:  # a broken runs location must not hide the job itself
                self.log.warning(
                    "Small Fry: listing runs of %s failed: %s", spec["id"], type(err).__name__
                )
        return {"spec": spec, "runs": runs, "dag_id": dag_id_for(spec["owner"], spec["id"])}

    async def prepare_spec(self, body: dict, *, job_id: str | None, existing: dict | None) -> dict:
        """Turn a request body into a complete, validated spec owned by the current user."""
        owner = self.owner
        claimed = body.get("owner")
        if claimed is not None and claimed != owner:
            raise HTTPError(403, f"owner: jobs are always owned by the signed-in user ({owner})")
        if job_id is not None and body.get("id", job_id) != job_id:
            raise HTTPError(400, "id: the body's id does not match the URL")
        spec = {k: v for k, v in body.items() if k not in _SERVER_FIELDS}
        spec = {"apiVersion": API_VERSION, "kind": "NotebookJob", **spec, "owner": owner}
        if job_id is not None:
            spec["id"] = job_id
        if not isinstance(spec.get("id"), str) or not is_job_id(spec["id"]):
            errors = validate_spec(spec)
            raise HTTPError(400, str(errors[0]) if errors else "id: is required")
        spec.setdefault("output", {})
        if isinstance(spec["output"], dict):
            spec["output"].setdefault("uri_template", default_output_template(self.jobs.runs_uri))
        notebook = spec.get("notebook")
        if isinstance(notebook, dict) and "source" in notebook:
            spec["notebook"] = await self.snapshot(notebook)
        elif notebook is None and existing is not None:
            spec["notebook"] = existing["notebook"]
        elif isinstance(notebook, dict) and isinstance(notebook.get("uri"), str):
            # Airflow reads the notebook with its own rights: only snapshots this server took.
            if not notebook["uri"].startswith(self.jobs.snapshots_uri):
                raise HTTPError(
                    400,
                    "notebook.uri: must be a snapshot taken by this server; "
                    "send notebook.source (the notebook's path) to take one",
                )
        errors = validate_spec(spec)
        if errors:
            raise HTTPError(400, "; ".join(str(e) for e in errors[:5]))
        return spec

    async def snapshot(self, notebook: dict) -> dict:
        """Freeze the notebook named by ``source`` (an ``s3://`` URI or a path under the
        server's root) into a content-addressed snapshot."""
        source = notebook["source"]
        if not isinstance(source, str) or not source.endswith(".ipynb"):
            raise HTTPError(400, "notebook.source: must be the path or s3:// URI of an .ipynb file")
        storage = await self.jobs.storage()
        if is_s3(source):
            data = await self.blocking(storage.read, source)
        else:
            data = await self.read_local(source)
        if data is None:
            raise HTTPError(400, f"notebook.source: {source} does not exist")
        try:
            kernel = notebook.get("kernel") or notebook_kernel(data)
        except NotebookError as err:
            raise HTTPError(400, f"notebook.source: {err}") from None
        if not kernel:
            raise HTTPError(400, "notebook.kernel: the notebook has no kernel saved; pick one")
        uri, digest = await self.blocking(take_snapshot, storage, data, self.jobs.snapshots_uri)
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        return {
            "uri": uri,
            "sha256": digest,
            "kernel": kernel,
            "source_path": source,
            "snapshot_time": now,
        }

    async def read_local(self, path: str) -> bytes | None:
        """Read a notebook through the contents manager, so the server's root confines it."""
        cm = self.contents_manager
        try:
            model = await _maybe_await(cm.get(path.lstrip("/"), content=True, type="notebook"))
        except HTTPError as err:
            if err.status_code == 404:
                return None
            raise
        import nbformat

        return nbformat.writes(nbformat.from_dict(model["content"])).encode("utf-8")


async def _maybe_await(value):
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value


class JobsHandler(_JobsBase):
    """``GET /smallfry/jobs``: my jobs with their recent runs; ``POST``: schedule a new job."""

    @tornado.web.authenticated
    async def get(self):
        store = await self.store()
        specs = await self.blocking(store.list, self.owner)
        jobs = await asyncio.gather(*(self.with_runs(s, store.storage, 5) for s in specs))
        self.finish(
            json.dumps(
                {"jobs": list(jobs), "jobs_uri": self.jobs.jobs_uri, "runs_uri": self.jobs.runs_uri}
            )
        )

    @tornado.web.authenticated
    async def post(self):
        body = self.body()
        if isinstance(body.get("id"), str):
            self.check_id(body["id"])
        spec = await self.prepare_spec(body, job_id=None, existing=None)
        store = await self.store()
        created = await self.blocking(store.put, spec, create=True)
        if not created:
            raise HTTPError(
                409, f"id: a job {spec['id']!r} already exists; edit it or pick another id"
            )
        self.set_status(201)
        self.finish(json.dumps(await self.with_runs(spec, store.storage)))


class JobHandler(_JobsBase):
    """``GET/PUT/DELETE /smallfry/jobs/<id>``."""

    async def _existing(self, job_id: str) -> tuple[JobStore, dict]:
        self.check_id(job_id)
        store = await self.store()
        spec = await self.blocking(store.get, self.owner, job_id)
        if spec is None:
            raise HTTPError(404, f"No job {job_id!r}")
        return store, spec

    @tornado.web.authenticated
    async def get(self, job_id):
        store, spec = await self._existing(job_id)
        self.finish(json.dumps(await self.with_runs(spec, store.storage, 20)))

    @tornado.web.authenticated
    async def put(self, job_id):
        self.check_id(job_id)
        body = self.body()
        store = await self.store()
        existing = await self.blocking(store.get, self.owner, job_id)
        spec = await self.prepare_spec(body, job_id=job_id, existing=existing)
        await self.blocking(store.put, spec)
        self.set_status(200 if existing else 201)
        self.finish(json.dumps(await self.with_runs(spec, store.storage)))

    @tornado.web.authenticated
    async def delete(self, job_id):
        self.check_id(job_id)
        store = await self.store()
        if not await self.blocking(store.delete, self.owner, job_id):
            raise HTTPError(404, f"No job {job_id!r}")
        self.set_status(204)
        self.finish()


class JobPauseHandler(JobHandler):
    """``POST /smallfry/jobs/<id>/pause`` and ``…/resume``."""

    @tornado.web.authenticated
    async def post(self, job_id, action):
        store, spec = await self._existing(job_id)
        spec["paused"] = action == "pause"
        await self.blocking(store.put, spec)
        self.finish(json.dumps(await self.with_runs(spec, store.storage)))


class JobRunHandler(JobHandler):
    """``POST /smallfry/jobs/<id>/run``: run the spec once now, with papermill on this server.

    The run happens in a child process (the same runner the Airflow task uses); the answer
    comes at once with the run id and where ``run.json`` will say how it went.
    """

    @tornado.web.authenticated
    async def post(self, job_id):
        _store, spec = await self._existing(job_id)
        if self.jobs.services.config.airflow_api_url:
            return await self.trigger_airflow(spec)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H-%M-%S")
        run_id = f"smallfry__{stamp}__{secrets.token_hex(3)}"
        folder = output_folder(spec["output"]["uri_template"], spec["owner"], spec["id"], run_id)
        request = {
            "spec": spec,
            "run_id": run_id,
            "trigger": "server",
            "s3": await self.jobs.s3_request(),
        }
        # Write the "running" manifest before answering, so a list right after shows the run.
        from .runner import start_manifest

        storage = await self.jobs.storage()
        await self.blocking(
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
        runs = self.settings.setdefault("smallfry_job_runs", {})
        runs[run_id] = asyncio.ensure_future(_reap(proc, spec.get("timeout_seconds", 3600) + 120))
        runs[run_id].add_done_callback(lambda _f: runs.pop(run_id, None))
        self.set_status(202)
        self.finish(
            json.dumps(
                {
                    "run_id": run_id,
                    "run_uri": join(folder, "run.json"),
                    "output_uri": join(folder, "output.ipynb"),
                }
            )
        )

    async def trigger_airflow(self, spec: dict) -> None:
        """Start a run of the job's DAG through Airflow's REST API (``/api/v2``).

        Credentials for Airflow: ``user:password@`` in ``SmallFry.airflow_api_url`` (exchanged
        for a JWT at ``/auth/token``), else a bearer token in ``$SMALLFRY_AIRFLOW_TOKEN``.
        """
        import aiohttp

        parts = urlsplit(self.jobs.services.config.airflow_api_url)
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        base = base[: -len("/api/v2")] if base.endswith("/api/v2") else base  # either form
        http = self.jobs.services.http
        headers = {"Content-Type": "application/json"}
        dag_id = dag_id_for(spec["owner"], spec["id"])
        try:
            if parts.username:
                async with http.post(
                    f"{base}/auth/token",
                    json={
                        "username": unquote(parts.username),
                        "password": unquote(parts.password or ""),
                    },
                ) as answer:
                    if answer.status not in (200, 201):
                        raise HTTPError(
                            502,
                            f"Airflow at {base} refused the Small Fry login "
                            f"({answer.status}); check SmallFry.airflow_api_url",
                        )
                    headers["Authorization"] = f"Bearer {(await answer.json())['access_token']}"
            elif os.environ.get("SMALLFRY_AIRFLOW_TOKEN"):
                headers["Authorization"] = f"Bearer {os.environ['SMALLFRY_AIRFLOW_TOKEN']}"
            async with http.post(
                f"{base}/api/v2/dags/{dag_id}/dagRuns",
                headers=headers,
                json={
                    "logical_date": None,
                    "conf": {},
                    "note": f"Run now from Jupyter by {self.owner}",
                },
            ) as answer:
                if answer.status == 404:
                    raise HTTPError(
                        409,
                        f"Airflow does not have the DAG {dag_id} yet: the spec "
                        "reaches Airflow with the next sync and parse; try again shortly",
                    )
                if answer.status not in (200, 201):
                    raise HTTPError(502, f"Airflow refused to start {dag_id} ({answer.status})")
                run_id = (await answer.json())["dag_run_id"]
        except aiohttp.ClientError as err:
            raise HTTPError(
                502, f"Airflow at {base} is unreachable: {type(err).__name__}"
            ) from None
        folder = output_folder(spec["output"]["uri_template"], spec["owner"], spec["id"], run_id)
        from .runner import start_manifest

        manifest = {**start_manifest(spec, run_id, "airflow"), "status": "queued", "start": None}
        storage = await self.jobs.storage()
        await self.blocking(storage.write, join(folder, "run.json"), dumps(manifest))
        self.set_status(202)
        self.finish(
            json.dumps(
                {
                    "run_id": run_id,
                    "dag_id": dag_id,
                    "airflow": True,
                    "run_uri": join(folder, "run.json"),
                    "output_uri": join(folder, "output.ipynb"),
                }
            )
        )


def _runner_env() -> dict:
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


def job_routes(base: str) -> list:
    """Routes for :func:`handlers.setup_handlers`."""
    from jupyter_server.utils import url_path_join

    return [
        (url_path_join(base, r"smallfry/jobs/?"), JobsHandler),
        (url_path_join(base, r"smallfry/jobs/(.+)/(pause|resume)"), JobPauseHandler),
        (url_path_join(base, r"smallfry/jobs/(.+)/run"), JobRunHandler),
        (url_path_join(base, r"smallfry/jobs/(.+)"), JobHandler),
    ]
