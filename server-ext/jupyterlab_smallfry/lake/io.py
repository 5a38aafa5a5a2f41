"""``read`` and ``write``: a DataFrame from or to an ``s3://`` object or folder, by extension.

Parquet goes through pyarrow datasets, so a folder of parts (with ``key=value/`` partitions)
reads as one table and ``columns=``/``filters=`` read only the columns and row groups needed.
Single CSV/TSV, JSON Lines and Excel objects go through the engine's own reader (pandas or
polars), so its keywords work as usual (``sep=``, ``dtype=``, ``sheet_name=``…).
"""

from __future__ import annotations

import io as _io
import re

from . import frames
from .errors import BrokenFile, LakeError, NotFound
from .locations import DATASET_FORMATS, Location, format_of, is_hidden, locate
from .session import AwsAccess, aws

#: The S3 operation pyarrow names in its errors -> the IAM action that allows it.
_ACTIONS = {
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject",
}
_OPERATION = re.compile(r"during (\w+) operation")


def s3_error(err: BaseException, where: Location, access: AwsAccess, writing: bool = False):
    """Turn a pyarrow error into ours: access denied (with the action), not found, broken file.

    Returns the exception to raise, or ``err`` itself when there is nothing clearer to say.
    """
    text = str(err)
    if where.s3 and ("ACCESS_DENIED" in text or "AccessDenied" in text):
        match = _OPERATION.search(text)
        action = _ACTIONS.get(
            match[1] if match else "", "s3:PutObject" if writing else "s3:GetObject"
        )
        resource = f"arn:aws:s3:::{where.bucket}" if action == "s3:ListBucket" else where.arn()
        return access.denied(action, resource)
    if isinstance(err, FileNotFoundError) or "NO_SUCH_BUCKET" in text or "NoSuchBucket" in text:
        return NotFound(f"{where.uri}: no such object or folder")
    import pyarrow as pa

    if isinstance(err, (pa.ArrowInvalid, pa.ArrowNotImplementedError)):
        return BrokenFile(f"{where.uri} could not be read: {text}")
    return err


def read(
    uri, *, format: str | None = None, engine: str = "pandas", columns=None, filters=None, **kw
):
    """Read an ``s3://`` object or folder (or a local path) into a DataFrame.

    The format comes from the name: ``.parquet``, ``.csv``/``.tsv`` (also ``.gz``),
    ``.jsonl``/``.ndjson`` (JSON Lines), ``.json``, ``.xlsx``; pass ``format=`` to override.
    A folder (``s3://bucket/sales/``) is read as one dataset of Parquet, CSV or JSON Lines
    parts, ``key=value/`` sub-folders becoming columns; parts whose names start with ``_`` or
    ``.`` are skipped, as Hive and Spark do.

    ``engine="polars"`` returns a polars DataFrame (needs ``pip install polars``).
    ``columns=[…]`` and ``filters=`` (a pyarrow expression, or ``[("year", "=", 2025)]``)
    apply to Parquet and folders, reading only the row groups and partitions they need.
    Other keywords go to the engine's reader (``pandas.read_csv``, ``pandas.read_excel``…).

    Raises :class:`~.errors.NotFound`, :class:`~.errors.AccessDenied` (naming you and the
    S3 action), :class:`~.errors.BrokenFile`, :class:`~.errors.MissingPackage`.
    """
    frames.check_engine(engine)
    frames.need("pyarrow", "smallfry.read", "pyarrow>=18")
    where = locate(uri)
    access = aws()
    fs = where.filesystem(access)
    try:
        return _read(fs, where, format, engine, columns, filters, kw)
    except LakeError:
        raise
    except Exception as err:  # I/O errors, and pyarrow's parse errors (BrokenFile)
        mapped = s3_error(err, where, access)
        if mapped is err:
            raise
        raise mapped from None


def _read(fs, where: Location, fmt, engine, columns, filters, kw):
    from pyarrow import fs as pafs

    info = fs.get_file_info(where.path)
    if info.type == pafs.FileType.NotFound:
        raise NotFound(f"{where.uri}: no such object or folder")
    folder = info.type == pafs.FileType.Directory
    fmt = fmt or (_folder_format(fs, where) if folder else format_of(where.path))
    if fmt is None:
        raise LakeError(
            f"{where.uri}: cannot tell the format from the name; pass format='parquet', 'csv', "
            "'tsv', 'jsonl', 'json' or 'excel'"
        )
    if fmt == "parquet" or folder:
        if kw:
            raise LakeError(
                f"{', '.join(kw)}: reader keywords apply to single CSV, JSON and Excel objects; "
                "Parquet and folders take columns= and filters="
            )
        return frames.from_arrow(
            _dataset(fs, where, fmt).to_table(columns=columns, filter=_filter(filters)), engine
        )
    if columns is not None or filters is not None:
        raise LakeError(
            "columns= and filters= apply to Parquet and folders; use the reader's own keywords (usecols=…)"
        )
    if fmt == "excel":
        frames.need("openpyxl", "Reading Excel files", "openpyxl")
        with fs.open_input_file(where.path) as handle:
            data = _io.BytesIO(handle.read())
        import pandas as pd

        frame = pd.read_excel(data, engine="openpyxl", **kw)
        return (
            frame
            if engine == "pandas"
            else frames.need("polars", "engine='polars'").from_pandas(frame)
        )
    with fs.open_input_stream(where.path, compression="detect") as handle:
        data = handle.read()
    return _parse_text(data, fmt, engine, kw)


