"""``sf.table`` and ``sf.sql`` over AWS Glue tables and S3 globs, against moto's S3 and Glue.

Partition pruning is proven by a partition that cannot be read: ``year=2024/month=1`` holds a
broken Parquet file. Reading the whole table fails on it (with a clear error); every read that
does not need that partition succeeds, so its objects were never opened.
"""

from __future__ import annotations

import pandas as pd
import pytest

import smallfry as sf
from jupyterlab_smallfry import lake

from .lake_support import (
    CSV_TABLE,
    PARQUET_TABLE,
    glue_partition,
    glue_table,
    kernel_environment,
    put_sales,
)

BUCKET = "lake-catalog-tests"
ORDERS = f"s3://{BUCKET}/warehouse/orders/"
BROKEN = "warehouse/orders/year=2024/month=1/part-9.parquet"


@pytest.fixture(scope="module")
def catalog(moto_url, direct_s3):
    direct_s3.create_bucket(Bucket=BUCKET)
    folders = put_sales(direct_s3, BUCKET, "warehouse/orders/")
    direct_s3.put_object(Bucket=BUCKET, Key=BROKEN, Body=b"this is not parquet" * 10)
    with kernel_environment(moto_url):
        glue = lake.aws().client("glue")
        descriptor = glue_table(
            glue,
            "shop",
            "orders",
            ORDERS,
            PARQUET_TABLE,
            [("order_id", "bigint"), ("amount", "double"), ("region", "string")],
            keys=[("year", "int"), ("month", "int")],
        )
        for folder in folders:
            year, month = (int(part.split("=")[1]) for part in folder.strip("/").split("/")[-2:])
            glue_partition(
                glue, "shop", "orders", descriptor, [year, month], f"s3://{BUCKET}/{folder}"
            )
        direct_s3.put_object(
            Bucket=BUCKET,
            Key="warehouse/customers/customers.csv",
            Body=b"id;name;since\n1;Ada;2020-01-31\n2;Linus;2021-06-01\n",
        )
        glue_table(
            glue,
            "shop",
            "customers",
            f"s3://{BUCKET}/warehouse/customers/",
            CSV_TABLE,
            [("id", "bigint"), ("name", "string"), ("since", "date")],
        )
        yield glue


def test_where_reads_only_the_selected_partitions(catalog):
    df = sf.table("shop.orders", where={"year": 2025})
    assert len(df) == 100 and set(df["year"]) == {2025} and set(df["month"]) == {1, 2}
    assert str(df["year"].dtype) == "int32"  # typed as Glue says (int), not as text
    assert df["amount"].sum() == 2 * 1275.0

    one = sf.table("shop.orders", where={"year": 2024, "month": [2]})
    assert len(one) == 50 and set(zip(one["year"], one["month"])) == {(2024, 2)}

    glue_syntax = sf.table("shop.orders", where="year = 2024 AND month > 1", columns=["amount"])
    assert list(glue_syntax.columns) == ["amount"] and len(glue_syntax) == 50


def test_the_whole_table_reaches_the_broken_partition_and_says_so(catalog):
    with pytest.raises(sf.BrokenFile, match=r"shop\.orders .*could not be read"):
        sf.table("shop.orders")


def test_where_names_the_partition_keys_when_wrong(catalog):
    with pytest.raises(sf.LakeError, match=r"not partitioned by 'region' .*keys: year, month"):
        sf.table("shop.orders", where={"region": "north"})
    with pytest.raises(sf.LakeError, match="no partition keys"):
        sf.table("shop.customers", where={"id": 1})


def test_no_such_table_or_database(catalog):
    with pytest.raises(LookupError, match="database 'shop' has no table 'nope'"):
        sf.table("shop.nope")
    with pytest.raises(sf.NoSuchTable, match="no database 'attic'"):
        sf.table("attic.orders")
    with pytest.raises(sf.LakeError, match="'database.table'"):
        sf.table("orders")


def test_a_csv_table_uses_glue_names_types_and_delimiter(catalog):
    df = sf.table("shop.customers")
    assert df["name"].tolist() == ["Ada", "Linus"] and df["id"].tolist() == [1, 2]
    assert str(df["since"][0]) == "2020-01-31"


def test_sql_on_a_catalog_table_prunes_partitions(catalog):
    # A filter on a partition column reaches the table's dataset: the broken 2024/1
    # partition is never opened. (DuckDB does not push an OR across columns down.)
    df = sf.sql(
        "SELECT year, month, sum(amount) AS total, count(*) AS n FROM shop.orders "
        "WHERE month = 2 GROUP BY ALL ORDER BY ALL"
    )
    assert df.to_dict("records") == [
        {"year": 2024, "month": 2, "total": 1275.0, "n": 50},
        {"year": 2025, "month": 2, "total": 1275.0, "n": 50},
    ]
    assert sf.sql("SELECT count(*) AS n FROM shop.orders WHERE year IN (2025)")["n"][0] == 100
    with pytest.raises(sf.BrokenFile, match=f"s3://{BUCKET}/{BROKEN} is not a readable Parquet"):
        sf.sql("SELECT count(*) FROM shop.orders")


def test_sql_over_s3_globs_with_hive_partitions(catalog):
    df = sf.sql(
        f"SELECT year, count(*) AS n FROM read_parquet('{ORDERS}*/*/part-[01].parquet', "
        "hive_partitioning = true) GROUP BY year ORDER BY year"
    )
    assert df.to_dict("records") == [{"year": 2024, "n": 100}, {"year": 2025, "n": 100}]
    rows = sf.sql(f"SELECT count(*) AS n FROM '{ORDERS}year=2025/**/*.parquet'")
    assert rows["n"][0] == 100


def test_sql_joins_a_table_an_s3_object_and_a_dataframe(catalog):
    targets = pd.DataFrame({"region": ["north", "south"], "target": [600.0, 700.0]})
    df = sf.sql(
        "SELECT o.region, t.target, c.name, sum(o.amount) AS total "
        "FROM shop.orders o JOIN targets t USING (region) "
        f"JOIN read_csv('s3://{BUCKET}/warehouse/customers/customers.csv', delim=';') c "
        "ON c.id = 1 WHERE o.year = 2025 AND o.month = 1 GROUP BY ALL ORDER BY o.region",
        targets=targets,
    )
    assert df.to_dict("records") == [
        {"region": "north", "target": 600.0, "name": "Ada", "total": 650.0},
        {"region": "south", "target": 700.0, "name": "Ada", "total": 625.0},
    ]


def test_sql_errors_are_clear(catalog):
    with pytest.raises(sf.NoSuchTable, match="database 'shop' has no table 'returns'"):
        sf.sql("SELECT * FROM shop.returns")
    with pytest.raises(Exception, match="syntax error"):
        sf.sql("SELEC 1")


def test_sql_engine_polars(catalog):
    df = sf.sql("SELECT 42 AS answer", engine="polars")
    assert type(df).__module__.startswith("polars") and df["answer"].to_list() == [42]
