"""Lineage: the S3 objects a run read and wrote, in run.json, from real kernels and moto.

The notebooks use boto3 (get, put, copy, a multipart upload, download_file) and the kernel
library (``sf.read``/``sf.write``/``sf.sql``, which go through pyarrow's own S3 client); the
ETags recorded must be the ones S3 gives. s3fs (pandas' ``s3://``) is not installed here:
its aiobotocore clients get the same hooks (every botocore event emitter does), untested.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jupyterlab_smallfry.jobs.lineage import MAX_ENTRIES, LineageFile, kernel_setup, summarise
from jupyterlab_smallfry.jobs.runner import run_spec
from jupyterlab_smallfry.jobs.snapshot import take_snapshot

from .jobs_support import cell_text, notebook, read_json, s3_storage, spec_for
from .lake_support import kernel_environment
from .processes import TEST_ACCESS_KEY, TEST_SECRET_KEY

# The Unix account and Airflow-worker fixtures of the kernel-as-owner tests.
from .test_jobs_kernel_as_owner import (
    _owner_spec,
    account,  # noqa: F401
    user_python,  # noqa: F401
    worker,  # noqa: F401
)

pytestmark = pytest.mark.timeout(180)

#: The source tree, for kernels (the installed copy may be older than the code under test).
SOURCE = str(Path(__file__).resolve().parents[2])


def _line(op="read", bucket="b", key="k", etag="e", version_id=None, size=1) -> bytes:
    doc = {"op": op, "bucket": bucket, "key": key, "etag": etag, "version_id": version_id}
    return (json.dumps({**doc, "bytes": size}) + "\n").encode()


def test_repeats_are_merged_with_their_bytes_summed():
    data = _line(size=3) + _line(size=4) + _line(op="write", etag='"w"', size=None)
    assert summarise(data) == {
        "reads": [{"bucket": "b", "key": "k", "etag": "e", "version_id": None, "bytes": 7}],
        "writes": [{"bucket": "b", "key": "k", "etag": "w", "version_id": None, "bytes": None}],
        "truncated": False,
    }


def test_a_copys_source_without_etag_adds_nothing_to_a_known_read():
    data = _line(etag=None, size=None) + _line(size=5)
    assert summarise(data)["reads"] == [
        {"bucket": "b", "key": "k", "etag": "e", "version_id": None, "bytes": 5}
    ]


def test_at_most_a_thousand_objects_and_then_it_says_truncated():
    data = b"".join(_line(key=f"k{i}") for i in range(MAX_ENTRIES + 5))
    out = summarise(data)
    assert len(out["reads"]) == MAX_ENTRIES and out["truncated"] is True
    assert out["reads"][-1]["key"] == f"k{MAX_ENTRIES - 1}"  # the first ones seen are kept


@pytest.mark.parametrize(
    "junk",
    [
        b"not json\n",
        b"[1, 2]\n",
        json.dumps({"op": "delete", "bucket": "b", "key": "k"}).encode() + b"\n",
        _line(bucket=None),
        _line(key="x" * 1025),
        _line(key="a\nb"),
        _line(size=-1),
        _line(size="12"),
        _line(size=True),
        _line(etag=12),
        b"\xff\xfe\n",
        b"[" * 100000 + b"\n",
    ],
)
def test_what_the_notebook_scribbled_is_dropped_not_shown(junk):
    assert summarise(junk + _line(key="good")) == {
        "reads": [{"bucket": "b", "key": "good", "etag": "e", "version_id": None, "bytes": 1}],
        "writes": [],
        "truncated": False,
    }


def test_the_hooks_are_for_python_kernels_only():
    assert "install()" in kernel_setup("python")
    assert kernel_setup("R") is None and kernel_setup("julia") is None


def test_a_lineage_file_swapped_for_a_link_is_not_followed(tmp_path):
    secret = tmp_path / "runner-only.txt"
    secret.write_text(_line(key="from-the-runners-file").decode())
    handle = LineageFile()
    try:
        handle.create()
        handle.path.unlink()
        handle.path.symlink_to(secret)
        assert handle.collect() == {"reads": [], "writes": [], "truncated": True}
    finally:
        handle.remove()
    assert not handle.folder.exists()


# ---- real runs -------------------------------------------------------------------------


@pytest.fixture
def storage(moto_url):
    return s3_storage(moto_url)


def _kernel_env(moto_url) -> dict:
    """What a kernel of a Small Fry server has: keys and the S3 endpoint (moto here)."""
    return {
        "PYTHONPATH": SOURCE,
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def _run(storage, bucket, moto_url, nb: bytes, job="lineage"):
    uri, sha = take_snapshot(storage, nb, f"s3://{bucket}/snapshots/")
    spec = spec_for(job, uri, sha, f"s3://{bucket}/runs/")
    manifest = run_spec(spec, "r1", storage, kernel_env=_kernel_env(moto_url))
    return manifest, f"runs/alice/{job}/r1/"


def _etag(direct_s3, bucket, key) -> str:
    return direct_s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')


def _entry(direct_s3, bucket, key, size) -> dict:
    return {
        "bucket": bucket,
        "key": key,
        "etag": _etag(direct_s3, bucket, key),
        "version_id": None,
        "bytes": size,
    }


BOTO3_CELLS = (
    (
        "import boto3\n"
        "from boto3.s3.transfer import TransferConfig\n"
        "s3 = boto3.client('s3')\n"
        "print(s3.get_object(Bucket=BUCKET, Key='in/a.txt')['Body'].read())"
    ),
    # A second read of the same object, and one through a session made later.
    (
        "s3.get_object(Bucket=BUCKET, Key='in/a.txt')['Body'].read()\n"
        "boto3.session.Session().client('s3').download_file(BUCKET, 'in/b.csv', 'b.csv')"
    ),
    (
        "s3.put_object(Bucket=BUCKET, Key='out/put.txt', Body=b'12345')\n"
        "s3.copy_object(Bucket=BUCKET, Key='out/copy.txt', "
        "CopySource={'Bucket': BUCKET, 'Key': 'in/a.txt'})\n"
        "big = TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20)\n"
        "import io\n"
        "s3.upload_fileobj(io.BytesIO(b'x' * (6 * 2**20)), BUCKET, 'out/big.bin', Config=big)"
    ),
    # A failed call (no such key) records nothing.
    (
        "try:\n    s3.get_object(Bucket=BUCKET, Key='in/missing')\n"
        "except s3.exceptions.NoSuchKey:\n    print('missing, as expected')"
    ),
)


def test_boto3_reads_and_writes_are_recorded_with_s3s_etags(storage, direct_s3, bucket, moto_url):
    direct_s3.put_object(Bucket=bucket, Key="in/a.txt", Body=b"hello")
    direct_s3.put_object(Bucket=bucket, Key="in/b.csv", Body=b"a,b\n1,2\n")
    nb = notebook(f"BUCKET = {bucket!r}", *BOTO3_CELLS, parameters=None)
    manifest, folder = _run(storage, bucket, moto_url, nb)
    assert manifest["status"] == "success", manifest["error"]

    lineage = read_json(direct_s3, bucket, folder + "run.json")["lineage"]
    assert lineage == manifest["lineage"]
    assert lineage["reads"] == [
        _entry(direct_s3, bucket, "in/a.txt", 10),  # read twice: 5 + 5 bytes
        _entry(direct_s3, bucket, "in/b.csv", 8),
    ]
    assert lineage["writes"] == [
        _entry(direct_s3, bucket, "out/put.txt", 5),
        _entry(direct_s3, bucket, "out/copy.txt", None),
        # S3's reply to a multipart upload names the version even in a bucket without
        # versioning: "null", as it comes.
        {**_entry(direct_s3, bucket, "out/big.bin", 6 * 2**20), "version_id": "null"},
    ]
    assert _etag(direct_s3, bucket, "out/big.bin").endswith("-2")  # it was a multipart upload
    assert lineage["truncated"] is False


def test_the_hooks_leave_no_trace_in_the_notebook(storage, direct_s3, bucket, moto_url):
    nb = notebook(
        "print('first', [n for n in dir() if 'smallfry' in n.lower()])",
        "import os\nprint('FILE' if os.environ.get('SMALLFRY_LINEAGE_FILE') else 'NO FILE')",
    )
    manifest, folder = _run(storage, bucket, moto_url, nb, job="clean")
    assert manifest["status"] == "success"
    out = read_json(direct_s3, bucket, folder + "output.ipynb")
    code = [c for c in out["cells"] if c["cell_type"] == "code"]
    # papermill's numbering, as without the hooks: 1 (parameters), 2 (injected), 3, 4.
    assert [c["execution_count"] for c in code] == [1, 2, 3, 4]
    assert "first []" in cell_text(out) and "FILE" in cell_text(out)
    assert manifest["lineage"] == {"reads": [], "writes": [], "truncated": False}


def test_the_kernel_library_records_its_reads_and_writes(storage, direct_s3, bucket, moto_url):
    nb = notebook(
        f"BUCKET = {bucket!r}",
        "import smallfry as sf, pandas as pd\n"
        "sf.write(pd.DataFrame({'a': [1, 2, 3]}), f's3://{BUCKET}/lake/t.parquet')\n"
        "sf.write(pd.DataFrame({'a': [4]}), f's3://{BUCKET}/lake/u.csv')",
        "print('ROWS', len(sf.read(f's3://{BUCKET}/lake/t.parquet')))\n"
        "print('SUM', int(sf.sql(f\"SELECT sum(a) AS s FROM 's3://{BUCKET}/lake/u.csv'\")['s'][0]))",
        parameters=None,
    )
    manifest, folder = _run(storage, bucket, moto_url, nb, job="lake")
    assert manifest["status"] == "success", manifest["error"]
    assert "ROWS 3" in cell_text(read_json(direct_s3, bucket, folder + "output.ipynb"))

    lineage = manifest["lineage"]
    parquet = direct_s3.head_object(Bucket=bucket, Key="lake/t.parquet")["ContentLength"]
    csv = direct_s3.head_object(Bucket=bucket, Key="lake/u.csv")["ContentLength"]
    assert lineage["writes"] == [
        _entry(direct_s3, bucket, "lake/t.parquet", parquet),
        _entry(direct_s3, bucket, "lake/u.csv", csv),
    ]
    assert lineage["reads"] == [
        _entry(direct_s3, bucket, "lake/t.parquet", parquet),
        _entry(direct_s3, bucket, "lake/u.csv", csv),
    ]


def test_what_a_notebook_writes_into_the_lineage_file_is_checked(
    storage, direct_s3, bucket, moto_url
):
    # The notebook owns its kernel: it can write anything to the file; run.json keeps only
    # well-formed entries, and a link to another file is not followed.
    nb = notebook(
        "import os, json\np = os.environ['SMALLFRY_LINEAGE_FILE']\n"
        "with open(p, 'a') as f:\n"
        "    f.write('garbage\\n' + json.dumps({'op': 'read', 'bucket': 'b', 'key': 'x' * 5000}) + '\\n')\n"
        "    f.write(json.dumps({'op': 'write', 'bucket': 'made', 'key': 'up', 'bytes': 1}) + '\\n')",
        parameters=None,
    )
    manifest, _ = _run(storage, bucket, moto_url, nb, job="scribble")
    assert manifest["lineage"] == {
        "reads": [],
        "writes": [{"bucket": "made", "key": "up", "etag": None, "version_id": None, "bytes": 1}],
        "truncated": False,
    }
    swap = notebook(
        "import os\np = os.environ['SMALLFRY_LINEAGE_FILE']\nos.remove(p)\n"
        "os.symlink('/etc/passwd', p)",
        parameters=None,
    )
    manifest, folder = _run(storage, bucket, moto_url, swap, job="swap")
    assert manifest["lineage"] == {"reads": [], "writes": [], "truncated": True}
    assert "root:" not in json.dumps(read_json(direct_s3, bucket, folder + "run.json"))
    assert os.path.exists("/etc/passwd")


def test_sf_table_records_the_partitions_it_read_and_only_those(
    moto_url, direct_s3, bucket, monkeypatch, tmp_path
):
    # In this process rather than a kernel: a Glue table needs setting up with the same keys.
    from jupyterlab_smallfry import lake

    from .lake_support import PARQUET_TABLE, glue_partition, glue_table, put_sales

    folders = put_sales(direct_s3, bucket, "warehouse/orders/")
    lines = tmp_path / "lineage.jsonl"
    # Undone after the test: the other lake tests see the plain filesystem.
    monkeypatch.setenv("SMALLFRY_LINEAGE_FILE", str(lines))
    with kernel_environment(moto_url):
        glue = lake.aws().client("glue")
        database = bucket.replace("-", "_")
        descriptor = glue_table(
            glue,
            database,
            "orders",
            f"s3://{bucket}/warehouse/orders/",
            PARQUET_TABLE,
            [("order_id", "bigint"), ("amount", "double"), ("region", "string")],
            keys=[("year", "int"), ("month", "int")],
        )
        for folder in folders:
            year, month = (int(p.split("=")[1]) for p in folder.strip("/").split("/")[-2:])
            glue_partition(
                glue, database, "orders", descriptor, [year, month], f"s3://{bucket}/{folder}"
            )
        frame = lake.table(f"{database}.orders", where={"year": 2025, "month": 2})
    assert len(frame) == 50

    reads = summarise(lines.read_bytes())["reads"]
    keys = [f"warehouse/orders/year=2025/month=2/part-{n}.parquet" for n in (0, 1)]
    assert sorted(r["key"] for r in reads) == keys
    for entry in reads:
        head = direct_s3.head_object(Bucket=bucket, Key=entry["key"])
        assert entry["etag"] == head["ETag"].strip('"')
        assert entry["bytes"] == head["ContentLength"]


# ---- a kernel running as its owner's account (team platform) ------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="starts the kernel as another account: needs root")
@pytest.mark.timeout(900)
def test_a_kernel_running_as_its_owner_records_and_cannot_swap_the_file(
    account,  # noqa: F811
    worker,  # noqa: F811
    moto_url,
    direct_s3,
    bucket,
):
    nb = notebook(
        f"import boto3, os\ns3 = boto3.client('s3')\nBUCKET = {bucket!r}\n"
        "s3.put_object(Bucket=BUCKET, Key='owner/out.txt', Body=b'abc')\n"
        "s3.get_object(Bucket=BUCKET, Key='owner/out.txt')['Body'].read()",
        # The file is the owner's to append to, in a folder only the runner may change.
        "try:\n    os.remove(os.environ['SMALLFRY_LINEAGE_FILE'])\n"
        "except OSError as err:\n    print('SWAP=' + type(err).__name__)",
        parameters=None,
    )
    spec = _owner_spec(moto_url, bucket, "owned", nb)
    keys = {"AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY}
    manifest = run_spec(spec, "r1", s3_storage(moto_url), kernel_env=keys)

    assert manifest["status"] == "success", manifest["error"]
    out = read_json(direct_s3, bucket, "runs/sf-kernel-test/owned/r1/output.ipynb")
    assert "SWAP=PermissionError" in cell_text(out)
    entry = _entry(direct_s3, bucket, "owner/out.txt", 3)
    assert manifest["lineage"] == {"reads": [entry], "writes": [entry], "truncated": False}
