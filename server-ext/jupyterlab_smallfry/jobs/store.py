"""Where specs, snapshots and runs live: a local folder or an S3 prefix, behind one small API.

Everything here is blocking (files, boto3); the server calls it from an executor, the Airflow
task and the runner call it directly. Writes are atomic: a reader sees the old file or the new
one, never a part (local: write a temporary file beside the target and rename it; S3: a PUT is
atomic by nature).

Specs are read with :func:`~.validation.parse_spec` (bounded, strict JSON). Writers that must
not overwrite each other's changes use :meth:`JobStore.get_with_etag` and
``JobStore.put(..., if_match=etag)``: the write happens only if the stored spec is still the
one that was read, else :class:`StoreConflict` says what is there now.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote

from .validation import MAX_SPEC_BYTES, SpecError, check_output_template, parse_spec

#: Seam for tests and for callers with their own credentials: returns a boto3 S3 client.
S3ClientFactory = Callable[[], object]


def default_s3_client():
    """boto3's default chain (env, profile, IRSA, instance role); honours AWS_ENDPOINT_URL."""
    import boto3
    from botocore.config import Config

    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    style = "path" if endpoint else "auto"
    return boto3.client("s3", config=Config(s3={"addressing_style": style}))


def owner_key(owner: str) -> str:
    """The folder name for ``owner``: percent-encoded so no user name can climb out of it."""
    key = quote(owner, safe="@+")
    return "%2E" + key[1:] if key.startswith(".") else key


def owner_from_key(key: str) -> str:
    return unquote(key)


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def join(base: str, *parts: str) -> str:
    """Join a folder URI (``s3://b/p/`` or a local path) and relative parts with '/'."""
    out = base if base.endswith("/") else base + "/"
    return out + "/".join(p.strip("/") for p in parts)


