"""``sf.read`` / ``sf.write`` against a real moto S3 server, with files pyarrow wrote.

The library runs in this process with the environment a demo kernel has (keys and
``AWS_ENDPOINT_URL`` in variables); one test gives it the managed profile's config file
instead, to show the S3 endpoint is learned from there too.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import io
import sys
import zoneinfo

import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

import smallfry as sf
from jupyterlab_smallfry import lake

from ..credentials.kernels import KernelProfile
from .lake_support import (
    ODD_ROW_GROUP,
    ODD_ROWS,
    kernel_environment,
    odd_table,
    parquet_bytes,
    put_sales,
)

BUCKET = "lake-io-tests"


@pytest.fixture(scope="module")
def s3(moto_url, direct_s3):
    """The bucket, seeded once; the library sees the environment of a demo kernel."""
    direct_s3.create_bucket(Bucket=BUCKET)
    direct_s3.put_object(
        Bucket=BUCKET, Key="odd/odd.parquet", Body=parquet_bytes(odd_table(), ODD_ROW_GROUP)
    )
    put_sales(direct_s3, BUCKET, "sales/")
    direct_s3.put_object(Bucket=BUCKET, Key="broken/data.parquet", Body=b"PAR1 not really" * 9)
    with kernel_environment(moto_url):
        yield direct_s3


def test_odd_parquet_types_read_as_written(s3):
    raw = s3.get_object(Bucket=BUCKET, Key="odd/odd.parquet")["Body"].read()
    assert pq.ParquetFile(io.BytesIO(raw)).num_row_groups == ODD_ROWS // ODD_ROW_GROUP  # several

    df = sf.read(f"s3://{BUCKET}/odd/odd.parquet")

    assert len(df) == ODD_ROWS and list(df.columns) == [
        "id",
        "at",
        "amount",
        "tags",
        "attrs",
        "note",
    ]
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    # Row 5 is 03:00 UTC on the day clocks go forward in Paris: 05:00 local, not 04:00.
    assert df["at"][5].to_pydatetime() == dt.datetime(2025, 3, 30, 5, 0, tzinfo=paris)
    assert str(df["at"].dt.tz) == "Europe/Paris"
    assert df["amount"][1] == decimal.Decimal("0.01")
    assert list(df["tags"][1]) == ["t1", "x"]
    assert list(df["attrs"][8]) == [("k", 8)]
    nulls = df[df["id"] % 7 == 0]
    assert nulls[["amount", "tags", "attrs", "note"]].isna().all().all()
    assert df["note"].isna().sum() == len(nulls)


def test_columns_reads_only_those(s3):
    df = sf.read(f"s3://{BUCKET}/odd/odd.parquet", columns=["note", "id"])
    assert list(df.columns) == ["note", "id"] and len(df) == ODD_ROWS


def test_a_partitioned_folder_reads_as_one_table(s3):
    df = sf.read(f"s3://{BUCKET}/sales/")  # _SUCCESS is skipped, as Spark and Hive do
    assert len(df) == 2 * 2 * 50
    sums = df.groupby(["year", "month"])["amount"].sum().to_dict()
    assert sums == {(y, m): 1275.0 for y in (2024, 2025) for m in (1, 2)}

    only_2025 = sf.read(f"s3://{BUCKET}/sales", filters=[("year", "=", 2025)])
    assert sorted(only_2025["year"].unique()) == [2025] and len(only_2025) == 100


def test_polars_engine_returns_a_polars_frame(s3):
    df = sf.read(f"s3://{BUCKET}/sales/", engine="polars")
    assert isinstance(df, pl.DataFrame) and df.height == 200
    sf.write(pd.DataFrame({"a": [1, 2]}), f"s3://{BUCKET}/polars/a.csv")
    csv = sf.read(f"s3://{BUCKET}/polars/a.csv", engine="polars")
    assert isinstance(csv, pl.DataFrame) and csv["a"].to_list() == [1, 2]


FRAME = pd.DataFrame(
    {"city": ["Lyon", "Zürich", None], "n": [1, 2, 3], "share": [0.5, 0.25, 0.125]}
)


@pytest.mark.parametrize(
    ("name", "looks_like"),
    [
        ("t.parquet", lambda b: b[:4] == b"PAR1"),
        ("t.csv", lambda b: b.startswith(b"city,n,share\nLyon,1,0.5")),
        ("t.csv.gz", lambda b: gzip.decompress(b).startswith(b"city,n,share\n")),
        ("t.tsv", lambda b: b.startswith(b"city\tn\tshare\n")),
        ("t.jsonl", lambda b: b.startswith(b'{"city":"Lyon","n":1,"share":0.5}\n')),
        ("t.jsonl.gz", lambda b: gzip.decompress(b).count(b"\n") == 3),
        ("t.json", lambda b: b.startswith(b'[{"city":"Lyon"')),
        ("t.xlsx", lambda b: b[:2] == b"PK"),
    ],
)
def test_write_then_read_each_format(s3, name, looks_like):
    uri = f"s3://{BUCKET}/formats/{name}"
    assert sf.write(FRAME, uri) == uri
    stored = s3.get_object(Bucket=BUCKET, Key=f"formats/{name}")["Body"].read()
    assert looks_like(stored), stored[:80]
    back = sf.read(uri)
    assert back["n"].tolist() == [1, 2, 3] and back["share"].tolist() == [0.5, 0.25, 0.125]
    assert back["city"].tolist()[:2] == ["Lyon", "Zürich"] and pd.isna(back["city"][2])


def test_reader_keywords_reach_pandas(s3):
    s3.put_object(Bucket=BUCKET, Key="kw/semi.csv", Body=b"a;b\n1;x\n2;y\n")
    df = sf.read(f"s3://{BUCKET}/kw/semi.csv", sep=";", dtype={"a": "float64"})
    assert df["a"].tolist() == [1.0, 2.0] and df["b"].tolist() == ["x", "y"]


def test_write_partitioned_parquet(s3):
    frame = pd.DataFrame({"year": [2024, 2025, 2025], "v": [1, 2, 3]})
    sf.write(frame, f"s3://{BUCKET}/parts/", partition_cols=["year"])
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="parts/")["Contents"]]
    assert {k.split("/")[1] for k in keys if k.endswith(".parquet")} == {"year=2024", "year=2025"}
    back = sf.read(f"s3://{BUCKET}/parts/")
    assert back.groupby("year")["v"].sum().to_dict() == {2024: 1, 2025: 5}


def test_clear_errors(s3):
    with pytest.raises(FileNotFoundError, match=f"s3://{BUCKET}/nope.csv: no such object"):
        sf.read(f"s3://{BUCKET}/nope.csv")
    with pytest.raises(sf.NotFound, match="no such object or folder"):
        sf.read("s3://no-such-bucket-here/x.parquet")
    with pytest.raises(sf.BrokenFile, match=f"s3://{BUCKET}/broken/data.parquet could not be read"):
        sf.read(f"s3://{BUCKET}/broken/data.parquet")
    s3.put_object(Bucket=BUCKET, Key="odd/readme", Body=b"hello")
    with pytest.raises(sf.LakeError, match="pass format='parquet'"):
        sf.read(f"s3://{BUCKET}/odd/readme")
    with pytest.raises(sf.LakeError, match="only s3:// URIs and local paths"):
        sf.read("https://example.com/x.csv")
    with pytest.raises(sf.LakeError, match="engine='spark'"):
        sf.read(f"s3://{BUCKET}/odd/odd.parquet", engine="spark")


def test_missing_packages_are_named_with_their_pip_requirement(s3, monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'polars'"):
        sf.read(f"s3://{BUCKET}/odd/odd.parquet", engine="polars")
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(sf.MissingPackage, match=r"Excel files needs .* pip install 'openpyxl'"):
        sf.read(f"s3://{BUCKET}/formats/t.xlsx")


def test_the_s3_endpoint_comes_from_the_managed_profile(s3, moto_url, tmp_path, monkeypatch):
    """A kernel of a server with c.SmallFry.endpoint_url has the endpoint only in the managed
    profile's ``services`` section; botocore's resolution finds it there."""
    config = tmp_path / "aws-config"
    # The profile's text as the server writes it; the keys stay in this process's variables
    # (they win over credential_process), so no server is needed to answer the helper.
    config.write_text(KernelProfile(str(tmp_path)).config_text("us-east-1", moto_url))
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "smallfry")
    lake.reset()
    try:
        assert lake.aws().endpoint("s3") == moto_url
        assert lake.aws().endpoint("glue") == ""  # AWS's own: the profile names only S3
        assert len(sf.read(f"s3://{BUCKET}/sales/year=2024/")) == 100
    finally:
        lake.reset()


def test_here_and_params_say_what_is_wrong(s3, monkeypatch):
    monkeypatch.setenv("SMALLFRY_NOTEBOOK_URI", f"s3://{BUCKET}/sales/year=2024/nb.ipynb")
    assert sf.here() == f"s3://{BUCKET}/sales/year=2024/"
    assert len(sf.read(sf.here())) == 100
    monkeypatch.delenv("SMALLFRY_NOTEBOOK_URI")
    with pytest.raises(sf.NotOnS3, match="not stored on S3.*restart the kernel"):
        sf.here()
    assert sf.params == {}
    monkeypatch.setenv("SMALLFRY_PARAMETERS", '{"region": "north", "limit": 5}')
    assert sf.params == {"region": "north", "limit": 5}
    monkeypatch.setenv("SMALLFRY_PARAMETERS", "region=north")
    with pytest.raises(sf.LakeError, match=r"\$SMALLFRY_PARAMETERS is not valid JSON"):
        _ = sf.params
