"""The *Copy code* / *Insert into notebook* snippets run as-is.

The front end generates them (``src/snippets/generate.ts``); its jest spec checks the
generator against the golden file ``src/snippets/__tests__/snippets.json``. Here every
snippet of that file runs in a fresh Python process with a demo kernel's environment, against
moto (S3 and Glue) and a SQLite named connection, and must give what a user sees in the cell's
output: a DataFrame (pandas or polars) of the rows written, the table's location, the bytes.
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import requests

from jupyterlab_smallfry import lake

from .lake_support import PARQUET_TABLE, glue_table, kernel_environment, parquet_bytes
from .processes import jupyter_server

GOLDEN = Path(__file__).resolve().parents[3] / "src" / "snippets" / "__tests__" / "snippets.json"
BUCKET = "snippets-tests"
#: Five rows, so ``df.head()``, ``LIMIT 100`` and ``slice(0, 5)`` all show every one.
FRAME = pd.DataFrame({"order_id": [1, 2, 3, 4, 5], "amount": [1.5, 2.5, 3.5, 4.5, 5.5]})

#: Runs each snippet as a notebook cell would (the last expression is the output) and
#: describes that output as JSON.
RUNNER = r"""
import ast, json, sys

def describe(value):
    kind = f"{type(value).__module__.split('.')[0]}.{type(value).__name__}"
    if hasattr(value, "columns") and hasattr(value, "shape"):
        rows = value.head(1).to_dicts() if hasattr(value, "to_dicts") else (
            value.head(1).to_dict("records"))
        first = {str(k): (v.item() if hasattr(v, "item") else v) for k, v in rows[0].items()}
        return {"kind": kind, "rows": value.shape[0], "columns": [str(c) for c in value.columns],
                "first": first}
    return {"kind": kind, "value": value}

results = []
for case in json.load(sys.stdin):
    tree = ast.parse(case["code"])
    last = tree.body.pop() if isinstance(tree.body[-1], ast.Expr) else None
    scope = {}
    try:
        exec(compile(tree, "<cell>", "exec"), scope)
        value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), scope)
        results.append(describe(value))
    except Exception as err:
        results.append({"error": f"{type(err).__name__}: {err}"})
print(json.dumps(results, default=str))
"""


def _objects() -> dict[str, bytes]:
    csv = FRAME.to_csv(index=False).encode()
    return {
        "data/sales.parquet": parquet_bytes(pa.Table.from_pandas(FRAME)),
        "data/sales.csv": csv,
        "data/sales.tsv.gz": gzip.compress(FRAME.to_csv(index=False, sep="\t").encode()),
        "data/sales.jsonl": FRAME.to_json(orient="records", lines=True).encode(),
        'odd/it\'s "q" \\ ünï cødé 表.parquet': parquet_bytes(pa.Table.from_pandas(FRAME)),
        "odd/star*[1] it's.csv": csv,
        "odd/notes.bin": b"12345",
        "table/part-0.parquet": parquet_bytes(pa.Table.from_pandas(FRAME)),
    }


@pytest.fixture(scope="module")
def results(moto_url, direct_s3):
    """Every golden snippet's output, all run in one fresh Python process."""
    direct_s3.create_bucket(Bucket=BUCKET)
    for key, body in _objects().items():
        direct_s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    db = Path(tempfile.mkdtemp(prefix="smallfry-snippets-")) / "local.db"
    sqlite3.connect(db).close()
    cases = json.loads(GOLDEN.read_text())
    connections = json.dumps({"local": {"url": f"sqlite:///{db}"}})
    with kernel_environment(moto_url, SMALLFRY_CONNECTIONS=connections):
        glue_table(
            lake.aws().client("glue"),
            "snippets_db",
            "sales",
            f"s3://{BUCKET}/table/",
            PARQUET_TABLE,
            [("order_id", "bigint"), ("amount", "double")],
        )
        done = subprocess.run(
            [sys.executable, "-c", RUNNER],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=600,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    return list(zip(cases, json.loads(done.stdout), strict=True))


def _ids(cases):
    return [f"{c['target']['kind']}-{c['dialect']}" for c in cases]


def test_golden_file_covers_every_dialect_and_target():
    cases = json.loads(GOLDEN.read_text())
    dialects = {c["dialect"] for c in cases}
    assert dialects == {"pandas", "polars", "duckdb", "pyarrow", "boto3"}
    assert {c["target"]["kind"] for c in cases} == {"object", "table", "connection"}


def test_object_snippets_read_the_rows_written(results):
    for case, out in results:
        target = case["target"]
        if target["kind"] != "object":
            continue
        where = f"{case['dialect']} {target['uri']}"
        assert "error" not in out, f"{where}: {out.get('error')}\n{case['code']}"
        if target["uri"].endswith(".bin"):
            # No reader knows the format: boto3 gives the bytes, sf.read says so clearly.
            assert out == {"kind": "builtins.int", "value": 5}, where
            continue
        assert out["kind"] in ("pandas.DataFrame", "polars.DataFrame"), where
        assert out["rows"] == 5 and out["columns"] == ["order_id", "amount"], where
        assert out["first"] == {"order_id": 1, "amount": 1.5}, where
        if case["dialect"] == "polars":
            assert out["kind"] == "polars.DataFrame", where


def test_table_snippets_read_the_catalog_table(results):
    for case, out in results:
        if case["target"]["kind"] != "table":
            continue
        where = case["dialect"]
        assert "error" not in out, f"{where}: {out.get('error')}\n{case['code']}"
        if case["dialect"] == "boto3":
            assert out == {"kind": "builtins.str", "value": f"s3://{BUCKET}/table/"}
            continue
        assert out["rows"] == 5 and out["first"] == {"order_id": 1, "amount": 1.5}, where


def test_connection_snippets_query_the_named_connection(results):
    for case, out in results:
        if case["target"]["kind"] != "connection":
            continue
        where = case["dialect"]
        assert "error" not in out, f"{where}: {out.get('error')}\n{case['code']}"
        assert out["rows"] == 1 and out["first"] == {"ok": 1}, where


def test_config_names_the_connections_and_nothing_else_of_them(moto_url):
    url = "postgresql+psycopg://reader@db.internal.example:5432/sales"
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:warehouse-pw"
    defined = {"warehouse": {"url": url, "password_secret": arn}, "archive": {"url": "sqlite://"}}
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}",
        f"--SmallFry.connections={json.dumps(defined)}",
    ) as srv:
        response = requests.get(
            f"{srv.url}smallfry/config", headers={"Authorization": f"token {srv.token}"}, timeout=30
        )
    assert response.status_code == 200
    assert response.json()["connections"] == ["archive", "warehouse"]
    for secret in (url, arn, "db.internal.example", "secretsmanager", "sqlite://"):
        assert secret not in response.text
