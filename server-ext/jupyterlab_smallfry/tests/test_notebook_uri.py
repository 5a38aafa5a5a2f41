"""A kernel started for a notebook in the S3 browser knows the notebook's s3:// URI."""

from __future__ import annotations

import pytest

from ..config import normalize_root
from ..notebook_uri import s3_uri_of
from .hub_kernel import run_in_kernel
from .processes import jupyter_server

PRINT_URI = "import os; print('uri', os.environ.get('SMALLFRY_NOTEBOOK_URI'))"


@pytest.fixture(scope="module")
def server(moto_url):
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}",
        "--SmallFry.roots=smallfry-test/reports/",
    ) as srv:
        yield srv


async def test_a_kernel_for_an_s3_notebook_gets_its_uri(server):
    result = await run_in_kernel(
        server.url,
        server.token,
        PRINT_URI,
        notebook="S3:smallfry-test \u203a reports/2026/weekly sales.ipynb",
    )
    assert result["error"] is None, result
    assert "uri s3://smallfry-test/reports/2026/weekly sales.ipynb" in result["stdout"]


async def test_a_local_notebook_kernel_gets_none(server):
    result = await run_in_kernel(server.url, server.token, PRINT_URI, notebook="local.ipynb")
    assert "uri None" in result["stdout"], result


@pytest.mark.parametrize(
    "path, expected",
    [
        ("S3:Reports/q1.ipynb", "s3://bucket-a/team/reports/q1.ipynb"),
        ("S3:other-bucket/x/y.ipynb", "s3://other-bucket/x/y.ipynb"),  # a listed bucket
        ("S3:Reports", None),  # a root itself is no object
        ("S3:", None),
        ("notebooks/x.ipynb", None),
        ("S3:Not A Bucket/x.ipynb", None),
    ],
)
def test_drive_paths_map_to_uris(path, expected):
    roots = [normalize_root({"bucket": "bucket-a", "prefix": "team/reports", "name": "Reports"})]
    assert s3_uri_of(path, roots, list_all_buckets=True) == expected
    if expected and "other-bucket" in expected:
        assert s3_uri_of(path, roots, list_all_buckets=False) is None
