"""Content-addressed notebook snapshots: what a scheduled job runs, frozen at scheduling time.

The key is the sha256 of the notebook's bytes, so a later edit of the notebook never changes a
scheduled job until the user schedules again, and scheduling the same notebook twice stores it
once.
"""

from __future__ import annotations

import hashlib
import json

from .store import Storage, is_s3, join, split_s3


class NotebookError(ValueError):
    """The bytes are not a notebook we can schedule."""


def snapshots_uri_for(runs_uri: str) -> str:
    """Snapshots live beside the runs folder: ``s3://b/runs/`` -> ``s3://b/snapshots/``."""
    base = runs_uri.rstrip("/")
    if is_s3(base):
        bucket, key = split_s3(base)
        parent = key.rsplit("/", 1)[0] if "/" in key else ""
        return f"s3://{bucket}/" + (parent + "/" if parent else "") + "snapshots/"
    parent = base.rsplit("/", 1)[0] or "/"
    return join(parent, "snapshots") + "/"


def notebook_kernel(data: bytes) -> str | None:
    """The kernelspec name saved in the notebook, or None; raises NotebookError if not a notebook."""
    try:
        nb = json.loads(data)
    except ValueError:
        raise NotebookError("the file is not a notebook (not JSON)") from None
    if not isinstance(nb, dict) or "cells" not in nb:
        raise NotebookError("the file is not a notebook (no cells)")
    spec = (nb.get("metadata") or {}).get("kernelspec") or {}
    return spec.get("name") or None


def take_snapshot(storage: Storage, data: bytes, snapshots_uri: str) -> tuple[str, str]:
    """Store ``data`` at ``<snapshots_uri>/<sha256>.ipynb`` (once) and return ``(uri, sha256)``."""
    notebook_kernel(data)
    digest = hashlib.sha256(data).hexdigest()
    uri = join(snapshots_uri, f"{digest}.ipynb")
    # create_only: an existing snapshot already has exactly these bytes.
    storage.write(uri, data, create_only=True, content_type="application/x-ipynb+json")
    return uri, digest
