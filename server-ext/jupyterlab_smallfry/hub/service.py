"""The Small Fry Hub service: per-user AWS keys, and the one writer of job specs.

It runs as a JupyterHub-managed service with its own AWS identity (instance role, IRSA or
keys in its environment) and, in a team deployment, is the only holder of:

- write access to the jobs, snapshots and runs locations (users' roles get none);
- the spec-signing key, shared with Airflow, which refuses specs it did not sign;
- the Airflow service account used for *Run now* and for each owner's Airflow role.

A user's server sends ``/jobs`` requests with its Hub API token. The service asks the Hub
whose token it is, reads that user's Hub groups, and lets :class:`..jobs.service.JobService`
stamp the owner, check ``run_as.role_arn`` against the roles those groups map to, snapshot
the notebook bytes it was sent, sign and write the spec. Nothing in the request decides who
the owner is or which roles they have.

    python -m jupyterlab_smallfry.hub.service --SmallFryService.jobs_uri=/srv/smallfry/jobs \
        --SmallFryService.runs_uri=s3://team-bucket/smallfry/runs/ ...
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from pathlib import Path
from urllib.parse import unquote

from traitlets import Float, Unicode

from ..airflow.naming import dag_id_for, owner_role
from ..jobs.service import (
    JobError,
    JobService,
    Locations,
    check_id,
    decode_notebook,
    parse_run_request,
)
from ..jobs.snapshot import snapshots_uri_for
from ..jobs.store import Storage, dumps, join, output_folder
from ..jobs.validation import SpecError, parse_spec
from .broker import ServiceHandler, SmallFryBroker

#: Largest request: one spec plus the notebook's bytes in base64.
MAX_REQUEST_BYTES = 128 * 1024 * 1024


class JobsApiHandler(ServiceHandler):
    """``/jobs``, ``/jobs/<id>`` and ``/jobs/<id>/(pause|resume|run)`` for the token's user."""

    async def prepare(self):
        user = await self.broker.identify(self)
        if user is None:
            return
        self.owner = user["name"]
        self.roles = self.broker.roles_for(await self.broker.groups_of(self.owner, user))

    @property
    def jobs(self) -> JobService:
        return self.broker.jobs

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        body = exc.to_json() if isinstance(exc, JobError) else {"message": self._reason}
        self.finish(json.dumps(body))

    def send_error(self, status_code=500, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, JobError):
            status_code = exc.status
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ, value, tb):
        if isinstance(value, JobError):
            self.broker.log.info(
                "jobs of %s: %s %s", getattr(self, "owner", "?"), value.status, value
            )
            return
        super().log_exception(typ, value, tb)

    def body(self) -> tuple[dict, bytes | None]:
        """The request's spec (strict JSON) and the notebook bytes the server sent with it."""
        raw = self.request.body or b""
        try:
            body = parse_spec(raw, max_bytes=MAX_REQUEST_BYTES)
        except SpecError as err:
            raise JobError(400, f"The request body is not a job spec: {err}") from None
        if not isinstance(body, dict):
            raise JobError(400, "The request body must be a JSON object (a job spec)")
        notebook = body.get("notebook")
        content = decode_notebook(notebook) if isinstance(notebook, dict) else None
        if isinstance(notebook, dict):
            body["notebook"] = {k: v for k, v in notebook.items() if k != "content"}
        return body, content

    def answer(self, job: dict, status: int = 200) -> None:
        self.set_status(status)
        if job.get("etag"):
            self.set_header("ETag", job["etag"])
        self.finish(json.dumps(job))

    async def get(self, job_id=None, action=None):
        if job_id is None:
            jobs = await self.jobs.list(self.owner)
            self.finish(json.dumps({"jobs": jobs, "runs_uri": self.jobs.where()["runs_uri"]}))
        elif action is None:
            self.answer(await self.jobs.get(self.owner, unquote(job_id)))
        else:
            raise JobError(405, "Use POST for pause, resume and run")

    async def post(self, job_id=None, action=None):
        if job_id is None:
            body, notebook = self.body()
            await self.broker.prepare_airflow(self.owner)
            self.answer(await self.jobs.create(self.owner, body, notebook, self.roles), 201)
        elif action in ("pause", "resume"):
            job = await self.jobs.set_paused(
                self.owner, unquote(job_id), action == "pause", self.if_match()
            )
            self.answer(job)
        elif action == "run":
            started = await self.jobs.run_now(
                self.owner, unquote(job_id), parse_run_request(self.request.body), self.roles
            )
            self.set_status(202)
            self.finish(json.dumps(started))
        else:
            raise JobError(404, "Unknown job action")

    async def put(self, job_id=None, action=None):
        if job_id is None or action is not None:
            raise JobError(405, "PUT takes /jobs/<id>")
        body, notebook = self.body()
        await self.broker.prepare_airflow(self.owner)
        job, created = await self.jobs.update(
            self.owner, unquote(job_id), body, notebook, self.roles, self.if_match()
        )
        self.answer({**job, "created": created}, 201 if created else 200)

    async def delete(self, job_id=None, action=None):
        if job_id is None or action is not None:
            raise JobError(405, "DELETE takes /jobs/<id>")
        await self.jobs.delete(self.owner, unquote(job_id))
        self.set_status(204)
        self.finish()

    def if_match(self) -> str | None:
        return self.request.headers.get("If-Match") or None


