"""``import smallfry as sf``: one-line access to the data lake from a Small Fry kernel.

- ``sf.read(uri)`` / ``sf.write(df, uri)``: Parquet, CSV/TSV, JSON Lines, Excel on S3;
- ``sf.table("db.table", where={"year": 2025})``: a Glue catalog table, partitions pruned;
- ``sf.sql("SELECT … FROM 's3://bucket/x/*.parquet'")`` and ``FROM db.table``: DuckDB;
- ``sf.connect("warehouse")``: a SQLAlchemy engine for a connection the admin named;
- ``sf.duckdb_connection()``: a DuckDB connection reading ``s3://`` (several statements);
- ``sf.here()``: the notebook's own ``s3://`` folder; ``sf.params``: a scheduled run's
  parameters (``{}`` interactively).

All of it uses the kernel's own AWS credentials (the server's managed profile), so each user
reads with their own keys. Install the dependencies with ``pip install
'jupyterlab-smallfry[lake]'``. ``help(sf.read)`` and friends say more.
"""

from __future__ import annotations

from jupyterlab_smallfry.lake import (
    AccessDenied,
    BrokenFile,
    LakeError,
    MissingPackage,
    NoSuchTable,
    NotFound,
    NotOnS3,
    UnknownConnection,
    connect,
    here,
    read,
    reset,
    sql,
    table,
    write,
)
from jupyterlab_smallfry.lake import connection as duckdb_connection
from jupyterlab_smallfry.lake import params as _params


def __getattr__(name: str):
    # ``sf.params`` reads the environment when asked, so it is always the run's current value.
    if name == "params":
        return _params()
    raise AttributeError(f"module 'smallfry' has no attribute {name!r}")


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
    "duckdb_connection",
    "here",
    "params",
    "read",
    "reset",
    "sql",
    "table",
    "write",
]
