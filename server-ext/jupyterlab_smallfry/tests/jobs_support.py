"""Helpers for the job tests: real notebooks, specs, and reading runs back from S3."""

from __future__ import annotations

import json

import boto3
import nbformat
from botocore.config import Config

from jupyterlab_smallfry.jobs.store import Storage

from .processes import TEST_ACCESS_KEY, TEST_SECRET_KEY


def notebook(*cells: str, parameters: str | None = 'region = "US"\ndays = 7\nnote = ""') -> bytes:
    """A real notebook: an optional ``parameters``-tagged cell, then the given code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if parameters is not None:
        nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells.extend(nbformat.v4.new_code_cell(src) for src in cells)
    return nbformat.writes(nb).encode("utf-8")


REPORT = notebook(
    'print(f"REPORT region={region} doubled={days * 2}")',
    'print("NOTE=" + note)',
)
FAILING = notebook(
    'print("before the failure")', 'x = 41\nraise ValueError(f"boom {x + 1}")', 'print("never")'
)


def s3_storage(moto_url: str) -> Storage:
    def client():
        return boto3.client(
            "s3",
            endpoint_url=moto_url,
            region_name="us-east-1",
            aws_access_key_id=TEST_ACCESS_KEY,
            aws_secret_access_key=TEST_SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}),
        )

    return Storage(client)


def spec_for(job_id: str, notebook_uri: str, sha256: str, runs_uri: str, **extra) -> dict:
    spec = {
        "apiVersion": "smallfry/v1",
        "kind": "NotebookJob",
        "id": job_id,
        "owner": "alice",
        "notebook": {"uri": notebook_uri, "sha256": sha256, "kernel": "python3"},
        "parameters": {"region": "EU", "days": 21},
        "schedule": {"type": "manual"},
        "output": {"uri_template": runs_uri + "{owner}/{job_id}/{run_id}/"},
    }
    spec.update(extra)
    return spec


def read_json(s3, bucket: str, key: str) -> dict:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def cell_text(nb: dict) -> str:
    """All stream/text output of a notebook, joined."""
    out = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            text = o.get("text") or (o.get("data") or {}).get("text/plain") or ""
            out.append("".join(text) if isinstance(text, list) else text)
    return "".join(out)


def injected_source(nb: dict) -> str:
    cells = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(cells) == 1, "papermill injects exactly one parameters cell"
    src = cells[0]["source"]
    return "".join(src) if isinstance(src, list) else src