def _parse_text(data: bytes, fmt: str, engine: str, kw: dict):
    if engine == "polars":
        pl = frames.need("polars", "engine='polars'")
        if fmt in ("csv", "tsv"):
            return pl.read_csv(data, **({"separator": "\t"} if fmt == "tsv" else {}), **kw)
        if fmt == "jsonl":
            return pl.read_ndjson(data, **kw)
        return pl.read_json(data, **kw)
    import pandas as pd

    buffer = _io.BytesIO(data)
    if fmt in ("csv", "tsv"):
        return pd.read_csv(buffer, **({"sep": "\t"} if fmt == "tsv" else {}), **kw)
    return pd.read_json(buffer, **({"lines": True} if fmt == "jsonl" else {}), **kw)


def _folder_format(fs, where: Location) -> str:
    """A folder's format: the first data file's (pyarrow's listing is paged, stop early)."""
    from pyarrow import fs as pafs

    for entry in fs.get_file_info(pafs.FileSelector(where.path, recursive=True)):
        if entry.type == pafs.FileType.File and not is_hidden(entry.path):
            found = format_of(entry.path)
            if found in DATASET_FORMATS:
                return found
    raise NotFound(f"{where.uri}: no Parquet, CSV or JSON Lines files in this folder")


def _dataset(fs, where: Location, fmt: str):
    import pyarrow.csv as pacsv
    import pyarrow.dataset as ds

    if fmt not in DATASET_FORMATS:
        raise LakeError(f"{where.uri}: a folder of {fmt} files cannot be read as one table")
    file_format = DATASET_FORMATS[fmt]
    if fmt == "tsv":
        file_format = ds.CsvFileFormat(parse_options=pacsv.ParseOptions(delimiter="\t"))
    return ds.dataset(where.path, filesystem=fs, format=file_format, partitioning="hive")


def _filter(filters):
    if filters is None or not isinstance(filters, list):
        return filters
    import pyarrow.parquet as pq

    return pq.filters_to_expression(filters)


def write(df, uri, *, format: str | None = None, partition_cols=None, **kw) -> str:
    """Write a pandas or polars DataFrame to an ``s3://`` object (or a local path).

    The format comes from the name (as for :func:`read`; ``.gz`` compresses CSV and JSON
    Lines). ``partition_cols=["year"]`` writes Parquet into a folder of ``year=…/`` parts.
    Other keywords go to the writer (``pyarrow.parquet.write_table``, ``DataFrame.to_csv``,
    ``to_json``, ``to_excel``). Returns the URI written. An existing object is replaced.
    """
    frames.need("pyarrow", "smallfry.write", "pyarrow>=18")
    where = locate(uri)
    fmt = format or ("parquet" if partition_cols else format_of(where.path))
    if fmt is None:
        raise LakeError(
            f"{where.uri}: cannot tell the format from the name; pass format='parquet', …"
        )
    access = aws()
    fs = where.filesystem(access)
    try:
        _write(fs, where, fmt, df, partition_cols, kw)
    except LakeError:
        raise
    except OSError as err:
        raise s3_error(err, where, access, writing=True) from None
    return where.uri


def _write(fs, where: Location, fmt: str, df, partition_cols, kw) -> None:
    if not where.s3:
        import os

        os.makedirs(where.path if partition_cols else os.path.dirname(where.path), exist_ok=True)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = frames.to_arrow(df)
        if partition_cols:
            pq.write_to_dataset(
                table, where.path, partition_cols=list(partition_cols), filesystem=fs, **kw
            )
        else:
            pq.write_table(table, where.path, filesystem=fs, **kw)
        return
    if partition_cols:
        raise LakeError("partition_cols= is for Parquet folders")
    frame = frames.to_pandas(df)
    if fmt == "excel":
        frames.need("openpyxl", "Writing Excel files", "openpyxl")
        buffer = _io.BytesIO()
        frame.to_excel(buffer, index=kw.pop("index", False), engine="openpyxl", **kw)
        data = buffer.getvalue()
    elif fmt in ("csv", "tsv"):
        options = {"index": False, **({"sep": "\t"} if fmt == "tsv" else {}), **kw}
        data = frame.to_csv(**options).encode("utf-8")
    elif fmt in ("jsonl", "json"):
        options = {
            "orient": "records",
            "date_format": "iso",
            **({"lines": True} if fmt == "jsonl" else {}),
            **kw,
        }
        data = frame.to_json(**options).encode("utf-8")
    else:
        raise LakeError(f"cannot write format {fmt!r}")
    with fs.open_output_stream(where.path, compression="detect") as out:
        out.write(data)
