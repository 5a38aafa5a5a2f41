"""How a job maps to an Airflow dag_id, its owner to an Airflow role and to the DAG-folder file
(shard) that builds it; shared by the factory, the Hub service and the Jupyter server."""

from __future__ import annotations

import os
import re
import zlib

from ..safe_names import owner_slug

PREFIX = "smallfry"


def dag_id_for(owner: str, job_id: str) -> str:
    """``smallfry__<owner>__<job_id>``: Airflow allows ``[A-Za-z0-9_.-]``, at most 250 chars.

    Job ids are 1-63 of ``[a-z0-9_-]`` (the spec's rule) and the owner part never holds ``__``,
    so different (owner, job) pairs never share a dag_id.
    """
    return f"{PREFIX}__{owner_slug(owner)}__{job_id}"


def owner_role(owner: str) -> str:
    """The Airflow (FAB) role that may see and trigger ``owner``'s DAGs; FAB allows 64 chars."""
    return f"{PREFIX}-user-{owner_slug(owner, 64 - len(PREFIX) - 6)}"


# --- Shards: which DAG-folder file builds a job's DAG ---------------------------------------
#
# Airflow parses each DAG-folder file in its own process, in parallel, with a time limit per
# file (``dagbag_import_timeout``, 30 s by default); a file that fails or times out loses its
# DAGs and no other file's. So the specs are spread over several files by a hash of the
# owner's folder name: a shard's parse time is its owners' share of the total, all of one
# owner's jobs live in one file, and whatever breaks a shard (a factory bug one owner's data
# hits, too many specs) hides only the owners hashed beside them. The hash is CRC-32, not
# Python's salted ``hash()``, so every process (DAG processor, workers) agrees.

#: Shards a deployment gets unless it asks otherwise: 10,000 specs are ~310 a shard, 1-4 s to
#: parse on a busy 2-core machine (benchmarks/bench_factory.py), far from the 30 s limit;
#: each file costs a fixed ~0.3 s of imports a parse, so many more would waste the processor.
DEFAULT_SHARDS = 32
#: More files than this only adds DAG processor overhead.
MAX_SHARDS = 1024
SHARD_FILE_PREFIX = "smallfry_jobs"
_SHARD_FILE = re.compile(rf"{SHARD_FILE_PREFIX}_(\d+)_of_(\d+)\.py")


def shard_of(owner_folder: str, shards: int) -> int:
    """The shard (0 … shards-1) of the owner whose jobs folder is named ``owner_folder``
    (the store's :func:`~jupyterlab_smallfry.jobs.store.owner_key`)."""
    return zlib.crc32(owner_folder.encode("utf-8")) % shards


def check_shard(shard: int | None, shards: int | None) -> tuple[int, int]:
    """``(shard, shards)`` checked; ``None, None`` means one shard holding everything."""
    if shard is None and shards is None:
        return 0, 1
    if not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"shards must be a whole number from 1 to {MAX_SHARDS}, not {shards!r}")
    if not isinstance(shard, int) or not 0 <= shard < shards:
        raise ValueError(f"shard must be a whole number from 0 to {shards - 1}, not {shard!r}")
    return shard, shards


def shard_file_name(shard: int, shards: int) -> str:
    """``smallfry_jobs_03_of_16.py``: the DAG-folder file that builds shard 3 of 16."""
    check_shard(shard, shards)
    width = len(str(shards - 1))
    return f"{SHARD_FILE_PREFIX}_{shard:0{width}d}_of_{shards}.py"


def shard_from_file_name(path: str) -> tuple[int | None, int | None]:
    """The shard a DAG-folder file builds, from its name; ``(None, None)`` for any other name
    (the single-file layout: every spec)."""
    match = _SHARD_FILE.fullmatch(os.path.basename(path or ""))
    if not match:
        return None, None
    return int(match.group(1)), int(match.group(2))


def is_factory_file(name: str) -> bool:
    """A DAG-folder file this factory owns: ``smallfry_jobs.py`` or a shard file."""
    return name == f"{SHARD_FILE_PREFIX}.py" or _SHARD_FILE.fullmatch(name) is not None