class JobRunsApiHandler(JobsApiHandler):
    """``/jobs/<id>/runs``, ``/jobs/<id>/runs/<run id>[/inputs]`` and ``/jobs/<id>/compare``
    for the token's user: the run history a team member's server forwards (same checks as a
    single-user server's handlers; the owner is the token's user, never the request's)."""

    async def get(self, job_id, what, run_id=None, inputs=None):
        from ..jobs.history import compare_query, page_query

        job_id = check_id(unquote(job_id))
        query = lambda name: self.get_query_argument(name, "")
        if what == "compare":
            base, remote = compare_query(query)
            self.finish(json.dumps(await self.jobs.compare(self.owner, job_id, base, remote)))
        elif run_id is None:
            limit, status, before = page_query(query)
            page = await self.jobs.runs(self.owner, job_id, limit, status, before)
            self.finish(json.dumps(page))
        elif inputs:
            answer = await self.jobs.inputs(self.owner, job_id, unquote(run_id), self.roles)
            self.finish(json.dumps(answer))
        else:
            self.finish(json.dumps(await self.jobs.run(self.owner, job_id, unquote(run_id))))

    async def post(self, *args):
        raise JobError(405, "Run history is read-only; POST /jobs/<id>/run starts a run")

    async def put(self, *args):
        raise JobError(405, "Run history is read-only")

    async def delete(self, *args):
        raise JobError(405, "Run history is read-only")


class _AirflowRuns:
    """The service's RunStarter: Run now through the service's Airflow account."""

    def __init__(self, service: SmallFryService):
        self._service = service

    async def start(self, spec: dict, owner: str, options: dict | None = None) -> dict:
        return await self._service.start_run(spec, owner, options)


