"""A job's run history as the Jobs panel pages through it, one run as it is watched, and the
inputs a run read as they are now.

Costs are the point of this module, because a job may have 100,000 runs and a run may be
polled every two seconds for an hour:

- a page lists run *folders* (S3's delimiter listing: one entry per run, 1,000 a request,
  whatever each run holds) or, for a status filter, the ``.index/<status>/`` markers the
  runner writes, orders them by the time in their run ids, and reads the ``run.json`` of the
  runs it returns and of no other;
- the cursor is the last folder name returned, so the next page needs no state kept here;
- one run is two GETs by key (``run.json``, ``progress.json``) and no LIST at all.

Everything here is blocking (boto3, files): callers run it in an executor.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from .service import JobError
from .store import (
    FINISHED_STATUSES,
    RUN_INDEX_FOLDER,
    Storage,
    job_runs_folder,
    run_order,
    safe_run_id,
)

#: Runs a page holds when the client does not say, and at most.
DEFAULT_PAGE = 20
MAX_PAGE = 100
#: Statuses a page may be filtered by: the indexed ones, and ``running`` (no marker yet).
STATUSES = (*FINISHED_STATUSES, "running")
#: ``running`` is "a folder without a marker": at most this many such folders are read per
#: page, newest first, so a job whose old runs predate the index costs a bounded page.
RUNNING_SCAN = 60
#: Largest run.json read (lineage of 200 objects and a traceback fit easily).
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
#: progress.json is written small (≤16 KiB); anything far larger is not ours to show.
MAX_PROGRESS_BYTES = 64 * 1024
#: Inputs checked per run: a run that read 10,000 objects is checked on its first 200.
MAX_INPUTS = 200
#: Parallel GETs/HEADs of one request (boto3 clients are thread-safe).
_PARALLEL = 8


def check_run_id(run_id: str) -> str:
    """The run's folder name for a run id from a URL (Airflow's raw ``manual__…+00:00`` or the
    folder name itself); 400 for anything that could name another folder."""
    if (
        not isinstance(run_id, str)
        or not run_id
        or len(run_id) > 250
        or run_id in (".", "..")
        or any(ch in run_id for ch in "/\\\0")
        or ".." in run_id
    ):
        raise JobError(400, f"{run_id!r} is not a run id", field="run_id")
    return safe_run_id(run_id)


def check_cursor(before: str) -> str:
    """A ``before`` cursor is a folder name this module returned; nothing else is accepted."""
    if not before or safe_run_id(before) != before or before.startswith("."):
        raise JobError(400, "must be the 'next' value of the previous page", field="before")
    return before


def page_query(arg) -> tuple[int | None, str | None, str | None]:
    """``(limit, status, before)`` of a runs page request, checked (400 on the field);
    ``arg(name)`` is the query argument, "" when absent. Both servers read requests so."""
    limit = arg("limit")
    if limit and not (limit.isdigit() and 1 <= int(limit) <= MAX_PAGE):
        raise JobError(400, f"must be a number from 1 to {MAX_PAGE}", field="limit")
    status = arg("status") or None
    if status is not None and status not in STATUSES:
        raise JobError(400, f"must be one of {', '.join(STATUSES)}", field="status")
    before = arg("before") or None
    if before is not None:
        check_cursor(before)
    return (int(limit) if limit else None), status, before


def compare_query(arg) -> tuple[str, str]:
    """``(base, remote)`` of a compare request, checked: two runs, or a run and
    ``notebook`` (the job's current snapshot)."""
    from .compare import CURRENT_NOTEBOOK

    base, remote = arg("base"), arg("remote")
    if not base:
        raise JobError(400, "is required: the run id to compare from", field="base")
    if not remote:
        raise JobError(400, "is required: a run id, or 'notebook'", field="remote")
    check_run_id(base)
    if remote != CURRENT_NOTEBOOK:
        check_run_id(remote)
    return base, remote


def runs_page(
    storage: Storage,
    spec: dict,
    limit: int = DEFAULT_PAGE,
    status: str | None = None,
    before: str | None = None,
) -> dict:
    """``{"runs": [manifest], "next": cursor|None}``: up to ``limit`` runs of ``spec``'s job,
    newest first (by the time in their run ids), older than the cursor ``before``."""
    folder = _runs_folder(spec)
    if status in FINISHED_STATUSES:
        names = _indexed(storage, folder, status)
    else:
        names = [n for n in storage.subfolders(folder) if not n.startswith(".")]
    names.sort(key=run_order, reverse=True)
    if before:
        edge = run_order(before)
        names = [n for n in names if run_order(n) < edge]
    if status == "running":
        return _running_page(storage, folder, names, limit)
    page = names[:limit]
    runs = [m for m in _read_manifests(storage, folder, page) if m is not None]
    return {"runs": runs, "next": page[-1] if len(names) > limit else None}


def _running_page(storage: Storage, folder: str, names: list[str], limit: int) -> dict:
    """Runs without a status marker whose run.json says queued or running.

    A folder without a marker is a run in flight, or one that predates the index or died
    before writing its final manifest: its run.json tells which, so at most
    :data:`RUNNING_SCAN` are read per page and the cursor goes on from the last one read."""
    finished = set()
    for status in FINISHED_STATUSES:
        finished.update(_indexed(storage, folder, status))
    candidates = [n for n in names if n not in finished]
    scanned = candidates[:RUNNING_SCAN]
    runs = []
    last = None
    for name, manifest in zip(scanned, _read_manifests(storage, folder, scanned)):
        last = name
        if manifest is not None and manifest.get("status") in ("queued", "running"):
            runs.append(manifest)
            if len(runs) >= limit:
                break
    more = last is not None and candidates.index(last) + 1 < len(candidates)
    return {"runs": runs, "next": last if more else None}


def _indexed(storage: Storage, folder: str, status: str) -> list[str]:
    """The run folder names with a ``status`` marker (one LIST per 1,000 runs; no run.json)."""
    prefix = f"{folder}{RUN_INDEX_FOLDER}/{status}/"
    names = []
    for uri, _mtime in storage.list(prefix):
        name = uri[len(prefix) :]
        if name and "/" not in name and not name.startswith("."):
            names.append(name)
    return names


def _read_manifests(storage: Storage, folder: str, names: list[str]) -> list[dict | None]:
    """The run.json of each named run (None where there is none or it is not a manifest), in
    order, a few GETs at a time."""
    if not names:
        return []
    with ThreadPoolExecutor(min(_PARALLEL, len(names))) as pool:
        return list(pool.map(lambda n: _manifest(storage, folder, n), names))


def _manifest(storage: Storage, folder: str, name: str) -> dict | None:
    data = storage.read(f"{folder}{name}/run.json", max_bytes=MAX_MANIFEST_BYTES)
    if data is None or len(data) > MAX_MANIFEST_BYTES:
        return None
    try:
        manifest = json.loads(data)
    except ValueError:
        return None
    if not isinstance(manifest, dict):
        return None
    # Where the output is, by the folder's own key: never a URI a manifest could have named.
    manifest["output_uri"] = f"{folder}{name}/output.ipynb"
    manifest["folder"] = name
    return manifest


def get_run(storage: Storage, spec: dict, run_id: str) -> dict:
    """``{"run": manifest, "progress": progress|None}`` of one run: two GETs by key, no LIST,
    so a panel may poll a running run as often as it likes."""
    folder = _runs_folder(spec)
    name = check_run_id(run_id)
    manifest = _manifest(storage, folder, name)
    if manifest is None:
        raise JobError(404, f"No run {run_id!r} of the job {spec['id']!r}")
    return {"run": manifest, "progress": _progress(storage, folder, name)}


def run_manifest(storage: Storage, spec: dict, run_id: str) -> dict:
    """One run's manifest (one GET), or 404."""
    manifest = _manifest(storage, _runs_folder(spec), check_run_id(run_id))
    if manifest is None:
        raise JobError(404, f"No run {run_id!r} of the job {spec['id']!r}")
    return manifest


def _progress(storage: Storage, folder: str, name: str) -> dict | None:
    data = storage.read(f"{folder}{name}/progress.json", max_bytes=MAX_PROGRESS_BYTES)
    if data is None or len(data) > MAX_PROGRESS_BYTES:
        return None
    try:
        progress = json.loads(data)
    except ValueError:
        return None  # caught mid-write on a local folder, or not ours: the next poll reads it
    return progress if isinstance(progress, dict) else None


def check_inputs(storage: Storage, manifest: dict) -> list[dict]:
    """Each object the run read (``lineage.reads``, the first :data:`MAX_INPUTS`) as it is now:
    ``{bucket, key, etag, etag_now, changed, missing}``, by one HEAD each with ``storage``'s
    keys (the user's, so nobody learns about objects they cannot read)."""
    lineage = manifest.get("lineage") if isinstance(manifest.get("lineage"), dict) else {}
    reads = lineage.get("reads") if isinstance(lineage.get("reads"), list) else []
    entries = [
        r
        for r in reads
        if isinstance(r, dict)
        and isinstance(r.get("bucket"), str)
        and isinstance(r.get("key"), str)
    ][:MAX_INPUTS]
    if not entries:
        return []
    with ThreadPoolExecutor(min(_PARALLEL, len(entries))) as pool:
        return list(pool.map(lambda r: _input_now(storage, r), entries))


def _input_now(storage: Storage, read: dict) -> dict:
    import botocore.exceptions

    etag = _bare_etag(read.get("etag"))
    out = {"bucket": read["bucket"], "key": read["key"], "etag": etag}
    try:
        head = storage.s3.head_object(Bucket=read["bucket"], Key=read["key"])
    except botocore.exceptions.ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
            return {**out, "etag_now": None, "changed": True, "missing": True}
        # 403 and the like: the user cannot tell, so neither can we; say so.
        return {**out, "etag_now": None, "changed": None, "missing": False, "error": code}
    now = _bare_etag(head.get("ETag"))
    return {**out, "etag_now": now, "changed": etag is not None and now != etag, "missing": False}


def _bare_etag(etag) -> str | None:
    return etag.strip('"') if isinstance(etag, str) and etag else None


def _runs_folder(spec: dict) -> str:
    template = (spec.get("output") or {}).get("uri_template")
    if not template:
        raise JobError(409, f"The job {spec.get('id')!r} has no output location")
    return job_runs_folder(template, spec["owner"], spec["id"])
