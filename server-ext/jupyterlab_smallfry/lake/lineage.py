"""Lineage of ``sf.read``/``sf.write``/``sf.sql``/``sf.table`` in a scheduled run.

These go through pyarrow's S3 filesystem (its own C++ client), which the runner's botocore
hooks (:mod:`..jobs.lineage_kernel`) never see. So when the runner asks for lineage
(``$SMALLFRY_LINEAGE_FILE`` set in the kernel), every filesystem the kernel library builds
(:meth:`~.session.AwsAccess.filesystem`, the one door all four use) is made a recording one
by :func:`recording`: pyarrow's own S3 filesystem behind a :class:`pyarrow.fs.PyFileSystem` whose
handler notes each object opened for reading and each object written, then appends a
lineage line with the object's ETag, version id and size from a HEAD with the kernel's own
keys. Data still flows through pyarrow's native streams; only opening (and closing a write)
passes through Python.

``bytes`` of a read is the object's size (pyarrow may read only some row groups of it).
Outside scheduled runs nothing changes. A lineage failure never fails the user's call.
"""

from __future__ import annotations

import functools
import logging
import os
import threading

from ..jobs.lineage_kernel import ENV, record

log = logging.getLogger(__name__)

#: HEADs one filesystem (one ``sf`` call) makes for lineage at most; beyond, objects are
#: recorded without ETag.
MAX_HEADS = 500


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def recording(fs, access):
    """``fs`` (pyarrow's S3 filesystem) wrapped so that objects read and written are recorded
    (``fs`` itself if that cannot be done: lineage never stops a read)."""
    try:
        return _filesystem_class()(_recorder_class()(fs, access))
    except Exception as err:  # noqa: BLE001
        log.debug("Small Fry lineage: not recording this filesystem: %s", err)
        return fs


@functools.cache
def _recorder_class():
    """:class:`_Recorder` as a real :class:`pyarrow.fs.FileSystemHandler` (pyarrow is
    imported only when a filesystem is first made)."""
    from pyarrow import fs as pafs

    return type("RecordingHandler", (_Recorder, pafs.FileSystemHandler), {})


@functools.cache
def _filesystem_class():
    """pyarrow's :class:`~pyarrow.fs.PyFileSystem` that gives the wrapped filesystem's type
    name to Python callers: fsspec's ``ArrowFSWrapper`` (``sf.sql`` hands it to DuckDB) takes
    its protocol and root from it, and must still say ``s3``, not ``py::…``."""
    from pyarrow import fs as pafs

    class RecordingFileSystem(pafs.PyFileSystem):
        @property
        def type_name(self):
            return self.handler.fs.type_name

    return RecordingFileSystem


def _split(path: str) -> tuple[str, str]:
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


class _Recorder:
    """A :class:`pyarrow.fs.FileSystemHandler` over pyarrow's S3 filesystem that records."""

    def __init__(self, fs, access):
        self.fs, self.access = fs, access
        self._seen: set[tuple[str, str]] = set()
        self._heads = 0
        self._lock = threading.Lock()

    def __eq__(self, other):
        return isinstance(other, _Recorder) and other.fs.equals(self.fs)

    def __ne__(self, other):
        return not self == other

    # ---- recording ----------------------------------------------------------------------

    def _note(self, op: str, path: str, size: int | None = None) -> None:
        if not enabled():
            return
        try:
            bucket, key = _split(path)
            with self._lock:
                if op == "read" and (op, path) in self._seen:
                    return
                self._seen.add((op, path))
                head = self._heads < MAX_HEADS
                self._heads += head
            etag = version = None
            if head:
                reply = self.access.client("s3").head_object(Bucket=bucket, Key=key)
                etag, version = reply.get("ETag"), reply.get("VersionId")
                size = reply.get("ContentLength") if size is None else size
            record(op, bucket, key, etag, version, size)
        except Exception as err:  # noqa: BLE001 - lineage must not fail the user's call
            log.debug("Small Fry lineage: %s %s not recorded: %s", op, path, err)

    # ---- the handler interface ------------------------------------------------------------

    def get_type_name(self):
        return self.fs.type_name

    def normalize_path(self, path):
        return self.fs.normalize_path(path)

    def get_file_info(self, paths):
        return self.fs.get_file_info(paths)

    def get_file_info_selector(self, selector):
        return self.fs.get_file_info(selector)

    def create_dir(self, path, recursive):
        self.fs.create_dir(path, recursive=recursive)

    def delete_dir(self, path):
        self.fs.delete_dir(path)

    def delete_dir_contents(self, path, missing_dir_ok=False):
        self.fs.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

    def delete_root_dir_contents(self):
        self.fs.delete_dir_contents("/", accept_root_dir=True)

    def delete_file(self, path):
        self.fs.delete_file(path)

    def move(self, src, dest):
        self.fs.move(src, dest)
        self._note("write", dest)

    def copy_file(self, src, dest):
        self._note("read", src)
        self.fs.copy_file(src, dest)
        self._note("write", dest)

    def open_input_stream(self, path):
        stream = self.fs.open_input_stream(path)
        self._note("read", path)
        return stream

    def open_input_file(self, path):
        handle = self.fs.open_input_file(path)
        self._note("read", path)
        return handle

    def open_output_stream(self, path, metadata):
        import pyarrow as pa

        stream = self.fs.open_output_stream(path, metadata=metadata)
        return pa.PythonFile(_Written(stream, lambda size: self._note("write", path, size)), "w")

    def open_append_stream(self, path, metadata):
        return self.fs.open_append_stream(path, metadata=metadata)


class _Written:
    """A write stream that counts its bytes and records the object once it is closed (only
    then does S3 have it, and its ETag)."""

    def __init__(self, stream, done):
        self.stream, self.done, self.size = stream, done, 0

    def write(self, data) -> int:
        written = self.stream.write(data)
        self.size += written
        return written

    def flush(self) -> None:
        self.stream.flush()

    def tell(self) -> int:
        return self.size

    @property
    def closed(self) -> bool:
        return self.stream.closed

    def close(self) -> None:
        if self.stream.closed:
            return
        self.stream.close()
        self.done(self.size)