class Storage:
    """Read, write, list and delete by URI, for local paths and ``s3://`` alike."""

    def __init__(self, s3_client_factory: S3ClientFactory | None = None):
        self._factory = s3_client_factory or default_s3_client
        self._client = None

    @property
    def s3(self):
        if self._client is None:
            self._client = self._factory()
        return self._client

    def read(self, uri: str, max_bytes: int | None = None) -> bytes | None:
        """The object's bytes, or None if there is none.

        With ``max_bytes``, at most ``max_bytes + 1`` bytes are read, so a caller can tell
        "too large" without holding a huge object in memory.
        """
        found = self.read_versioned(uri, max_bytes)
        return None if found is None else found[0]

    def read_versioned(self, uri: str, max_bytes: int | None = None) -> tuple[bytes, str] | None:
        """``(bytes, version)`` or None; the version is S3's ETag (local files: empty), what
        :meth:`write` takes as ``if_match``."""
        limit = -1 if max_bytes is None else max_bytes + 1
        if is_s3(uri):
            bucket, key = split_s3(uri)
            try:
                answer = self.s3.get_object(Bucket=bucket, Key=key)
            except self.s3.exceptions.NoSuchKey:
                return None
            body = answer["Body"]
            try:
                return body.read() if limit < 0 else body.read(limit), answer.get("ETag", "")
            finally:
                body.close()
        try:
            with open(uri, "rb") as fh:
                return fh.read(limit), ""
        except FileNotFoundError:
            return None

    def exists(self, uri: str) -> bool:
        if is_s3(uri):
            bucket, key = split_s3(uri)
            try:
                self.s3.head_object(Bucket=bucket, Key=key)
                return True
            except self.s3.exceptions.ClientError as err:
                if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
        return Path(uri).is_file()

    def write(
        self,
        uri: str,
        data: bytes,
        *,
        create_only: bool = False,
        content_type: str = "application/json",
        if_match: str | None = None,
    ) -> bool:
        """Write atomically. With ``create_only``, return False (and write nothing) if it exists.

        ``if_match`` (S3 only) is the object's S3 ETag from :meth:`read_versioned`: S3 then
        writes only if the object is still that version, else False. Local files have no
        such check; :class:`JobStore` serializes them with a lock file instead.
        """
        if is_s3(uri):
            bucket, key = split_s3(uri)
            extra = {"IfNoneMatch": "*"} if create_only else {}
            if if_match is not None:
                extra["IfMatch"] = if_match
            try:
                self.s3.put_object(
                    Bucket=bucket, Key=key, Body=data, ContentType=content_type, **extra
                )
            except self.s3.exceptions.ClientError as err:
                code = err.response.get("Error", {}).get("Code")
                conditional = create_only or if_match is not None
                if conditional and code in _S3_PRECONDITION_CODES:
                    return False
                if if_match is not None and code in ("NoSuchKey", "404"):
                    return False  # deleted since it was read
                raise
            return True
        if if_match is not None:
            raise ValueError("if_match is for S3 objects; lock local files instead")
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            if create_only:
                try:
                    os.link(tmp, path)  # fails if the target exists: an atomic create
                except FileExistsError:
                    return False
            else:
                os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return True

    def delete(self, uri: str) -> bool:
        if is_s3(uri):
            if not self.exists(uri):
                return False
            bucket, key = split_s3(uri)
            self.s3.delete_object(Bucket=bucket, Key=key)
            return True
        try:
            Path(uri).unlink()
            return True
        except FileNotFoundError:
            return False

    def list(self, prefix: str, suffix: str = "") -> list[tuple[str, float]]:
        """``(uri, modified timestamp)`` of every object under the folder ``prefix``, recursively."""
        out: list[tuple[str, float]] = []
        if is_s3(prefix):
            bucket, key = split_s3(prefix)
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
            for page in pages:
                for obj in page.get("Contents", []):
                    if obj["Key"].endswith(suffix):
                        out.append((f"s3://{bucket}/{obj['Key']}", obj["LastModified"].timestamp()))
            return out
        root = Path(prefix)
        if not root.is_dir():
            return out
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                if name.endswith(suffix) and not name.startswith("."):
                    full = os.path.join(dirpath, name)
                    try:
                        out.append((full, os.stat(full).st_mtime))
                    except FileNotFoundError:
                        continue
        return out

    def subfolders(self, prefix: str) -> list[str]:
        """The names ``n`` of the folders ``<prefix><n>/`` directly under ``prefix`` (which
        may end in part of a name); one entry per folder, never its contents."""
        if is_s3(prefix):
            bucket, key = split_s3(prefix)
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=key, Delimiter="/"
            )
            return [
                common["Prefix"][len(key) : -1]
                for page in pages
                for common in page.get("CommonPrefixes", [])
            ]
        parent, _, start = prefix.rpartition("/")
        try:
            entries = list(os.scandir(parent or "/"))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [
            e.name[len(start) :]
            for e in entries
            if e.name.startswith(start) and e.is_dir() and not e.name.startswith(".")
        ]


#: What S3 answers when a conditional write finds another version (or a write in flight).
_S3_PRECONDITION_CODES = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


def dumps(doc: dict) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")


def spec_etag(data: bytes) -> str:
    """The entity tag of a stored spec: its bytes' SHA-256, quoted as HTTP wants it.

    Ours rather than S3's ETag, so it is the same for a local folder and S3 (and for S3
    multipart or SSE-KMS objects, whose ETag is not a content hash)."""
    return '"' + hashlib.sha256(data).hexdigest() + '"'


class StoreConflict(Exception):
    """A conditional write found another version: ``etag`` is the current one (None: the
    spec is gone). Answer HTTP 412 and let the writer reload."""

    def __init__(self, uri: str, etag: str | None):
        self.uri = uri
        self.etag = etag
        what = "was deleted" if etag is None else "was changed by someone else"
        super().__init__(f"the job spec {uri} {what} since it was read; reload it and retry")


