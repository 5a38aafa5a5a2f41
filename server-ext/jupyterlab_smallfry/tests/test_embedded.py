"""The embedded default: a local S3 server with the demo bucket, started and stopped with Jupyter."""

from __future__ import annotations

import json
import time

import psutil

from .conftest import gateway_client
from .processes import jupyter_server


def _children(pid: int) -> list[psutil.Process]:
    return [
        p
        for p in psutil.Process(pid).children(recursive=True)
        if "embedded.child" in " ".join(p.cmdline())
    ]


def test_embedded_demo_bucket_is_seeded_and_browsable():
    with jupyter_server(
        "--SmallFry.embedded=True", env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    ) as srv:
        s3 = gateway_client(srv, "s3")
        top = s3.list_objects_v2(Bucket="smallfry-demo", Delimiter="/")
        assert {c["Prefix"] for c in top["CommonPrefixes"]} >= {"notebooks/", "data/", "exports/"}
        notebooks = [
            o["Key"]
            for o in s3.list_objects_v2(Bucket="smallfry-demo", Prefix="notebooks/")["Contents"]
        ]
        assert "notebooks/sales-report.ipynb" in notebooks
        nb = json.loads(
            s3.get_object(Bucket="smallfry-demo", Key="notebooks/sales-report.ipynb")["Body"].read()
        )
        tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
        assert len(tagged) == 1 and "region" in "".join(tagged[0]["source"])
        # folders written by other tools: no marker objects, extension-less files
        exports = s3.list_objects_v2(Bucket="smallfry-demo", Prefix="exports/daily/2026-11-23/")
        assert {o["Key"].rsplit("/", 1)[1] for o in exports["Contents"]} == {
            "_SUCCESS",
            "part-00000",
        }
        children = _children(srv.proc.pid)
        assert len(children) == 1
    # the server was stopped: its S3 process must not outlive it
    deadline = time.monotonic() + 10
    while (
        children[0].is_running()
        and children[0].status() != psutil.STATUS_ZOMBIE
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert not children[0].is_running() or children[0].status() == psutil.STATUS_ZOMBIE


def test_embedded_server_dies_with_a_killed_jupyter():
    with jupyter_server("--SmallFry.embedded=True") as srv:
        child = _children(srv.proc.pid)[0]
        srv.proc.kill()  # no clean shutdown, no atexit
        srv.proc.wait()
        child.wait(timeout=15)
        assert not child.is_running()
