"""Data and AWS set-up for the kernel library's tests (``test_lake_*.py``).

The data is written by pyarrow into bytes and put into moto with boto3 straight, so what the
library reads never went through the library. The odd types are the ones users' files have
and naive readers get wrong: timestamps with a zone, decimals, lists, maps and nulls, in
several row groups.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import io
import os
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

from .processes import AWS_TEST_ENV

#: Rows of the odd-types table, and rows per row group (so it has several).
ODD_ROWS, ODD_ROW_GROUP = 3000, 1000
PARQUET_TABLE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    },
}
CSV_TABLE = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        "Parameters": {"field.delim": ";", "skip.header.line.count": "1"},
    },
}


@contextlib.contextmanager
def kernel_environment(endpoint_url: str, **extra: str):
    """This process's environment as a demo kernel has it: keys and endpoint in variables,
    no AWS profile of the machine's. The library's cached session is reset around it."""
    from jupyterlab_smallfry import lake

    fd, empty = tempfile.mkstemp(suffix=".aws-config")
    os.close(fd)
    wanted = {
        **AWS_TEST_ENV,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_CONFIG_FILE": empty,
        "AWS_SHARED_CREDENTIALS_FILE": empty,
        **extra,
    }
    cleared = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "SMALLFRY_NOTEBOOK_URI")
    saved = {k: os.environ.get(k) for k in (*wanted, *cleared)}
    for name in cleared:
        os.environ.pop(name, None)
    os.environ.update(wanted)
    lake.reset()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        lake.reset()
        os.unlink(empty)


def odd_table(rows: int = ODD_ROWS) -> pa.Table:
    """Zoned timestamps, decimals, lists, maps and nulls (every 7th row has nulls)."""
    start = dt.datetime(2025, 3, 30, 0, 30, tzinfo=dt.timezone.utc)
    return pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "at": pa.array(
                [start + dt.timedelta(minutes=30 * i) for i in range(rows)],
                pa.timestamp("us", tz="Europe/Paris"),
            ),
            "amount": pa.array(
                [None if i % 7 == 0 else decimal.Decimal(i) / 100 for i in range(rows)],
                pa.decimal128(12, 2),
            ),
            "tags": pa.array(
                [None if i % 7 == 0 else [f"t{i % 3}", "x"] for i in range(rows)],
                pa.list_(pa.string()),
            ),
            "attrs": pa.array(
                [None if i % 7 == 0 else [("k", i)] for i in range(rows)],
                pa.map_(pa.string(), pa.int32()),
            ),
            "note": pa.array([None if i % 7 == 0 else f"row {i}" for i in range(rows)]),
        }
    )


def parquet_bytes(table: pa.Table, row_group_size: int | None = None) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=row_group_size)
    return out.getvalue()


def sales_part(year: int, month: int, rows: int = 50) -> pa.Table:
    """One partition's rows: amount = 1..rows, so each partition sums to rows*(rows+1)/2."""
    return pa.table(
        {
            "order_id": pa.array([year * 10000 + month * 100 + i for i in range(rows)], pa.int64()),
            "amount": pa.array([float(i + 1) for i in range(rows)]),
            "region": pa.array(["north" if i % 2 else "south" for i in range(rows)]),
        }
    )


def put_sales(s3, bucket: str, prefix: str, years=(2024, 2025), months=(1, 2)) -> list[str]:
    """A hive-partitioned dataset ``prefix/year=Y/month=M/part-N.parquet``, two parts each,
    plus a ``_SUCCESS`` marker as Spark writes; returns the partition folders."""
    folders = []
    for year in years:
        for month in months:
            folder = f"{prefix}year={year}/month={month}/"
            folders.append(folder)
            table = sales_part(year, month)
            for n, piece in enumerate((table.slice(0, 25), table.slice(25))):
                s3.put_object(
                    Bucket=bucket, Key=f"{folder}part-{n}.parquet", Body=parquet_bytes(piece)
                )
    s3.put_object(Bucket=bucket, Key=f"{prefix}_SUCCESS", Body=b"")
    return folders


def glue_table(glue, database: str, name: str, location: str, storage: dict, columns, keys=()):
    """Create (or replace) a Glue table, as Athena or *Register as table* would."""
    with contextlib.suppress(glue.exceptions.AlreadyExistsException):
        glue.create_database(DatabaseInput={"Name": database})
    with contextlib.suppress(glue.exceptions.EntityNotFoundException):
        glue.delete_table(DatabaseName=database, Name=name)
    descriptor = {
        **storage,
        "Columns": [{"Name": n, "Type": t} for n, t in columns],
        "Location": location,
    }
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": name,
            "StorageDescriptor": descriptor,
            "PartitionKeys": [{"Name": n, "Type": t} for n, t in keys],
            "TableType": "EXTERNAL_TABLE",
        },
    )
    return descriptor


def glue_partition(glue, database: str, table: str, descriptor: dict, values, location: str):
    glue.create_partition(
        DatabaseName=database,
        TableName=table,
        PartitionInput={
            "Values": [str(v) for v in values],
            "StorageDescriptor": {**descriptor, "Location": location},
        },
    )
