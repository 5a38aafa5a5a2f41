"""Where data is: ``s3://bucket/key`` URIs and local paths, and the format a name says.

pyarrow filesystems take ``bucket/key`` for S3 and an absolute path locally; users write
``s3://…``. Errors always quote the user's form.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from .errors import LakeError

#: File name endings -> format. ``.json`` is read whole (an array or records); JSON Lines
#: files are ``.jsonl``/``.ndjson``.
FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".parq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".xlsx": "excel",
    ".xlsm": "excel",
}
#: Compressions pyarrow's streams detect from the name (text formats only).
COMPRESSIONS = (".gz", ".bz2", ".zst", ".lz4")
#: Formats a folder can be read as, one dataset (pyarrow's dataset format names).
DATASET_FORMATS = {"parquet": "parquet", "csv": "csv", "tsv": "csv", "jsonl": "json"}

_S3 = re.compile(r"^s3a?://(?P<bucket>[^/]+)/?(?P<key>.*)$")


@dataclass(frozen=True)
class Location:
    """One place to read or write: ``uri`` as the user wrote it, ``path`` as pyarrow wants it."""

    uri: str
    path: str
    s3: bool

    @property
    def bucket(self) -> str:
        return self.path.partition("/")[0] if self.s3 else ""

    @property
    def key(self) -> str:
        return self.path.partition("/")[2] if self.s3 else self.path

    def arn(self) -> str:
        return f"arn:aws:s3:::{self.path}" if self.s3 else self.path

    def filesystem(self, access):
        """pyarrow's filesystem for this location (S3 with the kernel's keys, or local)."""
        if self.s3:
            return access.filesystem()
        from pyarrow import fs as pafs

        return pafs.LocalFileSystem()


def locate(uri) -> Location:
    """Parse ``s3://bucket/key`` (or a local path, ``file://`` or a ``Path``)."""
    text = os.fspath(uri)
    if not isinstance(text, str) or not text:
        raise LakeError(f"expected an s3:// URI or a path, got {uri!r}")
    match = _S3.match(text)
    if match:
        if not match["bucket"]:
            raise LakeError(f"{text!r} names no bucket: write s3://bucket/key")
        return Location(text, f"{match['bucket']}/{match['key']}".rstrip("/"), True)
    if "://" in text and not text.startswith("file://"):
        raise LakeError(f"{text!r}: only s3:// URIs and local paths are supported")
    local = os.path.abspath(os.path.expanduser(text.removeprefix("file://")))
    return Location(text, local, False)


def format_of(name: str) -> str | None:
    """The format a file name says (``data.csv.gz`` -> ``csv``), or None."""
    suffixes = [s.lower() for s in PurePosixPath(name).suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes.pop()
    return FORMATS.get(suffixes[-1]) if suffixes else None


def is_hidden(name: str) -> bool:
    """Files Hive, Spark and pyarrow skip in a dataset folder (``_SUCCESS``, ``.crc``…)."""
    return PurePosixPath(name).name.startswith(("_", "."))
