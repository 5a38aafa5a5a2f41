"""The rules of scheduling, written once: who owns a job, what a spec may say, where it goes.

Two writers use this class. In a single-user install the user's Jupyter server writes specs
into its own jobs folder. In a team deployment the Small Fry Hub service is the only writer:
users' servers forward their requests with their Hub token, and the service calls the same
methods with the owner the Hub named and the roles the owner's Hub groups allow. Either way:

- the owner is the caller's identity, never a name in the request;
- a spec's notebook is a snapshot this writer took from bytes it was given (content
  addressed), or the one the job already had, never a URI the request names;
- ``run_as.role_arn`` must be one of the owner's roles (when the writer knows them; the
  service always does, and then every job gets a role, so no job runs as Airflow's own);
- with a signing key, every spec written is signed, so Airflow can tell it from a file
  someone else dropped into the jobs location;
- edits, pause and resume may name the version they change (``If-Match``), so two people
  editing one job get a conflict instead of a silent overwrite.

Nothing here imports Jupyter or tornado; blocking I/O runs in the default executor.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from .preview import next_run
from .signing import sign_spec
from .snapshot import NotebookError, notebook_kernel, take_snapshot
from .store import JobStore, Storage, StoreConflict, default_output_template, list_runs
from .validation import (
    API_VERSION,
    MAX_SPEC_BYTES,
    SpecError,
    is_job_id,
    parse_spec,
    validate_spec,
)

#: Fields the writer owns; a request may not set them.
SERVER_FIELDS = ("owner", "apiVersion", "kind", "signature")


class JobError(Exception):
    """A request the writer refuses: an HTTP status and what to tell the user.

    ``errors`` lists ``{"field", "message"}`` so the form can show each next to its field
    (the message whole: it may itself contain "; "). A refusal about one field names it with
    ``field=``: ``JobError(409, "a job 'x' already exists", field="id")`` lists that one
    problem, and its ``message`` reads ``"id: a job 'x' already exists"`` for logs and for
    clients that only read the message.
    """

    def __init__(
        self, status: int, message: str, errors: list[dict] | None = None, *, field: str = ""
    ):
        if field:
            errors = [{"field": field, "message": message}] if errors is None else errors
            message = f"{field}: {message}"
        super().__init__(message)
        self.status = status
        # Every refusal lists its problems, so a client reads one shape; one that is about no
        # field in particular is listed on "" (the request as a whole).
        self.errors = list(errors) if errors else [{"field": "", "message": message}]

    def to_json(self) -> dict:
        return {"message": str(self), "errors": self.errors}


@dataclass(frozen=True)
class Locations:
    jobs_uri: str
    runs_uri: str
    snapshots_uri: str


def dag_id_for(owner: str, job_id: str) -> str:
    from ..airflow.naming import dag_id_for as _dag_id

    return _dag_id(owner, job_id)


def decode_notebook(notebook: dict) -> bytes | None:
    """The notebook bytes a forwarding server sent as base64 ``content``, if any."""
    content = notebook.get("content")
    if content is None:
        return None
    if not isinstance(content, str):
        raise JobError(400, "must be the notebook's bytes in base64", field="notebook.content")
    try:
        return base64.b64decode(content, validate=True)
    except ValueError:
        raise JobError(400, "is not valid base64", field="notebook.content") from None


class RunStarter(Protocol):
    """How a writer starts a run now: this server's own runner process
    (:class:`.local_runs.LocalRuns`), Airflow (:class:`.airflow_trigger.AirflowTrigger`) or
    the Hub service's Airflow account.

    ``spec`` is the job's spec as stored (signed); ``options`` are what this one run changes
    (see :mod:`.run_options`), passed on to the runner, which applies them after checking the
    signature of the spec.
    """

    async def start(self, spec: dict, owner: str, options: dict | None = None) -> dict: ...


#: Storage with the keys that may look at what a run read (HEAD its inputs): the user's own in
#: a single-user server, the job's run-as role for its owner in the Hub service.
UserStorage = Callable[[dict, "list[str] | None"], Awaitable[Storage]]

#: What ``POST …/run`` may carry (one at most); an empty body is a plain Run now.
RUN_REQUESTS = ("parameters", "rerun", "reproduce")


class JobService:
    """Create, change, list, delete and run now one owner's jobs in one jobs location."""

    def __init__(
        self,
        locations: Locations,
        storage: Callable[[], Awaitable[Storage]],
        *,
        signing_key: bytes | None = None,
        runs: RunStarter | None = None,
        user_storage: UserStorage | None = None,
    ):
        self.locations = locations
        self._storage = storage
        self._signing_key = signing_key
        self._runs = runs
        self._user_storage = user_storage

    async def blocking(self, fn, *args, **kwargs):
        return await blocking(fn, *args, **kwargs)

    def where(self) -> dict:
        """Where jobs and runs go, for the Jobs panel."""
        return {"jobs_uri": self.locations.jobs_uri, "runs_uri": self.locations.runs_uri}

    async def store(self) -> JobStore:
        return JobStore(self.locations.jobs_uri, await self._storage())

    # --- reading ---------------------------------------------------------------------------

    async def list(self, owner: str, runs: int = 3) -> list[dict]:
        store = await self.store()
        specs = await self.blocking(store.list, owner)
        return list(await asyncio.gather(*(self.describe(s, store, runs) for s in specs)))

    async def get(self, owner: str, job_id: str, runs: int = 20) -> dict:
        store, spec, etag = await self._existing(owner, job_id)
        return await self.describe(spec, store, runs, etag)

    async def describe(self, spec: dict, store: JobStore, limit: int, etag: str = "") -> dict:
        """The job as the Jobs panel shows it: spec, recent runs, dag_id and version."""
        from .store import spec_etag

        template = spec.get("output", {}).get("uri_template")
        runs: list = []
        if template:
            try:
                runs = await self.blocking(
                    list_runs, store.storage, template, spec["owner"], spec["id"], limit
                )
            except Exception:  # noqa: BLE001 - a broken runs location must not hide the job
                runs = []
        public = {k: v for k, v in spec.items() if k != "signature"}
        return {
            "spec": public,
            "runs": runs,
            "dag_id": dag_id_for(spec["owner"], spec["id"]),
            "etag": etag or spec_etag(_stored_bytes(spec)),
            # Computed here, as Airflow will, so the panel needs no cron code of its own.
            "next_run": next_run(spec),
        }

    async def stored(self, owner: str, job_id: str) -> dict:
        """The spec exactly as stored (signature included), for a run."""
        return (await self._existing(owner, job_id))[1]

    async def run_now(
        self,
        owner: str,
        job_id: str,
        request: dict | None = None,
        roles: list[str] | None = None,
    ) -> dict:
        """Start one run of the stored job now: its run id and where it writes.

        ``request`` (the body of ``POST …/run``) may ask for other parameters, a re-run of an
        earlier run's parameters, or a reproduction of an earlier run (its snapshot and its
        parameters; the answer then lists the inputs that changed since, ``changed_inputs``).
        Everything the options change is checked here first, so a bad request is a 400 on its
        field instead of a failed run.
        """
        if self._runs is None:
            raise JobError(409, "This writer cannot start runs")
        store, spec, _etag = await self._existing(owner, job_id)
        options, earlier = await self._run_options(store, spec, request)
        started = await self._runs.start(spec, owner, options)
        if earlier is not None and options.get("triggered_by") == "reproduce":
            inputs = await self._check_inputs(spec, earlier, roles)
            started["changed_inputs"] = [i for i in inputs if i["changed"] or i["missing"]]
        return started

    async def _run_options(
        self, store: JobStore, spec: dict, request: dict | None
    ) -> tuple[dict, dict | None]:
        """The run options a request asks for, checked, and the earlier run it names."""
        from .history import run_manifest
        from .run_options import apply_run_options

        request = request or {}
        asked = [k for k in request if k in RUN_REQUESTS]
        if len(request) > 1 or len(asked) != len(request):
            raise JobError(
                400,
                'The body is empty or one of {"parameters": {…}}, {"rerun": "<run id>"}, '
                '{"reproduce": "<run id>"}',
            )
        earlier = None
        if not request:
            options = {"triggered_by": "run_now"}
        elif "parameters" in request:
            if not isinstance(request["parameters"], dict):
                raise JobError(400, "must be an object of parameter values", field="parameters")
            options = {"parameters": request["parameters"], "triggered_by": "parameters"}
        else:
            kind = asked[0]
            if not isinstance(request[kind], str):
                raise JobError(400, "must be the run id of one of this job's runs", field=kind)
            earlier = await self.blocking(run_manifest, store.storage, spec, request[kind])
            parameters = earlier.get("parameters")
            options = {"triggered_by": kind}
            if isinstance(parameters, dict):
                options["parameters"] = parameters
            if kind == "reproduce":
                notebook = earlier.get("notebook") or {}
                if not (
                    isinstance(notebook, dict) and notebook.get("uri") and notebook.get("sha256")
                ):
                    raise JobError(
                        409, "that run does not record its notebook snapshot", field="reproduce"
                    )
                options["notebook"] = {"uri": notebook["uri"], "sha256": notebook["sha256"]}
        try:
            apply_run_options(spec, options)
        except SpecError as err:
            raise _invalid([err]) from None
        return options, earlier

    # --- run history ------------------------------------------------------------------------

    async def runs(
        self,
        owner: str,
        job_id: str,
        limit: int | None = None,
        status: str | None = None,
        before: str | None = None,
    ) -> dict:
        """A page of the job's runs, newest first (see :func:`.history.runs_page`)."""
        from .history import DEFAULT_PAGE, runs_page

        store, spec, _etag = await self._existing(owner, job_id)
        return await self.blocking(
            runs_page, store.storage, spec, limit or DEFAULT_PAGE, status, before
        )

    async def run(self, owner: str, job_id: str, run_id: str) -> dict:
        """One run's manifest and progress, by key (what a watching panel polls)."""
        from .history import get_run

        store, spec, _etag = await self._existing(owner, job_id)
        return await self.blocking(get_run, store.storage, spec, run_id)

    async def inputs(
        self, owner: str, job_id: str, run_id: str, roles: list[str] | None = None
    ) -> dict:
        """The objects the run read, each as it is now (changed, missing)."""
        from .history import run_manifest

        store, spec, _etag = await self._existing(owner, job_id)
        manifest = await self.blocking(run_manifest, store.storage, spec, run_id)
        return {"inputs": await self._check_inputs(spec, manifest, roles)}

    async def _check_inputs(self, spec: dict, manifest: dict, roles) -> list[dict]:
        from .history import check_inputs

        if self._user_storage is not None:
            storage = await self._user_storage(spec, roles)
        else:
            storage = await self._storage()
        return await self.blocking(check_inputs, storage, manifest)

    async def compare(self, owner: str, job_id: str, base: str, remote: str) -> dict:
        """nbdime's diff of run ``base`` against run ``remote`` or the job's notebook."""
        from .compare import compare

        store, spec, _etag = await self._existing(owner, job_id)
        return await self.blocking(compare, store.storage, spec, base, remote)

    async def _existing(self, owner: str, job_id: str) -> tuple[JobStore, dict, str]:
        check_id(job_id)
        store = await self.store()
        found = await self.blocking(store.get_with_etag, owner, job_id)
        if found is None:
            raise JobError(404, f"No job {job_id!r}")
        spec, etag = found
        return store, spec, etag

    # --- writing ---------------------------------------------------------------------------

    async def create(
        self, owner: str, body: dict, notebook: bytes | None, roles: list[str] | None = None
    ) -> dict:
        # No early check of the body's id: ``prepare`` refuses a bad one before it touches
        # storage, and lists it with every other problem of the spec.
        spec = await self.prepare(owner, body, None, None, notebook, roles)
        store = await self.store()
        if not await self.blocking(store.put, spec, create=True):
            raise JobError(
                409,
                f"a job {spec['id']!r} already exists; edit it or pick another id",
                field="id",
            )
        return await self.describe(spec, store, 10)

    async def update(
        self,
        owner: str,
        job_id: str,
        body: dict,
        notebook: bytes | None,
        roles: list[str] | None = None,
        if_match: str | None = None,
    ) -> tuple[dict, bool]:
        """Replace (or create) a job; ``(job, created)``."""
        check_id(job_id)
        store = await self.store()
        found = await self.blocking(store.get_with_etag, owner, job_id)
        existing = found[0] if found else None
        if if_match and existing is None:
            raise JobError(409, f"The job {job_id!r} was deleted meanwhile; schedule it again")
        spec = await self.prepare(owner, body, job_id, existing, notebook, roles)
        await self._put(store, spec, if_match, create=existing is None and not if_match)
        return await self.describe(spec, store, 10), existing is None

    async def set_paused(
        self, owner: str, job_id: str, paused: bool, if_match: str | None = None
    ) -> dict:
        store, spec, _etag = await self._existing(owner, job_id)
        spec = {k: v for k, v in spec.items() if k != "signature"}
        spec["paused"] = paused
        spec = self._sign(spec)
        await self._put(store, spec, if_match)
        return await self.describe(spec, store, 10)

    async def delete(self, owner: str, job_id: str) -> None:
        from .chain import dependents

        check_id(job_id)
        store = await self.store()
        specs = await self._owner_specs(store, owner)
        waiting = [s["id"] for s in dependents(specs, job_id)]
        if waiting and job_id in specs:
            names = ", ".join(repr(w) for w in waiting)
            raise JobError(
                409,
                f"{names} run{'s' if len(waiting) == 1 else ''} after {job_id!r}: remove "
                f"{job_id!r} from their 'after' first, or delete them",
            )
        if not await self.blocking(store.delete, owner, job_id):
            raise JobError(404, f"No job {job_id!r}")

    async def owner_specs(self, owner: str) -> dict[str, dict]:
        """The owner's jobs ``{id: spec}`` (for checking a draft's ``after``)."""
        return await self._owner_specs(await self.store(), owner)

    async def _owner_specs(self, store: JobStore, owner: str) -> dict[str, dict]:
        specs = await self.blocking(store.list, owner)
        return {s["id"]: s for s in specs if isinstance(s.get("id"), str)}

    async def _chain_errors(self, owner: str, spec: dict) -> list[SpecError]:
        """``after`` checked against the owner's other jobs (only read when it is set)."""
        from .chain import check_after, upstream_ids

        if not upstream_ids(spec):
            return []
        return check_after(spec, await self._owner_specs(await self.store(), owner))

    async def _put(self, store: JobStore, spec: dict, if_match: str | None, create=False):
        try:
            written = await self.blocking(store.put, spec, create=create, if_match=if_match)
        except StoreConflict:
            raise JobError(
                409,
                f"The job {spec['id']!r} was changed by someone else since you opened it; "
                "reload it and make your change again",
            ) from None
        if written is False:
            raise JobError(409, f"a job {spec['id']!r} already exists", field="id")

    def _sign(self, spec: dict) -> dict:
        return sign_spec(spec, self._signing_key) if self._signing_key else spec

    async def prepare(
        self,
        owner: str,
        body: dict,
        job_id: str | None,
        existing: dict | None,
        notebook: bytes | None,
        roles: list[str] | None,
    ) -> dict:
        """Turn a request body into a complete, valid (and signed) spec owned by ``owner``.

        ``roles``: the roles the owner may run as; ``None`` means this writer does not know
        them (a single-user server, whose user is the only one it runs for).
        """
        claimed = body.get("owner")
        if claimed is not None and claimed != owner:
            raise JobError(
                403, f"jobs are always owned by the signed-in user ({owner})", field="owner"
            )
        if job_id is not None and body.get("id", job_id) != job_id:
            raise JobError(400, "the body's id does not match the URL", field="id")
        spec = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
        spec = {"apiVersion": API_VERSION, "kind": "NotebookJob", **spec, "owner": owner}
        if job_id is not None:
            spec["id"] = job_id
        if not isinstance(spec.get("id"), str) or not is_job_id(spec["id"]):
            # Refused before any snapshot is taken, so the request's notebook (a source, not
            # yet a snapshot) is not judged; every other problem is listed with the id's.
            errors = [e for e in validate_spec(spec) if e.field.split(".")[0] != "notebook"]
            raise _invalid(errors or [SpecError("id", "is required")])
        spec.setdefault("output", {})
        if isinstance(spec["output"], dict):
            spec["output"].setdefault(
                "uri_template", default_output_template(self.locations.runs_uri)
            )
        spec["notebook"] = await self._notebook(spec.get("notebook"), notebook, existing)
        if roles is not None:
            spec["run_as"] = _checked_run_as(spec.get("run_as"), roles)
        errors = validate_spec(spec)
        errors += await self._chain_errors(owner, spec)
        if errors:
            raise _invalid(errors)
        spec = self._sign(spec)
        size = len(_stored_bytes(spec))
        if size > MAX_SPEC_BYTES:
            # Airflow parses every spec in one file: one huge spec would slow it for everyone.
            raise JobError(413, f"The job spec is {size} bytes; the limit is {MAX_SPEC_BYTES}")
        return spec

    async def _notebook(self, asked, content: bytes | None, existing: dict | None) -> dict:
        if content is not None:
            return await self.snapshot(asked if isinstance(asked, dict) else {}, content)
        if asked is None and existing is not None:
            return existing["notebook"]
        if isinstance(asked, dict) and "uri" in asked:
            # Only the snapshot the job already has: any other URI could name an object that
            # someone else put under the snapshots prefix.
            kept = existing["notebook"] if existing is not None else {}
            if kept and all(asked.get(k) == kept.get(k) for k in ("uri", "sha256")):
                return {**kept, "kernel": asked.get("kernel") or kept["kernel"]}
            raise JobError(
                400,
                "must be a snapshot taken by this server; "
                "send notebook.source (the notebook's path) to take one",
                field="notebook.uri",
            )
        raise JobError(
            400, "is required (the path or s3:// URI of the notebook)", field="notebook.source"
        )

    async def snapshot(self, asked: dict, content: bytes) -> dict:
        """Freeze ``content`` into a content-addressed snapshot this writer stores itself."""
        source = asked.get("source", "")
        try:
            kernel = asked.get("kernel") or notebook_kernel(content)
        except NotebookError as err:
            raise JobError(400, str(err), field="notebook.source") from None
        if not kernel:
            raise JobError(
                400, "the notebook has no kernel saved; pick one", field="notebook.kernel"
            )
        storage = await self._storage()
        uri, digest = await self.blocking(
            take_snapshot, storage, content, self.locations.snapshots_uri
        )
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        notebook = {"uri": uri, "sha256": digest, "kernel": kernel, "snapshot_time": now}
        if isinstance(source, str) and source:
            notebook["source_path"] = source
        return notebook


