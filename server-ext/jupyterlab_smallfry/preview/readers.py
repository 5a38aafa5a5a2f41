"""Read the head of a tabular file: its schema, what its metadata knows, and the first rows.

Only what the preview needs is read, through a :class:`~.sources.CountedFile`:

- Parquet: the footer, then the first row group(s) holding the rows asked for, each as one
  coalesced read (pyarrow's ``pre_buffer``). Big row groups of which only the head is wanted
  are read page by page instead, stopping at the rows asked for.
- CSV/TSV and JSON Lines: the first :data:`WINDOW` bytes of text, cut at the last whole line;
  a ``.gz`` object is decompressed as it streams in, and the reading stops there.

Memory is bounded by :data:`WINDOW`, :data:`ROW_GROUP_CAP` and :data:`MAX_CELLS`, whatever
the object's size.
"""

from __future__ import annotations

import io
import zlib

from ..lake.locations import FORMATS
from .errors import PreviewError
from .sources import CountedFile
from .values import cell, render_column

#: Text read from the start of a CSV/TSV/JSON Lines object (after decompression).
WINDOW = 1024 * 1024
#: Compressed bytes of first row groups always read whole, in one go each.
WHOLE_ROW_GROUPS = 4 * 1024 * 1024
#: Up to this, row groups are read whole when most of their rows are wanted; past it (or
#: when only a small head of them is), their pages are streamed.
ROW_GROUP_CAP = 64 * 1024 * 1024
#: Cells returned at most, so a wide table answers with fewer rows rather than megabytes.
MAX_CELLS = 200_000
#: Compressed bytes asked for at a time when streaming a ``.gz`` object.
_GZ_CHUNK = 256 * 1024

# The file-name endings the kernel library knows (one table for both), less what the preview
# cannot read a part of: whole-document JSON and Excel.
_FORMATS = {ext: fmt for ext, fmt in FORMATS.items() if fmt in ("parquet", "csv", "tsv", "jsonl")}
SUPPORTED = ", ".join(
    sorted({*_FORMATS, *(f"{e}.gz" for e, fmt in _FORMATS.items() if fmt != "parquet")})
)


def format_of(name: str) -> tuple[str, str]:
    """``(format, compression)`` from a file name, or a 415 naming what is supported."""
    lower = name.lower()
    compression = ""
    if lower.endswith(".gz"):
        compression, lower = "gzip", lower[:-3]
    for ext, fmt in _FORMATS.items():
        if lower.endswith(ext) and not (fmt == "parquet" and compression):
            return fmt, compression
    raise PreviewError(
        415, f"{name}: cannot preview this kind of file; the table preview reads {SUPPORTED}"
    )


def preview(source: CountedFile, name: str, rows: int) -> dict:
    """The preview of ``source`` (named ``name``): schema, metadata, first ``rows`` rows."""
    fmt, compression = format_of(name)
    import pyarrow as pa

    try:
        if fmt == "parquet":
            answer = _parquet(source, rows)
        else:
            answer = _text(source, fmt, compression, rows)
    except PreviewError:
        raise
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OSError) as err:
        raise PreviewError(422, f"{name} could not be read as {fmt.upper()}: {err}") from None
    return {
        "format": fmt,
        "compression": compression,
        "size": source.size,
        **answer,
        "bytes_read": source.bytes_read,
        "requests": source.requests,
    }


