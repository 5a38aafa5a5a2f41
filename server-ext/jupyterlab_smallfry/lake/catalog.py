"""Tables of the AWS Glue Data Catalog, read as pyarrow datasets with partition pruning.

A table is its S3 location, its format (from the SerDe / InputFormat Athena and Spark write)
and its partition keys. Partitions come from Glue, not from listing S3: ``where=`` becomes a
``GetPartitions`` expression, so Glue answers with only the partitions needed and the other
partitions' objects are never listed nor read. Each partition's files become one fragment
whose partition values are known, so pyarrow and DuckDB can filter further on them.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from .errors import LakeError, NoSuchTable
from .locations import is_hidden, locate
from .session import AwsAccess

_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
#: How many partitions' files are listed at once.
_LISTERS = 16


@dataclass
class GlueTable:
    """What Glue says about one table (``GetTable``), reduced to what reading needs."""

    database: str
    name: str
    location: str
    format: str  # "parquet", "csv" or "json"
    columns: list[tuple[str, str]]
    partition_keys: list[tuple[str, str]]
    delimiter: str = ","
    header_lines: int = 0
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.name}"


def split_name(name: str) -> tuple[str, str]:
    database, dot, table = str(name).partition(".")
    if not dot or not _NAME.match(database) or not _NAME.match(table):
        raise LakeError(f"{name!r}: name a catalog table as 'database.table'")
    return database, table


def describe(access: AwsAccess, name: str) -> GlueTable:
    """The Glue table ``database.table`` (raises :class:`NoSuchTable` naming what is missing)."""
    database, table = split_name(name)
    glue = access.client("glue")
    try:
        answer = glue.get_table(DatabaseName=database, Name=table)["Table"]
    except ClientError as err:
        resource = f"arn:aws:glue:{access.region}:{access.account()}:table/{database}/{table}"
        access.check(err, "glue:GetTable", resource)
        if err.response["Error"]["Code"] == "EntityNotFoundException":
            raise NoSuchTable(_missing(glue, database, table)) from None
        raise
    except BotoCoreError as err:
        raise LakeError(f"The Glue Data Catalog could not be reached: {err}") from None
    return _table(database, answer)


def _missing(glue, database: str, table: str) -> str:
    try:
        glue.get_database(Name=database)
    except ClientError:
        return f"The catalog has no database {database!r} (looking for {database}.{table})."
    return f"The catalog database {database!r} has no table {table!r}."


def _table(database: str, answer: dict) -> GlueTable:
    sd = answer.get("StorageDescriptor", {})
    serde = sd.get("SerdeInfo", {})
    library = (serde.get("SerializationLibrary") or "").lower()
    params = {**answer.get("Parameters", {}), **serde.get("Parameters", {})}
    hints = " ".join(
        [library, (sd.get("InputFormat") or "").lower(), params.get("classification", "")]
    )
    if "parquet" in hints:
        fmt = "parquet"
    elif "json" in hints:
        fmt = "json"
    elif "csv" in hints or "lazysimpleserde" in hints or "textinputformat" in hints:
        fmt = "csv"
    else:
        raise LakeError(
            f"{database}.{answer['Name']}: its format ({library or sd.get('InputFormat')}) is "
            "not one smallfry reads (Parquet, CSV/TSV, JSON Lines)"
        )
    location = sd.get("Location", "")
    if not location.startswith(("s3://", "s3a://")):
        raise LakeError(f"{database}.{answer['Name']} has no s3:// location ({location!r})")
    return GlueTable(
        database=database,
        name=answer["Name"],
        location=location.rstrip("/") + "/",
        format=fmt,
        columns=[(c["Name"], c.get("Type", "string")) for c in sd.get("Columns", [])],
        partition_keys=[
            (c["Name"], c.get("Type", "string")) for c in answer.get("PartitionKeys", [])
        ],
        delimiter=params.get("field.delim") or params.get("separatorChar") or ",",
        header_lines=int(params.get("skip.header.line.count", "0") or 0),
        raw=answer,
    )


def expression(where, table: GlueTable) -> str:
    """``where`` as a Glue ``GetPartitions`` expression.

    ``where`` is a dict of partition key -> value (or a list/tuple/set of values, meaning any
    of them): ``{"year": 2025, "month": [1, 2]}``. A string is passed to Glue as it is, in
    Glue's own expression syntax (``"year = 2025 AND month > '06'"``).
    """
    if where is None or where == {}:
        return ""
    if isinstance(where, str):
        return where
    if not isinstance(where, dict):
        raise LakeError("where= takes a dict such as {'year': 2025} or a Glue expression string")
    keys = {name: kind for name, kind in table.partition_keys}
    terms = []
    for name, value in where.items():
        if name not in keys:
            known = ", ".join(keys) or "none"
            raise LakeError(
                f"where={{{name!r}: …}}: {table.qualified} is not partitioned by {name!r} "
                f"(its partition keys: {known}); filter other columns in pandas or sf.sql"
            )
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        if not values:
            raise LakeError(f"where={{{name!r}: []}} matches no partition")
        literals = [_literal(v, keys[name]) for v in values]
        terms.append(
            f"{name} = {literals[0]}"
            if len(literals) == 1
            else f"{name} IN ({', '.join(literals)})"
        )
    return " AND ".join(terms)


def _literal(value, glue_type: str) -> str:
    numeric = glue_type.lower() in (
        "tinyint",
        "smallint",
        "int",
        "integer",
        "bigint",
        "float",
        "double",
    )
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, str))
        and not hasattr(value, "isoformat")
    ):
        raise LakeError(f"where=: {value!r} is not a number, a string or a date")
    if numeric and isinstance(value, (int, float)):
        return repr(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text.replace("'", "''") + "'"


def partitions(access: AwsAccess, table: GlueTable, where=None) -> list[dict]:
    """The table's partitions Glue selects for ``where`` (all of them for None)."""
    glue = access.client("glue")
    args = {"DatabaseName": table.database, "TableName": table.name}
    text = expression(where, table)
    if text:
        args["Expression"] = text
    found = []
    try:
        for page in glue.get_paginator("get_partitions").paginate(**args):
            found += page["Partitions"]
    except ClientError as err:
        resource = (
            f"arn:aws:glue:{access.region}:{access.account()}:table/{table.database}/{table.name}"
        )
        access.check(err, "glue:GetPartitions", resource)
        if err.response["Error"]["Code"] == "InvalidInputException":
            raise LakeError(
                f"where={where!r}: Glue refused the filter: {err.response['Error'].get('Message')}"
            ) from None
        raise
    return found


