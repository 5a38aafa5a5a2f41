"""REST API of notebook jobs: ``/smallfry/jobs``, ``/smallfry/jobs/check``,
``/smallfry/jobs/<id>[/run|/pause|/resume|/compare]`` and a job's run history,
``/smallfry/jobs/<id>/runs[/<run id>[/inputs]]``.

Thin: each handler parses the request, names the owner (always the authenticated user; a body
that names someone else is refused) and calls the jobs backend of :mod:`.context`, which
validates, writes atomically, keeps each user under their own folder and starts runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import tornado.web
from jupyter_server.base.handlers import APIHandler
from tornado.web import HTTPError

from ..identity import request_user
from .context import JobsContext
from .service import JobError, blocking, check_id, parse_run_request
from .store import is_s3


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

    Answered by this server in a team deployment too: the check reads no storage, except the
    owner's jobs for a draft that runs after others (``after``); if they cannot be read, the
    chain is left for the save to judge. "check" is also a valid job id, so the other verbs
    stay those of the job of that name.
    """

    @tornado.web.authenticated
    async def post(self, _name):
        from .check import check_draft, needs_owner_specs

        body = self.body()
        if set(body) - {"spec", "now"} or "spec" not in body:
            raise JobError(400, 'The body must be {"spec": <job spec>} (and optionally "now")')
        now = None
        if "now" in body:
            now = _instant(body["now"])
        owner_specs = None
        if needs_owner_specs(body["spec"]):
            try:
                owner_specs = await self.backend.owner_specs(self.owner)
            except Exception as err:  # noqa: BLE001 - the rest of the check still answers
                self.log.info("Small Fry jobs check: the owner's jobs are not readable: %s", err)
        self.finish(json.dumps(check_draft(body["spec"], self.owner, now, owner_specs)))


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
    """``POST /smallfry/jobs/<id>/run``: run the job once now. The answer comes at once (202)
    with the run id and where ``run.json`` will say how it went; the run itself happens in a
    runner process of this server, in Airflow, or through the team's Hub service.

    An optional body asks for one variation: ``{"parameters": {…}}`` (run with other
    parameters), ``{"rerun": "<run id>"}`` (that run's parameters) or ``{"reproduce": "<run
    id>"}`` (that run's snapshot and parameters; the answer adds ``changed_inputs``)."""

    @tornado.web.authenticated
    async def post(self, job_id):
        check_id(job_id)
        started = await self.backend.run_now(
            self.owner, job_id, parse_run_request(self.request.body)
        )
        self.set_status(202)
        self.finish(json.dumps(started))


class JobRunsHandler(_JobsBase):
    """``GET /smallfry/jobs/<id>/runs?limit=20&status=success|failed|running&before=<next>``:
    a page of the job's runs, newest first, ``{"runs": [manifest], "next": cursor|null}``.
    Only the runs on the page are read (see :mod:`.history`)."""

    @tornado.web.authenticated
    async def get(self, job_id):
        from .history import page_query

        check_id(job_id)
        limit, status, before = page_query(lambda name: self.get_query_argument(name, ""))
        page = await self.backend.runs(self.owner, job_id, limit, status, before)
        self.finish(json.dumps(page))


class JobRunDetailHandler(_JobsBase):
    """``GET /smallfry/jobs/<id>/runs/<run id>``: ``{"run": manifest, "progress": …|null}``,
    two reads by key, cheap enough to poll while the run executes; ``…/inputs``: each object
    the run read, HEADed now with the user's keys (``changed``, ``missing``)."""

    @tornado.web.authenticated
    async def get(self, job_id, run_id, inputs=None):
        from .history import check_run_id

        check_id(job_id)
        check_run_id(run_id)
        if inputs:
            self.finish(json.dumps(await self.backend.inputs(self.owner, job_id, run_id)))
        else:
            self.finish(json.dumps(await self.backend.run(self.owner, job_id, run_id)))


class JobCompareHandler(_JobsBase):
    """``GET /smallfry/jobs/<id>/compare?base=<run id>&remote=<run id>|notebook``: nbdime's
    diff of two runs' output notebooks (or a run's and the job's notebook), as nbdime's own
    ``/api/diff`` answers, with both runs' parameters and manifests."""

    @tornado.web.authenticated
    async def get(self, job_id):
        from .history import compare_query

        check_id(job_id)
        base, remote = compare_query(lambda name: self.get_query_argument(name, ""))
        self.finish(json.dumps(await self.backend.compare(self.owner, job_id, base, remote)))


def job_routes(base: str) -> list:
    """Routes for :func:`handlers.setup_handlers`."""
    from jupyter_server.utils import url_path_join

    from ..contract import server_path

    jobs = server_path("jobs")
    return [
        (url_path_join(base, jobs + r"/?"), JobsHandler),
        (url_path_join(base, jobs + r"/(check)"), JobCheckHandler),
        (url_path_join(base, jobs + r"/(.+)/(pause|resume)"), JobPauseHandler),
        (url_path_join(base, jobs + r"/(.+)/run"), JobRunHandler),
        (url_path_join(base, jobs + r"/([^/]+)/runs/?"), JobRunsHandler),
        (url_path_join(base, jobs + r"/([^/]+)/runs/([^/]+)(?:/(inputs))?/?"), JobRunDetailHandler),
        (url_path_join(base, jobs + r"/([^/]+)/compare"), JobCompareHandler),
        (url_path_join(base, jobs + r"/(.+)"), JobHandler),
    ]