async def blocking(fn, *args, **kwargs):
    """Run blocking I/O (files, boto3) off the event loop; S3 failures become a 502 that says
    what S3 said (never the request, which is signed)."""
    import botocore.exceptions

    try:
        return await asyncio.get_running_loop().run_in_executor(None, partial(fn, *args, **kwargs))
    except botocore.exceptions.ClientError as err:
        error = err.response.get("Error", {})
        code = error.get("Code", "error")
        # Your keys may not do this (403) is not the same as S3 failing (502).
        status = 403 if code in ("AccessDenied", "AllAccessDisabled") else 502
        raise JobError(status, f"S3 refused: {code}: {error.get('Message', '')}") from None
    except botocore.exceptions.BotoCoreError as err:
        raise JobError(502, f"S3 is unreachable: {type(err).__name__}") from None


def parse_run_request(raw: bytes | None) -> dict | None:
    """The optional JSON body of ``POST …/jobs/<id>/run`` (``{"parameters"}``, ``{"rerun"}``,
    ``{"reproduce"}``; what it asks for is checked by :meth:`JobService.run_now`), or None."""
    raw = raw or b""
    if not raw.strip():
        return None
    if len(raw) > MAX_SPEC_BYTES:
        raise JobError(413, f"The run request is {len(raw)} bytes; the limit is {MAX_SPEC_BYTES}")
    try:
        body = parse_spec(raw)
    except SpecError as err:
        raise JobError(400, f"The run request is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise JobError(400, "The run request must be a JSON object")
    return body or None


def check_id(job_id: str) -> str:
    if not is_job_id(job_id):
        message = f"{job_id!r} is not a job id: use 1-63 lower-case letters, digits, '-' and '_'"
        raise JobError(400, message, [{"field": "id", "message": message}])
    return job_id


def _checked_run_as(asked, roles: list[str]) -> dict:
    """The run-as role: the one asked for if the owner may use it, else the owner's first."""
    if not roles:
        raise JobError(
            403,
            "you have no AWS role for scheduled jobs; ask an admin to map one "
            "of your groups to a role",
            field="run_as.role_arn",
        )
    role = (asked or {}).get("role_arn") if isinstance(asked, dict) else None
    if not role:
        return {"role_arn": roles[0]}
    if role not in roles:
        raise JobError(
            403, f"{role} is not one of your roles ({', '.join(roles)})", field="run_as.role_arn"
        )
    return {**asked, "role_arn": role}


def _invalid(errors: list[SpecError]) -> JobError:
    """Every problem of a spec, each on its field; the message lists the first few for logs
    and for clients that only read the message (never to be split again)."""
    structured = [{"field": e.field, "message": e.message} for e in errors[:20]]
    return JobError(400, "; ".join(str(e) for e in errors[:5]), structured)


def _stored_bytes(spec: dict) -> bytes:
    from .store import dumps

    return dumps(spec)