def arrow_type(glue_type: str):
    """The Arrow type for a Glue (Hive) column type; unknown types read as strings."""
    import pyarrow as pa

    kind = glue_type.strip().lower()
    simple = {
        "string": pa.string(),
        "varchar": pa.string(),
        "char": pa.string(),
        "boolean": pa.bool_(),
        "tinyint": pa.int8(),
        "smallint": pa.int16(),
        "int": pa.int32(),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "binary": pa.binary(),
    }
    base = kind.split("(")[0]
    if base in simple:
        return simple[base]
    match = re.match(r"decimal\((\d+),\s*(\d+)\)", kind)
    if match:
        return pa.decimal128(int(match[1]), int(match[2]))
    return pa.string()


def dataset(access: AwsAccess, table: GlueTable, where=None):
    """A pyarrow dataset of the table, holding only the partitions ``where`` selects."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    from pyarrow import fs as pafs

    fs = access.filesystem()
    file_format = _file_format(table)
    if table.partition_keys:
        parts = partitions(access, table, where)
        sources = [
            (
                p.get("StorageDescriptor", {}).get("Location")
                or table.location
                + "/".join(f"{k}={v}" for (k, _), v in zip(table.partition_keys, p["Values"])),
                p["Values"],
            )
            for p in parts
        ]
    else:
        if where:
            raise LakeError(
                f"where=: {table.qualified} has no partition keys; filter its rows in pandas or sf.sql"
            )
        sources = [(table.location, [])]

    def files_of(location: str) -> list[str]:
        where_ = locate(location)
        try:
            listing = fs.get_file_info(
                pafs.FileSelector(where_.path, recursive=True, allow_not_found=True)
            )
        except OSError as err:
            from .io import s3_error

            raise s3_error(err, where_, access) from None
        return sorted(
            e.path for e in listing if e.type == pafs.FileType.File and not is_hidden(e.path)
        )

    with ThreadPoolExecutor(_LISTERS) as pool:
        listed = list(pool.map(files_of, [location for location, _ in sources]))
    paths, expressions = [], []
    key_types = [(name, arrow_type(kind)) for name, kind in table.partition_keys]
    for (_, values), files in zip(sources, listed):
        condition = pc.scalar(True)
        for (name, kind), value in zip(key_types, values):
            condition = condition & (pc.field(name) == pa.scalar(value).cast(kind))
        paths += files
        expressions += [condition] * len(files)
    schema = _schema(table, file_format, fs, paths)
    schema = pa.schema([*schema, *(pa.field(n, t) for n, t in key_types if n not in schema.names)])
    if not paths:
        return ds.dataset(pa.table({f.name: pa.array([], f.type) for f in schema}))
    return ds.FileSystemDataset.from_paths(
        paths, schema=schema, format=file_format, filesystem=fs, partitions=expressions
    )


def _file_format(table: GlueTable):
    import pyarrow.csv as pacsv
    import pyarrow.dataset as ds

    if table.format == "parquet":
        return ds.ParquetFileFormat()
    if table.format == "json":
        return ds.JsonFileFormat()
    names = [name for name, _ in table.columns]
    return ds.CsvFileFormat(
        parse_options=pacsv.ParseOptions(delimiter=table.delimiter),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=table.header_lines),
        convert_options=pacsv.ConvertOptions(
            column_types={name: arrow_type(kind) for name, kind in table.columns}
        ),
    )


def _schema(table: GlueTable, file_format, fs, paths: list[str]):
    """The data columns: the first file's own schema for Parquet, Glue's for text formats."""
    import pyarrow as pa

    if table.format == "parquet" and paths:
        try:
            return file_format.inspect(paths[0], filesystem=fs)
        except pa.ArrowInvalid as err:
            from .errors import BrokenFile

            raise BrokenFile(
                f"s3://{paths[0]} (in {table.qualified}) is not a readable Parquet file: {err}"
            ) from None
    return pa.schema([pa.field(name, arrow_type(kind)) for name, kind in table.columns])


def read_table(access: AwsAccess, name: str, where=None, columns=None):
    """The Arrow table of ``database.table``, reading only the partitions ``where`` selects."""
    table = describe(access, name)
    data = dataset(access, table, where)
    try:
        return data.to_table(columns=columns)
    except OSError as err:
        from .io import s3_error

        raise s3_error(err, locate(table.location), access) from None
    except pa_invalid() as err:
        from .errors import BrokenFile

        raise BrokenFile(
            f"{table.qualified} (at {table.location}) could not be read: {err}"
        ) from None


def pa_invalid():
    import pyarrow as pa

    return (pa.ArrowInvalid, pa.ArrowNotImplementedError)
