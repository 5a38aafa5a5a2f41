"""The embedded demo's catalog: ``demo.sales`` over the demo bucket's partitioned Parquet, described
from the data, and read by ``sf.table`` and ``sf.sql`` like any registered table."""

from __future__ import annotations

import boto3

import smallfry as sf

from ..embedded.catalog_seed import seed_catalog
from .lake_support import kernel_environment, put_sales
from .processes import TEST_ACCESS_KEY, TEST_SECRET_KEY, gateway_client, jupyter_server

BUCKET = "catalog-seed-tests"


def test_the_demo_database_describes_the_demo_dataset_from_its_files(moto_url, direct_s3):
    direct_s3.create_bucket(Bucket=BUCKET)
    put_sales(direct_s3, BUCKET, "sales/")
    direct_s3.put_object(Bucket=BUCKET, Key="sales/_temporary/0/part-9.parquet", Body=b"junk")
    glue = boto3.client(
        "glue",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=TEST_ACCESS_KEY,
        aws_secret_access_key=TEST_SECRET_KEY,
    )
    assert seed_catalog(direct_s3, glue, BUCKET) == ["demo.sales"]
    table = glue.get_table(DatabaseName="demo", Name="sales")["Table"]
    assert table["PartitionKeys"] == [
        {"Name": "year", "Type": "int"},
        {"Name": "month", "Type": "int"},
    ]
    assert table["StorageDescriptor"]["Columns"] == [
        {"Name": "order_id", "Type": "bigint"},
        {"Name": "amount", "Type": "double"},
        {"Name": "region", "Type": "string"},
    ]
    partitions = glue.get_partitions(DatabaseName="demo", TableName="sales")["Partitions"]
    assert sorted(p["StorageDescriptor"]["Location"] for p in partitions) == [
        f"s3://{BUCKET}/sales/year={y}/month={m}/" for y in (2024, 2025) for m in (1, 2)
    ]
    with kernel_environment(moto_url):
        assert len(sf.table("demo.sales", where={"year": 2024, "month": 2})) == 50
        counts = sf.sql("SELECT count(*) AS n FROM demo.sales")
    assert counts["n"].tolist() == [200]


def test_a_bucket_without_the_dataset_gets_the_database_alone(moto_url, direct_s3):
    direct_s3.create_bucket(Bucket="catalog-seed-empty")
    glue = boto3.client(
        "glue",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=TEST_ACCESS_KEY,
        aws_secret_access_key=TEST_SECRET_KEY,
    )
    # Seeding twice (a restarted demo keeps no state, but a shared moto does) is harmless.
    assert seed_catalog(direct_s3, glue, "catalog-seed-empty") == []
    assert seed_catalog(direct_s3, glue, "catalog-seed-empty") == []
    assert "demo" in [d["Name"] for d in glue.get_databases()["DatabaseList"]]


def test_the_embedded_demo_starts_with_its_catalog_behind_the_gateway():
    # The demo's Glue is the embedded moto, found by the gateway through AWS_ENDPOINT_URL.
    with jupyter_server(
        "--SmallFry.embedded=True", env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    ) as srv:
        glue = gateway_client(srv, "glue")
        table = glue.get_table(DatabaseName="demo", Name="sales")["Table"]
        assert table["StorageDescriptor"]["Location"] == "s3://smallfry-demo/sales/"
        assert [k["Name"] for k in table["PartitionKeys"]] == ["year"]
        partitions = glue.get_partitions(DatabaseName="demo", TableName="sales")["Partitions"]
        assert len(partitions) >= 2