class SmallFryService(SmallFryBroker):
    """Settings of the Hub service (``--SmallFryService.x=y``); the credential settings are
    the broker's (``--SmallFryBroker.*`` also works through the class hierarchy)."""

    name = "smallfry"
    description = "Per-user AWS keys and the one writer of job specs for a Small Fry Hub."

    jobs_uri = Unicode(
        "", config=True, help="Where specs go: a folder Airflow reads (or syncs), or s3://."
    )
    runs_uri = Unicode("", config=True, help="Where runs write: s3://bucket/prefix/runs/.")
    endpoint_url = Unicode("", config=True, help="S3 endpoint; empty: AWS.")
    spec_key_file = Unicode(
        "",
        config=True,
        help="File holding the key that signs specs (shared with Airflow, readable only by "
        "the service and Airflow). Empty: $SMALLFRY_SPEC_KEY_FILE.",
    )
    airflow_url = Unicode("", config=True, help="Airflow base URL, e.g. http://127.0.0.1:8080.")
    airflow_username = Unicode("", config=True, help="The service's Airflow account.")
    trigger_wait = Float(
        15.0,
        config=True,
        help="Seconds Run now waits for Airflow to load a job it has not parsed yet.",
    )
    airflow_password_file = Unicode(
        "", config=True, help="File holding that account's password (never on the command line)."
    )

    def initialize(self, argv=None):
        super().initialize(argv)
        if not self.jobs_uri or not self.runs_uri:
            raise SystemExit("smallfry service: set SmallFryService.jobs_uri and runs_uri")
        from ..jobs.signing import load_key

        environ = dict(os.environ)
        if self.spec_key_file:
            environ["SMALLFRY_SPEC_KEY_FILE"] = self.spec_key_file
        key = load_key(environ)
        if key is None:
            raise SystemExit(
                "smallfry service: no spec-signing key; set SmallFryService.spec_key_file"
            )
        locations = Locations(self.jobs_uri, self.runs_uri, snapshots_uri_for(self.runs_uri))
        self.jobs = JobService(
            locations,
            self._storage,
            signing_key=key,
            runs=_AirflowRuns(self),
            user_storage=self._run_as_storage,
        )
        self.airflow = None
        if self.airflow_url:
            from ..platform.airflow_api import AirflowClient

            password = Path(self.airflow_password_file).read_text().strip()
            self.airflow = AirflowClient(self.airflow_url, self.airflow_username, password)

    async def _storage(self) -> Storage:
        def client():
            import boto3
            from botocore.config import Config

            return boto3.client(
                "s3",
                endpoint_url=self.endpoint_url or None,
                region_name=self.region or None,
                config=Config(
                    s3={"addressing_style": "path" if self.endpoint_url else "auto"},
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )

        return Storage(client)

    async def prepare_airflow(self, owner: str) -> None:
        """Make the owner's Airflow role exist before Airflow parses a DAG that names it."""
        if self.airflow is not None:
            from ..platform.airflow_api import AirflowError

            try:
                await self.airflow.ensure_role(owner_role(owner))
            except AirflowError as err:
                raise JobError(502, f"Airflow refused to prepare your jobs: {err}") from None

    async def _run_as_storage(self, spec: dict, roles: list[str] | None) -> Storage:
        """S3 with the keys of the job's run-as role, assumed for its owner: what the run itself
        could read, so checking a run's inputs tells the owner nothing their job could not
        see. Refused when the owner may no longer use that role."""
        role = (spec.get("run_as") or {}).get("role_arn")
        if not role or roles is None or role not in roles:
            raise JobError(
                403,
                "this job's run-as role is not one of your roles any more, so its inputs "
                "cannot be checked for you",
            )
        try:
            answer = await self.assume(spec["owner"], role)
        except Exception as err:  # noqa: BLE001 - STS refusals and outages alike
            raise JobError(502, f"Could not take on the job's role: {type(err).__name__}") from None
        keys = answer["Credentials"]

        def client():
            import boto3
            from botocore.config import Config

            return boto3.client(
                "s3",
                endpoint_url=self.endpoint_url or None,
                region_name=self.region or None,
                aws_access_key_id=keys["AccessKeyId"],
                aws_secret_access_key=keys["SecretAccessKey"],
                aws_session_token=keys["SessionToken"],
                config=Config(
                    s3={"addressing_style": "path" if self.endpoint_url else "auto"},
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )

        return Storage(client)

    async def start_run(self, spec: dict, owner: str, options: dict | None = None) -> dict:
        """Trigger the job's DAG with the service's Airflow account, ``options`` in the run's
        ``conf``; the run shows at once (its "queued" manifest)."""
        if self.airflow is None:
            raise JobError(409, "Run now needs Airflow; the admin sets SmallFryService.airflow_url")
        from ..jobs.airflow_trigger import queued_manifest

        job_id = spec["id"]
        dag_id = dag_id_for(owner, job_id)
        run_id = await self._trigger(dag_id, f"Run now from Jupyter by {owner}", options)
        folder = output_folder(spec["output"]["uri_template"], owner, job_id, run_id)
        manifest = queued_manifest(spec, run_id, options)
        storage = await self._storage()
        await self.jobs.blocking(storage.write, join(folder, "run.json"), dumps(manifest))
        return {
            "run_id": run_id,
            "dag_id": dag_id,
            "airflow": True,
            "run_uri": join(folder, "run.json"),
            "output_uri": join(folder, "output.ipynb"),
        }

    async def _trigger(self, dag_id: str, note: str, options: dict | None = None) -> str:
        """Start a run; a job scheduled moments ago may not be parsed yet, so wait a little
        for Airflow to load it before saying so."""
        from ..platform.airflow_api import AirflowError, AirflowNotFound

        deadline = asyncio.get_running_loop().time() + self.trigger_wait
        while True:
            try:
                conf = {"options": options} if options else None
                return await self.airflow.trigger(dag_id, note=note, conf=conf)
            except AirflowNotFound:
                if asyncio.get_running_loop().time() >= deadline:
                    raise JobError(
                        409,
                        "Airflow has not loaded this job yet (it reads new jobs every few "
                        "seconds); try Run now again in a moment",
                    ) from None
                await asyncio.sleep(1)
            except AirflowError as err:
                raise JobError(502, f"Airflow refused to start the run: {err}") from None

    def routes(self, prefix: str) -> list:
        jobs = r"/jobs(?:/([^/]+)(?:/(pause|resume|run))?)?/?"
        history = r"/jobs/([^/]+)/(runs|compare)(?:/([^/]+)(?:/(inputs))?)?/?"
        return [
            *super().routes(prefix),
            (prefix + history, JobRunsApiHandler, {"broker": self}),
            (history, JobRunsApiHandler, {"broker": self}),
            (prefix + jobs, JobsApiHandler, {"broker": self}),
            (jobs, JobsApiHandler, {"broker": self}),
        ]


def new_spec_key(path: str | os.PathLike) -> Path:
    """Write a fresh random signing key to ``path`` (0600), for the platform's first start."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return target


main = SmallFryService.launch_instance

if __name__ == "__main__":
    main()
