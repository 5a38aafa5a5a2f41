"""``GET /smallfry/preview`` against a real Jupyter server and a real moto S3.

The files are written by pyarrow (or by hand, for text) and put into moto with boto3
straight, so the preview reads bytes that never went through Small Fry. ``bytes_read`` is
counted on the file object pyarrow reads from, so a test of it checks what came from S3.
"""

from __future__ import annotations

import gzip
import io
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

from .lake_support import ODD_ROW_GROUP, ODD_ROWS, odd_table, parquet_bytes


def _preview(http, server, **query):
    return http.get(f"{server.url}smallfry/preview", params=query, timeout=120)


@pytest.fixture
def put(direct_s3, bucket):
    """Put bytes at a key of the test's bucket; returns the object's s3:// URI."""

    def put(key: str, data: bytes) -> str:
        direct_s3.put_object(Bucket=bucket, Key=key, Body=data)
        return f"s3://{bucket}/{key}"

    return put


def test_parquet_odd_types_schema_stats_and_rows(http, server, put):
    uri = put("data/odd.parquet", parquet_bytes(odd_table(), row_group_size=ODD_ROW_GROUP))
    answer = _preview(http, server, uri=uri, rows=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["uri"] == uri and body["format"] == "parquet"
    assert body["num_rows"] == ODD_ROWS and body["truncated"] is True
    assert body["row_groups"] == {"count": ODD_ROWS // ODD_ROW_GROUP, "read": 1}
    types = {field["name"]: field["type"] for field in body["schema"]}
    assert types["at"] == "timestamp[us, tz=Europe/Paris]"
    assert types["amount"] == "decimal128(12, 2)"
    assert types["tags"] == "list<element: string>"
    assert types["attrs"].startswith("map<string, int32")
    rows = body["rows"]
    assert len(rows) == 10
    names = [field["name"] for field in body["schema"]]
    first, second = dict(zip(names, rows[0])), dict(zip(names, rows[1]))
    # Row 0 is a null row (every 7th); row 1 has every odd type.
    assert first["amount"] is None and first["tags"] is None and first["attrs"] is None
    assert first["at"] == "2025-03-30T01:30:00+01:00"  # zoned, ISO, before the DST change
    assert second["at"] == "2025-03-30T03:00:00+02:00"  # and after it
    assert second["amount"] == "0.01"
    assert second["tags"] == '["t1", "x"]'
    assert second["attrs"] == '{"k": 1}'
    stats = body["statistics"]
    assert stats["id"] == {"min": 0, "max": ODD_ROWS - 1, "null_count": 0}
    assert stats["amount"]["null_count"] == len(range(0, ODD_ROWS, 7))
    assert stats["amount"]["min"] == "0.01"
    # A small file: the 64 KiB footer read and the row group overlap, so no bound here.
    assert body["bytes_read"] > 0 and body["requests"] >= 2


def test_rows_span_row_groups(http, server, put):
    uri = put("odd.parquet", parquet_bytes(odd_table(), row_group_size=ODD_ROW_GROUP))
    body = _preview(http, server, uri=uri, rows=1500).json()
    assert len(body["rows"]) == 1500 and body["row_groups"]["read"] == 2
    assert body["rows"][-1][0] == 1499


def test_wide_table_answers_fewer_rows_not_megabytes(http, server, put):
    table = pa.table({f"c{i:04d}": pa.array(range(500)) for i in range(1000)})
    uri = put("wide.parquet", parquet_bytes(table))
    answer = _preview(http, server, uri=uri)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["schema"]) == 1000 and body["schema"][-1]["name"] == "c0999"
    assert 0 < len(body["rows"]) <= 200 and len(body["rows"][0]) == 1000
    assert body["truncated"] is True and body["num_rows"] == 500
    assert len(body["statistics"]) == 1000


@pytest.mark.parametrize(
    ("rows_per_group", "groups"),
    # ~200 MB of incompressible numbers, written cheaply by repeating one row group:
    # many 1 MiB row groups (read whole), or one huge one (read page by page).
    [(65_536, 200), (13_107_200, 1)],
    ids=["many-small-row-groups", "one-huge-row-group"],
)
def test_large_object_reads_under_one_percent(http, server, put, rows_per_group, groups):
    group = pa.table(
        {
            "n": pa.array(range(rows_per_group), pa.int64()),
            "r": pa.array(memoryview(os.urandom(8 * rows_per_group)).cast("q"), pa.int64()),
        }
    )
    out = io.BytesIO()
    with pq.ParquetWriter(out, group.schema, compression="none", use_dictionary=False) as writer:
        for _ in range(groups):
            writer.write_table(group)
    data = out.getvalue()
    del out, group
    uri = put("big.parquet", data)
    size = len(data)
    assert size > 200 * 1024 * 1024
    body = _preview(http, server, uri=uri).json()
    assert body["size"] == size and body["num_rows"] == rows_per_group * groups
    assert len(body["rows"]) == 1000 and body["row_groups"]["read"] == 1
    assert [row[0] for row in body["rows"][:3]] == [0, 1, 2]
    assert body["bytes_read"] < size / 100, body["bytes_read"]


def test_two_gigabyte_parquet_reads_under_one_percent(http, server):
    # The bound on a 2 GB object, kept cheap: a local file (the same reader as for
    # S3, through the local-file source) of one 1 MiB row group of random numbers repeated
    # until it passes 2 GB. The S3 path is held to the bound by the test above.
    rows = 65_536
    group = pa.table(
        {
            "n": pa.array(range(rows), pa.int64()),
            "r": pa.array(memoryview(os.urandom(8 * rows)).cast("q"), pa.int64()),
        }
    )
    folder = os.path.join(_root(server), "local")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "two-gb.parquet")
    try:
        with pq.ParquetWriter(path, group.schema, compression="none", use_dictionary=False) as w:
            while not os.path.exists(path) or os.path.getsize(path) < 2 * 10**9:
                w.write_table(group)
        size = os.path.getsize(path)
        body = _preview(http, server, path="local/two-gb.parquet").json()
        assert body["size"] == size and len(body["rows"]) == 1000
        assert [row[0] for row in body["rows"][:3]] == [0, 1, 2]
        assert body["num_rows"] % rows == 0 and body["num_rows"] >= size // (9 * rows)
        assert body["bytes_read"] < size / 100, body["bytes_read"]
    finally:
        os.remove(path)


