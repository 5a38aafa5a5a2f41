"""*Register as table*'s server side, against a real Jupyter server, moto's S3 and Glue.

The browser drafts a table from the data (the preview reader's schema of one file, read with
``rows=0``), then creates it through the gateway with the definitions in
``src/catalog/__tests__/table-inputs.json`` (jest checks that ``register.ts`` sends exactly
those). Here the same definitions are sent through the gateway and the tables are read back
with ``sf.table`` and ``sf.sql``: a registered table is one the kernel library reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

import smallfry as sf

from .lake_support import kernel_environment, put_sales
from .processes import gateway_client, jupyter_server

GOLDEN = Path(__file__).resolve().parents[3] / "src/catalog/__tests__/table-inputs.json"
BUCKET = "lake-register-tests"
CUSTOMERS = b"id;name;since\n1;Ada;2020-01-31\n2;Linus;2021-06-01\n"


@pytest.fixture(scope="module")
def register_server(moto_url):
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}",
        f"--SmallFry.sts_endpoint_url={moto_url}",
        f"--SmallFry.glue_endpoint_url={moto_url}",
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def registered(register_server, direct_s3):
    """The golden tables, created through the gateway as the browser creates them."""
    golden = json.loads(GOLDEN.read_text())
    direct_s3.create_bucket(Bucket=BUCKET)
    put_sales(direct_s3, BUCKET, "orders/")
    direct_s3.put_object(Bucket=BUCKET, Key="customers/customers.csv", Body=CUSTOMERS)
    glue = gateway_client(register_server, "glue")
    databases = {plan["database"] for plan in golden["plans"]}
    for database in databases:
        glue.create_database(DatabaseInput={"Name": database})
    for plan, table, batches in zip(golden["plans"], golden["tables"], golden["partitions"]):
        glue.create_table(DatabaseName=plan["database"], TableInput=table)
        for batch in batches:
            answer = glue.batch_create_partition(
                DatabaseName=plan["database"], TableName=plan["name"], PartitionInputList=batch
            )
            assert answer.get("Errors", []) == []
    return golden


def test_the_draft_reads_the_schema_of_one_file_without_its_rows(register_server, direct_s3):
    direct_s3.create_bucket(Bucket="lake-register-drafts")
    put_sales(direct_s3, "lake-register-drafts", "orders/", years=(2025,), months=(1,))
    reply = requests.get(
        f"{register_server.url}smallfry/preview",
        params={
            "uri": "s3://lake-register-drafts/orders/year=2025/month=1/part-0.parquet",
            "rows": 0,
        },
        headers={"Authorization": f"token {register_server.token}"},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    # The types register.ts turns into bigint, double and string (see register.spec.ts).
    assert [(c["name"], c["type"]) for c in answer["schema"]] == [
        ("order_id", "int64"),
        ("amount", "double"),
        ("region", "string"),
    ]
    assert answer["rows"] == []


def test_a_registered_partitioned_parquet_table_reads_with_sf_table_and_sf_sql(
    registered, moto_url
):
    with kernel_environment(moto_url):
        df = sf.table("register_golden.orders", where={"year": 2025})
        assert len(df) == 100 and set(df["month"]) == {1, 2}
        assert df["amount"].sum() == 2 * 1275.0
        total = sf.sql(
            "SELECT year, sum(amount) AS total FROM register_golden.orders GROUP BY year "
            "ORDER BY year"
        )
        assert total.to_dict("records") == [
            {"year": 2024, "total": 2 * 1275.0},
            {"year": 2025, "total": 2 * 1275.0},
        ]


def test_a_registered_csv_table_skips_its_header_and_splits_on_its_delimiter(registered, moto_url):
    with kernel_environment(moto_url):
        df = sf.table("register_golden.customers")
    assert df["name"].tolist() == ["Ada", "Linus"]
    assert df["id"].tolist() == [1, 2]
    assert str(df["since"].iloc[0])[:10] == "2020-01-31"


def test_registering_a_taken_name_again_is_refused_by_glue(register_server, registered):
    glue = gateway_client(register_server, "glue")
    plan, table = registered["plans"][0], registered["tables"][0]
    with pytest.raises(glue.exceptions.AlreadyExistsException):
        glue.create_table(DatabaseName=plan["database"], TableInput=table)
