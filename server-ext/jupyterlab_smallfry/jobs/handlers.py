"""REST API of notebook jobs: ``/smallfry/jobs`` and ``/smallfry/jobs/<id>[/run|/pause|/resume]``.

The owner of a job is always the authenticated user; a body that names someone else is
refused. Specs are validated before they are written, written atomically, and each user only
ever reads and writes under their own folder of the jobs location.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import tornado.web
from jupyter_server.base.handlers import APIHandler
from tornado.web import HTTPError

from ..identity import request_user
from .service import JobError, JobService, Locations, blocking, check_id, dag_id_for
from .snapshot import snapshots_uri_for
from .store import Storage, dumps, is_s3, join, output_folder

_DEMO_RUNS_URI = "s3://smallfry-demo/runs/"


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
        self.remote = bool(cfg.jobs_service_url)
        if self.remote:
            from .remote import RemoteJobs

            token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
            self.backend = RemoteJobs(cfg.jobs_service_url, token, services.http)
        else:
            from .signing import load_key

            locations = Locations(self.jobs_uri, self.runs_uri, self.snapshots_uri)
            self.backend = JobService(locations, self.storage, signing_key=load_key())

    async def s3_request(self) -> dict:
        """Endpoint, region and the cached current keys, for boto3 here or in a runner process."""
        creds = await self.services.credential_cache.get()
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
    def backend(self):
        """Where jobs are kept: this server's own folder, or the team's Hub service."""
        return self.jobs.backend

    @property
    def owner(self) -> str:
        """The user making the request, who owns the jobs it touches (see ``identity.py``)."""
        return request_user(self)

    async def blocking(self, fn, *args, **kwargs):
        return await blocking(fn, *args, **kwargs)

    def body(self) -> dict:
        """The request's JSON object: strict JSON (no NaN), at most one spec's size."""
        from .validation import MAX_SPEC_BYTES, SpecError, parse_spec

        raw = self.request.body or b""
        if len(raw) > MAX_SPEC_BYTES:
            raise JobError(
                413, f"The job spec is {len(raw)} bytes; the limit is {MAX_SPEC_BYTES} bytes"
            )
        try:
            body = parse_spec(raw)
        except SpecError as err:
            raise JobError(400, f"The request body is not a job spec: {err}") from None
        if not isinstance(body, dict):
            raise JobError(400, "The request body must be a JSON object (a job spec)")
        if isinstance(body.get("notebook"), dict):
            body["notebook"].pop("content", None)  # only a forwarding server sends bytes
        return body

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, JobError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(exc.to_json()))
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ, value, tb):
        if isinstance(value, JobError):
            self.log.info("Small Fry jobs: %s %s", value.status, value)
            return
        super().log_exception(typ, value, tb)

    def send_error(self, status_code=500, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, JobError):
            status_code = exc.status
        super().send_error(status_code, **kwargs)

    def if_match(self) -> str | None:
        return self.request.headers.get("If-Match") or None

    def answer(self, job: dict, status: int = 200) -> None:
        self.set_status(status)
        if job.get("etag"):
            self.set_header("ETag", job["etag"])
        self.finish(json.dumps(job))

    async def notebook_bytes(self, body: dict) -> bytes | None:
        """The notebook named by ``notebook.source`` (an ``s3://`` URI, read with the user's
        keys, or a path under the server's root), or None when the body names none."""
        notebook = body.get("notebook")
        if not isinstance(notebook, dict) or "source" not in notebook:
            return None
        source = notebook["source"]
        if not isinstance(source, str) or not source.endswith(".ipynb"):
            raise JobError(
                400, "must be the path or s3:// URI of an .ipynb file", field="notebook.source"
            )
        if is_s3(source):
            storage = await self.jobs.storage()
            data = await self.blocking(storage.read, source)
        else:
            data = await self.read_local(source)
        if data is None:
            raise JobError(400, f"{source} does not exist", field="notebook.source")
        return data

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
        jobs = await self.backend.list(self.owner)
        self.finish(json.dumps({"jobs": jobs, **self.backend.where()}))

    @tornado.web.authenticated
    async def post(self):
        body = self.body()
        job = await self.backend.create(self.owner, body, await self.notebook_bytes(body))
        self.answer(job, 201)


class JobHandler(_JobsBase):
    """``GET/PUT/DELETE /smallfry/jobs/<id>``; ``PUT`` with ``If-Match`` changes only the
    version the client saw (409 if someone else changed it meanwhile)."""

    @tornado.web.authenticated
    async def get(self, job_id):
        self.answer(await self.backend.get(self.owner, check_id(job_id)))

    @tornado.web.authenticated
    async def put(self, job_id):
        check_id(job_id)
        body = self.body()
        job, created = await self.backend.update(
            self.owner, job_id, body, await self.notebook_bytes(body), if_match=self.if_match()
        )
        self.answer(job, 201 if created else 200)

    @tornado.web.authenticated
    async def delete(self, job_id):
        await self.backend.delete(self.owner, check_id(job_id))
        self.set_status(204)
        self.finish()


class JobCheckHandler(JobHandler):
    """``POST /smallfry/jobs/check`` with ``{"spec": <draft>}``: every problem of the draft on
    its field and, for a cron schedule, the next runs as Airflow fires them. Writes nothing.

    Answered by this server in a team deployment too: the check reads no storage. "check" is
    also a valid job id, so the other verbs stay those of the job of that name.
    """

    @tornado.web.authenticated
    async def post(self, _name):
        from .check import check_draft

        body = self.body()
        if set(body) - {"spec", "now"} or "spec" not in body:
            raise JobError(400, 'The body must be {"spec": <job spec>} (and optionally "now")')
        now = None
        if "now" in body:
            now = _instant(body["now"])
        self.finish(json.dumps(check_draft(body["spec"], self.owner, now)))


def _instant(value) -> dt.datetime:
    """An ISO 8601 instant with its offset (``2026-03-01T00:00:00Z``), for ``now``."""
    try:
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        instant = None
    if instant is None or instant.tzinfo is None:
        raise JobError(400, "must be an ISO 8601 instant with its offset", field="now")
    return instant


class JobPauseHandler(_JobsBase):
    """``POST /smallfry/jobs/<id>/pause`` and ``…/resume`` (``If-Match`` as for ``PUT``)."""

    @tornado.web.authenticated
    async def post(self, job_id, action):
        job = await self.backend.set_paused(
            self.owner, check_id(job_id), action == "pause", if_match=self.if_match()
        )
        self.answer(job)


class JobRunHandler(_JobsBase):
    """``POST /smallfry/jobs/<id>/run``: run the spec once now, with papermill on this server.

    The run happens in a child process (the same runner the Airflow task uses); the answer
    comes at once with the run id and where ``run.json`` will say how it went.
    """

    @tornado.web.authenticated
    async def post(self, job_id):
        check_id(job_id)
        if self.jobs.remote:
            self.set_status(202)
            self.finish(json.dumps(await self.backend.run_now(self.owner, job_id)))
            return
        spec = await self.backend.stored(self.owner, job_id)
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
        base = base.removesuffix("/api/v2")  # either form
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
        (url_path_join(base, r"smallfry/jobs/(check)"), JobCheckHandler),
        (url_path_join(base, r"smallfry/jobs/(.+)/(pause|resume)"), JobPauseHandler),
        (url_path_join(base, r"smallfry/jobs/(.+)/run"), JobRunHandler),
        (url_path_join(base, r"smallfry/jobs/(.+)"), JobHandler),
    ]