class JobStore:
    """Specs at ``<jobs_uri>/<owner>/<job_id>.json``."""

    def __init__(self, jobs_uri: str, storage: Storage):
        self.jobs_uri = jobs_uri
        self.storage = storage

    def uri(self, owner: str, job_id: str) -> str:
        return join(self.jobs_uri, owner_key(owner), f"{job_id}.json")

    def get(self, owner: str, job_id: str) -> dict | None:
        """The spec, None if there is none, or :class:`SpecError` if the stored file is not a
        readable spec (too large, not strict JSON, not an object)."""
        found = self.get_with_etag(owner, job_id)
        return None if found is None else found[0]

    def get_with_etag(self, owner: str, job_id: str) -> tuple[dict, str] | None:
        """``(spec, etag)`` for a conditional :meth:`put` later, or None if there is none."""
        uri = self.uri(owner, job_id)
        data = self.storage.read(uri, max_bytes=MAX_SPEC_BYTES)
        if data is None:
            return None
        return _parse_stored(uri, data), spec_etag(data)

    def put(self, spec: dict, *, create: bool = False, if_match: str | None = None) -> bool:
        """Write the spec under its owner; with ``create``, False if the job already exists.

        With ``if_match`` (an etag from :meth:`get_with_etag`) the write happens only if the
        stored spec still has that etag, else :class:`StoreConflict` (also when it is gone).
        Local folders: a per-job lock file (under ``<jobs>/.locks/``) around read, compare
        and replace, which every write of a spec takes. S3: read the object, compare, then PUT with S3's ``If-Match``
        on the version read, so a writer in between makes S3 refuse (412).
        """
        if create and if_match is not None:
            raise ValueError("create and if_match exclude each other")
        uri = self.uri(spec["owner"], spec["id"])
        data = dumps(spec)
        if is_s3(uri):
            if if_match is None:
                return self.storage.write(uri, data, create_only=create)
            found = self.storage.read_versioned(uri)
            current = None if found is None else spec_etag(found[0])
            if current != if_match:
                raise StoreConflict(uri, current)
            if not self.storage.write(uri, data, if_match=found[1]):
                now = self.storage.read(uri)
                raise StoreConflict(uri, None if now is None else spec_etag(now))
            return True
        with _locked(self.jobs_uri, spec["owner"], spec["id"]):
            if if_match is not None:
                now = self.storage.read(uri)
                current = None if now is None else spec_etag(now)
                if current != if_match:
                    raise StoreConflict(uri, current)
            return self.storage.write(uri, data, create_only=create)

    def delete(self, owner: str, job_id: str) -> bool:
        return self.storage.delete(self.uri(owner, job_id))

    def list(self, owner: str) -> list[dict]:
        folder = join(self.jobs_uri, owner_key(owner)) + "/"
        specs = []
        for uri, _mtime in sorted(self.storage.list(folder, ".json")):
            rest = uri[len(folder) :]
            if "/" in rest:
                continue
            data = self.storage.read(uri, max_bytes=MAX_SPEC_BYTES)
            if data is None:
                continue  # deleted between list and read
            try:
                specs.append(_parse_stored(uri, data))
            except SpecError:
                continue  # one unreadable file must not hide the owner's other jobs
        return specs


def _parse_stored(uri: str, data: bytes) -> dict:
    try:
        spec = parse_spec(data)
    except SpecError as err:
        raise SpecError("", f"the stored job spec {uri} cannot be read: {err.message}") from None
    if not isinstance(spec, dict):
        raise SpecError("", f"the stored job spec {uri} is not a JSON object")
    return spec


#: Folder under a local jobs folder that holds the writers' lock files.
LOCKS_FOLDER = ".locks"


