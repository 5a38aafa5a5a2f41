"""Where specs, snapshots and runs live: a local folder or an S3 prefix, behind one small API.

Everything here is blocking (files, boto3); the server calls it from an executor, the Airflow
task and the runner call it directly. Writes are atomic: a reader sees the old file or the new
one, never a part (local: write a temporary file beside the target and rename it; S3: a PUT is
atomic by nature).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Callable
from urllib.parse import quote, unquote

from .validation import check_output_template

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

    def read(self, uri: str) -> bytes | None:
        """The object's bytes, or None if there is none."""
        if is_s3(uri):
            bucket, key = split_s3(uri)
            try:
                return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except self.s3.exceptions.NoSuchKey:
                return None
        try:
            return Path(uri).read_bytes()
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
    ) -> bool:
        """Write atomically. With ``create_only``, return False (and write nothing) if it exists."""
        if is_s3(uri):
            bucket, key = split_s3(uri)
            extra = {"IfNoneMatch": "*"} if create_only else {}
            try:
                self.s3.put_object(
                    Bucket=bucket, Key=key, Body=data, ContentType=content_type, **extra
                )
            except self.s3.exceptions.ClientError as err:
                code = err.response.get("Error", {}).get("Code")
                if create_only and code in (
                    "PreconditionFailed",
                    "ConditionalRequestConflict",
                    "412",
                ):
                    return False
                raise
            return True
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


def dumps(doc: dict) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")


class JobStore:
    """Specs at ``<jobs_uri>/<owner>/<job_id>.json``."""

    def __init__(self, jobs_uri: str, storage: Storage):
        self.jobs_uri = jobs_uri
        self.storage = storage

    def uri(self, owner: str, job_id: str) -> str:
        return join(self.jobs_uri, owner_key(owner), f"{job_id}.json")

    def get(self, owner: str, job_id: str) -> dict | None:
        data = self.storage.read(self.uri(owner, job_id))
        return None if data is None else json.loads(data)

    def put(self, spec: dict, *, create: bool = False) -> bool:
        """Write the spec under its owner; with ``create``, False if the job already exists."""
        return self.storage.write(
            self.uri(spec["owner"], spec["id"]), dumps(spec), create_only=create
        )

    def delete(self, owner: str, job_id: str) -> bool:
        return self.storage.delete(self.uri(owner, job_id))

    def list(self, owner: str) -> list[dict]:
        folder = join(self.jobs_uri, owner_key(owner)) + "/"
        specs = []
        for uri, _mtime in sorted(self.storage.list(folder, ".json")):
            rest = uri[len(folder) :]
            if "/" in rest:
                continue
            data = self.storage.read(uri)
            if data is None:
                continue  # deleted between list and read
            try:
                specs.append(json.loads(data))
            except ValueError:
                continue
        return specs


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


def list_runs(
    storage: Storage, template: str, owner: str, job_id: str, limit: int = 10
) -> list[dict]:
    """The newest ``limit`` run manifests of one job, newest first."""
    folder = template.format(owner=owner_key(owner), job_id=job_id, run_id="\0").split("\0")[0]
    found = storage.list(folder, "/run.json" if is_s3(folder) else "run.json")
    found.sort(key=lambda item: item[1], reverse=True)
    runs = []
    for uri, _mtime in found[:limit]:
        data = storage.read(uri)
        if data is None:
            continue
        try:
            manifest = json.loads(data)
        except ValueError:
            continue
        manifest.setdefault("output_uri", uri[: -len("run.json")] + "output.ipynb")
        runs.append(manifest)
    # Queued runs (no start yet) first, then newest first.
    runs.sort(key=lambda m: m.get("start") or "~", reverse=True)
    return runs
