"""``sql``: DuckDB over ``s3://`` objects and catalog tables, with the kernel's own keys.

DuckDB's own S3 support (the ``httpfs`` extension) is downloaded at first use, which a
locked-down network (or this project's CI) does not allow, and it would need the keys copied
into DuckDB secrets. Instead the connection gets pyarrow's S3 filesystem through fsspec's
``ArrowFSWrapper`` (registered for ``s3://``): DuckDB globs (``*``, ``**``) and reads with
ranged GETs through it, so Parquet column and row-group pruning still apply.

``FROM db.table`` names a Glue table: before the query runs, each ``schema.table`` reference
that is not DuckDB's own is looked up in Glue and defined as a view over its dataset
(:mod:`.catalog`); DuckDB pushes filters on partition columns into that dataset.
"""

from __future__ import annotations

import json

from . import catalog, frames
from .errors import BrokenFile, LakeError
from .session import AwsAccess, aws

#: Schemas DuckDB itself has; ``main.x`` is never a Glue table.
_OWN_SCHEMAS = {"main", "information_schema", "pg_catalog", "temp"}


def connection(access: AwsAccess | None = None):
    """A new in-memory DuckDB connection that reads ``s3://`` with the kernel's keys.

    For queries ``sql`` does not cover (several statements, ``COPY … TO``, prepared
    parameters): ``con = sf.duckdb_connection()`` then ``con.sql(…)``.
    """
    duckdb = frames.need("duckdb", "smallfry.sql", "duckdb>=1.4")
    frames.need("fsspec", "smallfry.sql", "fsspec")
    from fsspec.implementations.arrow import ArrowFSWrapper

    access = access or aws()
    # No extension downloads: s3:// must reach our filesystem, never an autoloaded httpfs
    # without keys (and there may be no network to download it from).
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.register_filesystem(ArrowFSWrapper(access.filesystem()))
    return con


def sql(query: str, *, engine: str = "pandas", **frames_by_name):
    """Run one DuckDB SQL query and return its result as a DataFrame.

    ``FROM 's3://bucket/sales/*.parquet'`` (globs, ``**``; ``read_csv``/``read_json`` for
    text), ``FROM db.table`` for a Glue catalog table, and any DataFrame passed by keyword:
    ``sf.sql("SELECT * FROM orders o JOIN 's3://…/c.parquet' c USING (id)", orders=df)``.
    ``engine="polars"`` returns a polars DataFrame.
    """
    frames.check_engine(engine)
    if not isinstance(query, str) or not query.strip():
        raise LakeError("sql() takes one SQL query as a string")
    access = aws()
    con = connection(access)
    try:
        for name, frame in frames_by_name.items():
            con.register(name, frame)
        for name in catalog_references(con, query):
            _define_view(con, access, name)
        result = con.sql(query)
        if result is None:
            return None  # a statement without rows (CREATE, SET…)
        return result.pl() if engine == "polars" else result.df()
    except Exception as err:
        clearer = _clearer(err, access)
        if clearer is err:
            raise
        raise clearer from None
    finally:
        con.close()


def catalog_references(con, query: str) -> list[str]:
    """``schema.table`` names in ``query`` (DuckDB's parser, nothing bound or run)."""
    parsed = json.loads(con.execute("SELECT json_serialize_sql(?)", [query]).fetchall()[0][0])
    if parsed.get("error"):
        return []  # let DuckDB itself report the syntax error when the query runs
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and node.get("schema_name"):
                schema, table = node["schema_name"], node["table_name"]
                name = f"{schema}.{table}"
                ours = not node.get("catalog_name") and schema.lower() not in _OWN_SCHEMAS
                if ours and "://" not in table and name not in found:
                    found.append(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(parsed.get("statements", []))
    return found


def _define_view(con, access: AwsAccess, name: str) -> None:
    table = catalog.describe(access, name)
    data = catalog.dataset(access, table)
    hidden = f"__smallfry_{table.database}__{table.name}"
    con.register(hidden, data)
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{table.database}"')
    con.execute(
        f'CREATE OR REPLACE VIEW "{table.database}"."{table.name}" AS SELECT * FROM "{hidden}"'
    )


def _clearer(err: Exception, access: AwsAccess) -> Exception:
    """DuckDB wraps the filesystem's errors in its own; say access denied plainly."""
    if isinstance(err, LakeError):
        return err  # already clear
    import re

    text = str(err)
    broken = re.search(r"Could not open Parquet input source '([^']+)'", text)
    if broken:
        return BrokenFile(f"s3://{broken[1]} is not a readable Parquet file ({text})")
    if "ACCESS_DENIED" in text or "AccessDenied" in text:
        key = re.search(r"key '([^']*)' in bucket '([^']*)'", text)
        resource = f"arn:aws:s3:::{key[2]}/{key[1]}" if key else "the S3 objects in the query"
        action = "s3:ListBucket" if "ListObjects" in text else "s3:GetObject"
        if key and action == "s3:ListBucket":
            resource = f"arn:aws:s3:::{key[2]}"
        return access.denied(action, resource)
    return err
