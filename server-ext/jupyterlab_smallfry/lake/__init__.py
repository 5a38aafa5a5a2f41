"""The kernel library behind ``import smallfry as sf``: the data lake in one line each.

Everything uses the kernel's own AWS configuration (see :mod:`.session`), so each user reads
and writes with their own keys. Modules: :mod:`.io` (``read``/``write``), :mod:`.catalog`
(Glue tables), :mod:`.duckdb_sql` (DuckDB), :mod:`.connections` (named SQLAlchemy connections),
:mod:`.context` (``here``/``params``), :mod:`.errors`.
"""

from __future__ import annotations

from . import catalog, frames
from .connections import connect
from .context import here, params
from .duckdb_sql import connection, sql
from .errors import (
    AccessDenied,
    BrokenFile,
    LakeError,
    MissingPackage,
    NoSuchTable,
    NotFound,
    NotOnS3,
    UnknownConnection,
)
from .io import read, write
from .session import aws, reset


def table(name: str, where=None, *, columns=None, engine: str = "pandas"):
    """Read the Glue catalog table ``"database.table"`` into a DataFrame.

    ``where`` selects partitions before anything is read: a dict of partition key -> value,
    or a list of values meaning any of them (``where={"year": 2025, "month": [1, 2]}``), or
    a string in Glue's partition expression syntax (``"year >= 2024"``). Only the selected
    partitions are listed and read. ``columns=[…]`` reads only those columns;
    ``engine="polars"`` returns a polars DataFrame.

    Raises :class:`NoSuchTable`, :class:`AccessDenied` (naming you and the Glue or S3
    action), :class:`BrokenFile`.
    """
    frames.check_engine(engine)
    frames.need("pyarrow", "smallfry.table", "pyarrow>=18")
    return frames.from_arrow(catalog.read_table(aws(), name, where, columns), engine)


__all__ = [
    "AccessDenied",
    "BrokenFile",
    "LakeError",
    "MissingPackage",
    "NoSuchTable",
    "NotFound",
    "NotOnS3",
    "UnknownConnection",
    "connect",
    "connection",
    "here",
    "params",
    "read",
    "reset",
    "sql",
    "table",
    "write",
]
