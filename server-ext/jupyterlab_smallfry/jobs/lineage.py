"""Lineage, the runner's side: which S3 objects a run read and wrote, for run.json.

The kernel records (botocore hooks from :mod:`.lineage_kernel`, ``sf.read``/``sf.write``/
``sf.sql``/``sf.table`` from :mod:`..lake.lineage`) by appending JSON lines to a file named
by ``$SMALLFRY_LINEAGE_FILE``. The runner

1. makes that file before the kernel starts (:class:`LineageFile`): in a fresh folder only the
   runner can change, owned by the kernel's account when the kernel runs as its owner, so
   the notebook can append to it but never swap it for a link to a file of the runner's;
2. gives the kernel the variable (``kernel_env``) and the hooks (:func:`kernel_setup`,
   Python kernels only);
3. reads it at the end (:meth:`LineageFile.collect`) as the untrusted data it is: at most
   :data:`MAX_FILE_BYTES`, opened without following links, each field's type and size
   checked; repeats merged (bytes summed), at most :data:`MAX_ENTRIES` objects, the rest
   dropped with ``truncated: true``.

run.json then holds ``"lineage": {"reads": [L], "writes": [L], "truncated": bool}`` with L =
``{"bucket", "key", "etag", "version_id", "bytes"}``, or ``null`` when nothing could be
recorded (a kernel that is not Python). Only the run's owner sees run.json.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

from .lineage_kernel import ENV

log = logging.getLogger(__name__)

#: Objects kept in run.json (reads and writes together).
MAX_ENTRIES = 1000
#: The most of the kernel's file that is read.
MAX_FILE_BYTES = 4 * 1024 * 1024
#: S3's own limits on names: bucket 63 characters, key 1,024 bytes.
_MAX_BUCKET, _MAX_KEY, _MAX_TAG = 63, 1024, 1024

#: What runs in a Python kernel before the first cell: the hooks, in a module of their own,
#: leaving nothing in the user's namespace.
_SETUP = """\
def _smallfry_lineage_setup(source):
    import sys, types
    module = types.ModuleType("_smallfry_lineage")
    exec(compile(source, "<smallfry lineage>", "exec"), module.__dict__)
    sys.modules["_smallfry_lineage"] = module
    module.install()
_smallfry_lineage_setup({source!r})
del _smallfry_lineage_setup
"""


def kernel_setup(language: str) -> str | None:
    """The code that installs the hooks in a kernel of ``language``; None if not Python."""
    if language != "python":
        return None
    source = Path(__file__).with_name("lineage_kernel.py").read_text(encoding="utf-8")
    return _SETUP.format(source=source)


class LineageFile:
    """The file one run's kernel appends lineage lines to."""

    def __init__(self):
        # 0711: the kernel's account may pass through to its file, not list or add files.
        self.folder = Path(tempfile.mkdtemp(prefix="smallfry-lineage-"))
        os.chmod(self.folder, 0o711)
        self.path = self.folder / "lineage.jsonl"
        self.uid = os.geteuid()

    def env(self) -> dict:
        return {ENV: str(self.path)}

    def create(self, uid: int | None = None, gid: int | None = None) -> None:
        """Make the (empty) file, owned by ``uid``/``gid`` when the kernel runs as them."""
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            if uid is not None:
                os.fchown(fd, uid, gid if gid is not None else -1)
                self.uid = uid
        finally:
            os.close(fd)

    def collect(self) -> dict:
        """The run's lineage (see the module's docstring); never raises."""
        try:
            data = self._read()
        except OSError as err:
            log.warning("Small Fry: the lineage file could not be read: %s", err)
            return {"reads": [], "writes": [], "truncated": True}
        return summarise(data, cut=len(data) >= MAX_FILE_BYTES)

    def _read(self) -> bytes:
        fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            info = os.fstat(fd)
            # The kernel's own regular file, nothing it linked in (a hard link to another
            # account's file has that account's uid).
            if not stat.S_ISREG(info.st_mode) or info.st_uid != self.uid:
                raise OSError("the lineage file is not the one the runner made")
            chunks, left = [], MAX_FILE_BYTES
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _text(value, limit: int, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value.encode("utf-8")) > limit:
        raise ValueError("bad text")
    if any(ord(c) < 32 for c in value):
        raise ValueError("control characters")
    return value


def _entry(line: bytes) -> tuple[str, dict] | None:
    """One checked line, or None: ``("reads"|"writes", L)``."""
    try:
        doc = json.loads(line)
        if not isinstance(doc, dict) or doc.get("op") not in ("read", "write"):
            return None
        size = doc.get("bytes")
        if size is not None and (type(size) is not int or not 0 <= size < 2**63):
            return None
        entry = {
            "bucket": _text(doc.get("bucket"), _MAX_BUCKET, required=True),
            "key": _text(doc.get("key"), _MAX_KEY, required=True),
            "etag": _text(doc.get("etag"), _MAX_TAG, required=False),
            "version_id": _text(doc.get("version_id"), _MAX_TAG, required=False),
            "bytes": size,
        }
    except (ValueError, TypeError, RecursionError):
        return None
    if entry["etag"]:
        entry["etag"] = entry["etag"].strip('"')
    return ("reads" if doc["op"] == "read" else "writes"), entry


def summarise(data: bytes, *, cut: bool = False) -> dict:
    """Merge the kernel's lines: one entry per (bucket, key, etag, version id), bytes summed;
    at most :data:`MAX_ENTRIES`, in the order first seen; ``truncated`` when any was dropped
    (``cut``: the file was longer than what was read)."""
    merged: dict[tuple, dict] = {}
    kinds: dict[tuple, str] = {}
    truncated = cut
    lines = data.split(b"\n")
    if cut and lines:
        lines = lines[:-1]  # the last line may be cut in the middle
    for line in lines:
        if not line.strip():
            continue
        found = _entry(line)
        if found is None:
            continue
        kind, entry = found
        key = (kind, entry["bucket"], entry["key"], entry["etag"], entry["version_id"])
        if key in merged:
            old = merged[key]
            if entry["bytes"] is not None:
                old["bytes"] = (old["bytes"] or 0) + entry["bytes"]
            continue
        if len(merged) >= MAX_ENTRIES:
            truncated = True
            continue
        merged[key] = entry
        kinds[key] = kind
    # An entry that knows neither ETag nor version (a copy's source) says nothing more than
    # one of the same object that does.
    known = {(k[0], k[1], k[2]) for k in merged if k[3] or k[4]}
    out = {"reads": [], "writes": [], "truncated": truncated}
    for key, entry in merged.items():
        if not (key[3] or key[4]) and (key[0], key[1], key[2]) in known:
            continue
        out[kinds[key]].append(entry)
    return out


@contextlib.contextmanager
def lineage_file():
    """A :class:`LineageFile` for one run, removed afterwards."""
    handle = LineageFile()
    try:
        yield handle
    finally:
        handle.remove()
