"""The embedded demo's data catalog: a Glue database ``demo`` whose tables are the demo bucket's
partitioned Parquet datasets, so the Catalog panel, ``sf.table("demo.sales")`` and
``sf.sql("SELECT … FROM demo.sales")`` have something to show from the first start.

Each table is described from its data, as *Register as table* does in the browser: the columns
from the first Parquet file's footer, the partition keys and values from its ``key=value/``
folders, and the same Parquet SerDe (``src/catalog/register.ts``), so a seeded table and a
registered one read the same way. A dataset that is not in the bucket is skipped with a log
line: the demo still starts.
"""

from __future__ import annotations

import io
import re

from ..logs import log

DEMO_DATABASE = "demo"
#: table name -> folder of the demo bucket holding its Parquet files.
DEMO_TABLES = {"sales": "sales/"}

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_PARTITION = re.compile(r"^([^=/]+)=([^/]*)$")
_INT32 = 2**31 - 1


def seed_demo_catalog(url: str) -> list[str]:
    """Seed the embedded server at ``url``; never stops the demo from starting."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from .server import DEMO_ACCESS_KEY, DEMO_BUCKET, DEMO_SECRET_KEY

    def client(service: str):
        return boto3.client(
            service,
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=DEMO_ACCESS_KEY,
            aws_secret_access_key=DEMO_SECRET_KEY,
        )

    try:
        return seed_catalog(client("s3"), client("glue"), DEMO_BUCKET)
    # A demo without its catalog is still a demo (pyarrow's errors are ValueErrors).
    except (BotoCoreError, ClientError, ImportError, ValueError, OSError) as err:
        log.warning("Small Fry demo catalog not seeded: %s", err)
        return []


def seed_catalog(s3, glue, bucket: str) -> list[str]:
    """Create the demo database and a table per dataset found; the names of the tables made."""
    try:
        glue.create_database(
            DatabaseInput={
                "Name": DEMO_DATABASE,
                "Description": "The Small Fry demo's tables (embedded demo bucket)",
            }
        )
    except glue.exceptions.AlreadyExistsException:
        pass
    made = []
    for name, prefix in DEMO_TABLES.items():
        files = _parquet_files(s3, bucket, prefix)
        if not files:
            log.info("Small Fry demo catalog: no Parquet files under s3://%s/%s", bucket, prefix)
            continue
        columns = _columns(s3, bucket, files[0])
        keys, partitions = _partitions(prefix, files)
        # Parquet written by some tools repeats the partition key as a column.
        columns = [c for c in columns if c["Name"] not in keys]
        location = f"s3://{bucket}/{prefix}"
        glue.create_table(
            DatabaseName=DEMO_DATABASE,
            TableInput={
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {
                    "EXTERNAL": "TRUE",
                    "classification": "parquet",
                    "created_by": "jupyterlab-smallfry",
                },
                "PartitionKeys": [
                    {"Name": k, "Type": _key_type([p[0][i] for p in partitions])}
                    for i, k in enumerate(keys)
                ],
                "StorageDescriptor": _storage(columns, location),
            },
        )
        inputs = [
            {"Values": values, "StorageDescriptor": _storage(columns, location + folder)}
            for values, folder in partitions
        ]
        for start in range(0, len(inputs), 100):  # BatchCreatePartition takes 100 at most
            glue.batch_create_partition(
                DatabaseName=DEMO_DATABASE,
                TableName=name,
                PartitionInputList=inputs[start : start + 100],
            )
        made.append(f"{DEMO_DATABASE}.{name}")
    return made


def _storage(columns: list[dict], location: str) -> dict:
    return {
        "Columns": columns,
        "Location": location,
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "Parameters": {"serialization.format": "1"},
        },
    }


def _parquet_files(s3, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            rel = entry["Key"][len(prefix) :]
            # Hidden files and folders (_SUCCESS, .crc, _temporary/) are not data.
            if rel.lower().endswith(_PARQUET_SUFFIXES) and not any(
                part.startswith(("_", ".")) for part in rel.split("/")
            ):
                keys.append(entry["Key"])
    return sorted(keys)


def _partitions(prefix: str, files: list[str]) -> tuple[list[str], list[tuple[list[str], str]]]:
    """The partition keys and each partition's (values, folder) from ``key=value/`` folders."""
    keys: list[str] | None = None
    found: dict[str, list[str]] = {}
    for key in files:
        folders = key[len(prefix) :].split("/")[:-1]
        pairs = [_PARTITION.match(folder) for folder in folders]
        if not all(pairs):
            raise ValueError(f"s3://…/{key}: a demo table's folders must be key=value")
        names = [p[1] for p in pairs]
        if keys is None:
            keys = names
        elif names != keys:
            raise ValueError(f"partition folders disagree: {keys} and {names}")
        found.setdefault("".join(f"{f}/" for f in folders), [p[2] for p in pairs])
    if not keys:
        return [], []
    return keys, [(values, folder) for folder, values in sorted(found.items())]


def _key_type(values: list[str]) -> str:
    """As the browser decides (``partitionKeyType``): whole numbers without leading zeros."""
    if not values or not all(re.fullmatch(r"-?\d{1,18}", v) for v in values):
        return "string"
    if any(re.match(r"-?0\d", v) for v in values):
        return "string"
    return "int" if all(abs(int(v)) <= _INT32 for v in values) else "bigint"


def _columns(s3, bucket: str, key: str) -> list[dict]:
    """The Glue columns of a Parquet file, from its footer (the demo's files are small)."""
    import pyarrow.parquet as pq

    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    schema = pq.read_schema(io.BytesIO(body))
    return [{"Name": field.name.lower(), "Type": hive_type(field.type)} for field in schema]


def hive_type(arrow_type) -> str:
    """The Hive type Glue and Athena use for an Arrow type (``glueType`` in the browser)."""
    import pyarrow.types as t

    simple = [
        (t.is_int8, "tinyint"),
        (t.is_int16, "smallint"),
        (t.is_int32, "int"),
        (t.is_int64, "bigint"),
        (t.is_uint8, "smallint"),
        (t.is_uint16, "int"),
        (t.is_uint32, "bigint"),
        (t.is_uint64, "bigint"),
        (t.is_float16, "float"),
        (t.is_float32, "float"),
        (t.is_float64, "double"),
        (t.is_boolean, "boolean"),
        (t.is_date, "date"),
        (t.is_timestamp, "timestamp"),
        (t.is_binary, "binary"),
        (t.is_large_binary, "binary"),
        (t.is_fixed_size_binary, "binary"),
    ]
    for test, name in simple:
        if test(arrow_type):
            return name
    if t.is_decimal(arrow_type):
        return f"decimal({min(38, arrow_type.precision)},{arrow_type.scale})"
    if t.is_dictionary(arrow_type):
        return hive_type(arrow_type.value_type)
    if t.is_list(arrow_type) or t.is_large_list(arrow_type) or t.is_fixed_size_list(arrow_type):
        return f"array<{hive_type(arrow_type.value_type)}>"
    if t.is_map(arrow_type):
        return f"map<{hive_type(arrow_type.key_type)},{hive_type(arrow_type.item_type)}>"
    if t.is_struct(arrow_type):
        fields = ",".join(
            f"{f.name.lower()}:{hive_type(f.type)}"
            for f in (arrow_type.field(i) for i in range(arrow_type.num_fields))
        )
        return f"struct<{fields}>"
    if t.is_duration(arrow_type):
        return "bigint"
    return "string"  # strings, times of day, nulls: Hive reads them as text