def test_broken_parquet_is_a_clear_error(http, server, put):
    data = parquet_bytes(odd_table(100))
    uri = put("broken.parquet", data[: len(data) // 2] + b"garbage" + data[-8:])
    answer = _preview(http, server, uri=uri)
    assert answer.status_code == 422
    body = answer.json()
    assert "broken.parquet could not be read as PARQUET" in body["message"]
    assert body["errors"][0]["message"] == body["message"]


def test_not_parquet_at_all(http, server, put):
    uri = put("text.parquet", b"just some text\n")
    answer = _preview(http, server, uri=uri)
    assert answer.status_code == 422 and "PARQUET" in answer.json()["message"]


@pytest.mark.parametrize(
    ("key", "data", "delimiter"),
    [
        ("t/a.csv", b'id,name,when\n1,ann,2025-01-02\n2,"bob, jr",\n', ","),
        ("t/a.tsv", b"id\tname\twhen\n1\tann\t2025-01-02\n2\tbob, jr\t\n", "\t"),
        ("t/semi.csv", b"id;name;when\n1;ann;2025-01-02\n2;bob, jr;\n", ";"),
        (
            "t/a.csv.gz",
            gzip.compress(b'id,name,when\n1,ann,2025-01-02\n2,"bob, jr",\n'),
            ",",
        ),
    ],
)
def test_delimited_text(http, server, put, key, data, delimiter):
    body = _preview(http, server, uri=put(key, data)).json()
    assert body["delimiter"] == delimiter
    assert [f["name"] for f in body["schema"]] == ["id", "name", "when"]
    assert body["schema"][2]["type"] == "date32[day]"
    assert body["rows"] == [[1, "ann", "2025-01-02"], [2, "bob, jr", None]]
    assert body["num_rows"] == 2 and body["truncated"] is False
    assert body["bytes_read"] == len(data)


def test_json_lines(http, server, put):
    data = b'{"a": 1, "b": [1, 2], "c": null}\n{"a": 2, "b": null, "c": "x"}\n'
    body = _preview(http, server, uri=put("t/a.jsonl", data)).json()
    assert body["format"] == "jsonl"
    assert body["rows"] == [[1, "[1, 2]", None], [2, None, "x"]]


def test_big_gzip_csv_is_streamed_and_stopped(http, server, put):
    text = "".join(f"{i},{os.urandom(16).hex()}\n" for i in range(400_000)).encode()
    data = gzip.compress(b"n,hex\n" + text, compresslevel=1)
    body = _preview(http, server, uri=put("t/big.csv.gz", data), rows=5).json()
    assert body["rows"][0][0] == 0 and len(body["rows"]) == 5
    assert body["truncated"] is True and body["num_rows"] is None
    assert body["bytes_read"] < len(data) / 4


def test_huge_csv_line_is_a_clear_error(http, server, put):
    uri = put("t/oneline.csv", b"a," + b"x" * (3 * 1024 * 1024) + b"\n")
    answer = _preview(http, server, uri=uri)
    assert answer.status_code == 422
    assert "no line ends in the first 1024 KiB" in answer.json()["message"]


def test_missing_object_unsupported_and_bad_queries(http, server, put, bucket):
    missing = _preview(http, server, uri=f"s3://{bucket}/nope.parquet")
    assert missing.status_code == 404
    assert missing.json()["message"] == f"s3://{bucket}/nope.parquet: no such object (NoSuchKey)"
    unsupported = _preview(http, server, uri=put("a.xlsx", b"PK"))
    assert unsupported.status_code == 415 and ".parquet" in unsupported.json()["message"]
    assert _preview(http, server, uri="https://example.com/a.csv").status_code == 400
    assert _preview(http, server, uri=put("b.csv", b"a\n1\n"), rows="lots").status_code == 400
    assert _preview(http, server).status_code == 400


def test_unauthenticated_is_refused(server, put):
    uri = put("secret.csv", b"a\n1\n")
    answer = requests.get(f"{server.url}smallfry/preview", params={"uri": uri}, timeout=30)
    assert answer.status_code == 403
    assert "1" not in answer.text.split("message")[0]


def _root(server) -> str:
    return os.readlink(f"/proc/{server.proc.pid}/cwd")


def test_local_file_and_escapes(http, server, tmp_path):
    root = _root(server)
    os.makedirs(os.path.join(root, "local"), exist_ok=True)
    pq.write_table(odd_table(50), os.path.join(root, "local", "odd.parquet"))
    body = _preview(http, server, path="local/odd.parquet").json()
    assert body["path"] == "local/odd.parquet" and body["uri"] is None
    assert body["num_rows"] == 50 and len(body["rows"]) == 50

    outside = tmp_path / "outside.csv"
    outside.write_text("secret\n42\n")
    link = os.path.join(root, "local", "link.csv")
    if not os.path.lexists(link):
        os.symlink(outside, link)
    for path in ("../" + outside.name, "local/../../x.csv", "local/link.csv"):
        answer = _preview(http, server, path=path)
        assert answer.status_code == 403, (path, answer.text)
        assert "42" not in answer.text
    assert _preview(http, server, path="local/none.csv").status_code == 404