def _row_limit(rows: int, columns: int) -> int:
    return min(rows, max(1, MAX_CELLS // max(1, columns))) if rows else 0


def _schema(schema) -> list[dict]:
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


def _rows(table) -> list[list]:
    columns = [render_column(column) for column in table.columns]
    return [list(row) for row in zip(*columns)] if columns else [[] for _ in range(table.num_rows)]


def _parquet(source: CountedFile, rows: int) -> dict:
    import pyarrow.parquet as pq

    if source.size < 12:
        raise PreviewError(422, f"{source.name} is not a Parquet file ({source.size} bytes)")
    parquet = pq.ParquetFile(source, pre_buffer=True)
    meta = parquet.metadata
    schema = parquet.schema_arrow
    limit = _row_limit(rows, len(schema))
    groups, covered, compressed = [], 0, 0
    for index in range(meta.num_row_groups):
        if covered >= limit:
            break
        group = meta.row_group(index)
        groups.append(index)
        covered += group.num_rows
        compressed += sum(group.column(c).total_compressed_size for c in range(group.num_columns))
    if not groups:
        table = schema.empty_table()
    elif compressed <= WHOLE_ROW_GROUPS or (compressed <= ROW_GROUP_CAP and covered <= 2 * limit):
        # Small, or mostly wanted: one coalesced read per row group is the fewest requests.
        table = parquet.read_row_groups(groups, use_threads=False).slice(0, limit)
    else:
        # Big row groups (writers default to 128 MiB) of which only the head is wanted:
        # stream each column page by page through a small buffer and stop at ``limit`` rows,
        # so what is read is about one page (1 MiB by default, plus the dictionary page) per
        # column. Pages bigger than the buffer are read directly, so a small buffer costs no
        # extra requests, and memory stays small even for a thousand columns.
        streaming = pq.ParquetFile(source, metadata=meta, pre_buffer=False, buffer_size=64 << 10)
        batch = next(
            streaming.iter_batches(batch_size=limit, row_groups=groups, use_threads=False), None
        )
        table = schema.empty_table() if batch is None else _table(batch)
    return {
        "schema": _schema(schema),
        "num_rows": meta.num_rows,
        "row_groups": {"count": meta.num_row_groups, "read": len(groups)},
        "statistics": _statistics(meta),
        "rows": _rows(table),
        "truncated": table.num_rows < meta.num_rows,
    }


def _table(batch):
    import pyarrow as pa

    return pa.Table.from_batches([batch])


def _statistics(meta) -> dict:
    """Per top-level column: min, max and null_count over all row groups, from the footer."""
    found: dict[str, dict] = {}
    for index in range(meta.num_row_groups):
        group = meta.row_group(index)
        for c in range(group.num_columns):
            column = group.column(c)
            path = column.path_in_schema
            if "." in path:  # a leaf of a nested column: not what the grid shows
                continue
            entry = found.setdefault(path, {"min": None, "max": None, "null_count": 0, "ok": True})
            stats = column.statistics
            if stats is None or not entry["ok"]:
                entry["ok"] = False
                continue
            entry["null_count"] = (
                entry["null_count"] + stats.null_count
                if stats.has_null_count and entry["null_count"] is not None
                else None
            )
            if stats.has_min_max:
                try:
                    low, high = stats.min, stats.max
                    entry["min"] = low if entry["min"] is None else min(entry["min"], low)
                    entry["max"] = high if entry["max"] is None else max(entry["max"], high)
                except (TypeError, ValueError):
                    entry["min"] = entry["max"] = None
    return {
        path: {"min": cell(e["min"]), "max": cell(e["max"]), "null_count": e["null_count"]}
        for path, e in found.items()
        if e["ok"]
    }


def _text(source: CountedFile, fmt: str, compression: str, rows: int) -> dict:
    data, complete = _head(source, compression)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not complete:
        cut = data.rfind(b"\n")
        if cut < 0:
            raise PreviewError(
                422,
                f"{source.name}: no line ends in the first {WINDOW // 1024} KiB, so there is no "
                "whole row to show (is it really line-based text?)",
            )
        data = data[: cut + 1]
    table = _parse_text(data, fmt, complete)
    limit = _row_limit(rows, table.num_columns)
    return {
        "schema": _schema(table.schema),
        # The whole file was read: its row count is known.
        "num_rows": table.num_rows if complete else None,
        "delimiter": _delimiter(data, fmt) if fmt != "jsonl" else None,
        "statistics": {},
        "rows": _rows(table.slice(0, limit)),
        "truncated": not complete or table.num_rows > limit,
    }


def _head(source: CountedFile, compression: str) -> tuple[bytes, bool]:
    """The first :data:`WINDOW` bytes of text, and whether that is the whole file."""
    if not compression:
        data = source.read(WINDOW)
        return data, source.size <= WINDOW
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = bytearray()
    pending = b""
    while len(out) < WINDOW:
        if not pending:
            pending = source.read(_GZ_CHUNK)
            if not pending:
                return bytes(out), True
        try:
            # max_length bounds memory even for a "zip bomb".
            out += inflate.decompress(pending, WINDOW - len(out))
        except zlib.error as err:
            raise PreviewError(422, f"{source.name} is not valid gzip: {err}") from None
        pending = inflate.unconsumed_tail
        if inflate.eof:
            return bytes(out), source.tell() >= source.size and not inflate.unused_data
    return bytes(out), inflate.eof and source.tell() >= source.size


def _delimiter(data: bytes, fmt: str) -> str:
    if fmt == "tsv":
        return "\t"
    first = data.split(b"\n", 1)[0]
    counts = {d: first.count(d.encode()) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _parse_text(data: bytes, fmt: str, complete: bool):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson

    attempts = 1 if complete else 3
    for attempt in range(attempts):
        try:
            if fmt == "jsonl":
                return pajson.read_json(
                    io.BytesIO(data), read_options=pajson.ReadOptions(block_size=WINDOW + 1)
                )
            return pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(block_size=WINDOW + 1, use_threads=False),
                parse_options=pacsv.ParseOptions(
                    delimiter=_delimiter(data, fmt), newlines_in_values=True
                ),
            )
        except pa.ArrowInvalid:
            # The cut may have fallen inside a quoted value that spans lines: drop the last
            # line and try again, a few times, before calling the file broken.
            if attempt == attempts - 1:
                raise
            cut = data.rfind(b"\n", 0, len(data) - 1)
            if cut < 0:
                raise
            data = data[: cut + 1]
    raise AssertionError("unreachable")