@contextlib.contextmanager
def _locked(jobs_uri: str, owner: str, job_id: str):
    """An exclusive lock for writers of one local spec: ``<jobs>/.locks/<owner>/<id>.lock``.

    Lock files stay (removing one would let two writers lock different files), outside the
    owner's folder so listings and the DAG factory (which reads ``<jobs>/*/*.json``) never
    see them."""
    path = Path(join(jobs_uri, LOCKS_FOLDER, owner_key(owner), f"{job_id}.lock"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


_UNSAFE_RUN_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def safe_run_id(run_id: str) -> str:
    """A run id usable as one path segment: Airflow's ``manual__2026-11-24T06:00:00+00:00``
    becomes ``manual__2026-11-24T06-00-00-00-00``."""
    safe = _UNSAFE_RUN_CHARS.sub("-", run_id).strip("-.")
    return safe[:200] or "run"


def default_output_template(runs_uri: str) -> str:
    return join(runs_uri, "{owner}/{job_id}/{run_id}") + "/"


def output_folder(template: str, owner: str, job_id: str, run_id: str) -> str:
    """The folder one run writes ``output.ipynb`` and ``run.json`` into."""
    check_output_template(template)
    return template.format(owner=owner_key(owner), job_id=job_id, run_id=safe_run_id(run_id))


#: The time in a run id as :func:`safe_run_id` leaves it: Airflow's ``scheduled__`` /
#: ``manual__`` / ``asset_triggered__<UTC time>`` and this server's ``smallfry__<UTC time>__x``.
_RUN_TIME = re.compile(r"__(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)")


def run_order(run_folder: str) -> tuple:
    """Sort key of a run folder's name, newest last: by the UTC time its run id carries, then
    by name; an id with no time (a custom Airflow run id) sorts before every timed one."""
    found = _RUN_TIME.search(run_folder)
    return (1, found.group(1), run_folder) if found else (0, "", run_folder)


#: Under a job's runs folder: ``.index/<status>/<run folder name>``, one empty object per
#: finished run, so the runs of one status are listed without reading any run.json. A run
#: folder name never starts with ``.`` (:func:`safe_run_id` strips it), so this folder is
#: never taken for a run.
RUN_INDEX_FOLDER = ".index"
#: The statuses a finished run is indexed under.
FINISHED_STATUSES = ("success", "failed")


def job_runs_folder(template: str, owner: str, job_id: str) -> str:
    """The folder that holds one job's run folders (the template up to ``{run_id}``)."""
    return template.format(owner=owner_key(owner), job_id=job_id, run_id="\0").split("\0")[0]


def run_index_uri(template: str, owner: str, job_id: str, status: str, run_id: str) -> str:
    """Where the index marker of a finished run of ``status`` is."""
    if status not in FINISHED_STATUSES:
        raise ValueError(f"only finished runs are indexed, not {status!r}")
    folder = job_runs_folder(template, owner, job_id)
    return f"{folder}{RUN_INDEX_FOLDER}/{status}/{safe_run_id(run_id)}"


def record_run_status(storage: Storage, spec: dict, run_id: str, status: str) -> None:
    """Index a finished run under its status (after its final run.json is written)."""
    uri = run_index_uri(spec["output"]["uri_template"], spec["owner"], spec["id"], status, run_id)
    storage.write(uri, b"", content_type="application/octet-stream")


def list_runs(
    storage: Storage, template: str, owner: str, job_id: str, limit: int = 10
) -> list[dict]:
    """The newest ``limit`` run manifests of one job, newest first.

    Lists the job's run folders only (one entry per run, S3's delimiter listing: 1,000 runs
    a request, whatever each run holds), orders them by the time in their run ids, and reads
    the ``run.json`` of the newest ``limit`` alone, so a job's 10,000th run costs no more to
    show than its 10th. (Ordering by the objects' modification times would mean listing
    every object, and S3 keeps those to the second.)
    """
    folder = job_runs_folder(template, owner, job_id)
    names = sorted(
        (n for n in storage.subfolders(folder) if not n.startswith(".")),  # not .index/
        key=run_order,
        reverse=True,
    )
    runs = []
    for name in names:
        if len(runs) >= limit:
            break
        uri = f"{folder}{name}/run.json"
        data = storage.read(uri)
        if data is None:
            continue  # a run folder without its manifest yet (or any more)
        try:
            manifest = json.loads(data)
        except ValueError:
            continue
        if not isinstance(manifest, dict):
            continue
        manifest.setdefault("output_uri", uri[: -len("run.json")] + "output.ipynb")
        runs.append(manifest)
    # Queued runs (no start yet) first, then newest first.
    runs.sort(key=lambda m: m.get("start") or "~", reverse=True)
    return runs
