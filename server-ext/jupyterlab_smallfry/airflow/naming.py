"""How a job maps to an Airflow dag_id; shared by the factory and the Jupyter server."""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

PREFIX = "smallfry"


def _slug(text: str, limit: int) -> str:
    slug = _UNSAFE.sub("_", text)[:limit]
    if slug != text:
        # Keep distinct names distinct after the unsafe characters are replaced.
        slug += "-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]
    return slug or "_"


def dag_id_for(owner: str, job_id: str) -> str:
    """``smallfry__<owner>__<job_id>``; Airflow allows ``[A-Za-z0-9_.-]``, at most 250 chars."""
    return f"{PREFIX}__{_slug(owner, 100)}__{_slug(job_id, 100)}"
