"""``GET /smallfry/jobs/<id>/compare`` against a real Jupyter server, real papermill runs and a
real moto S3 server: the answer is nbdime's own diff of the two notebooks S3 holds."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
import requests
from nbdime import diff_notebooks, patch
from nbdime.diff_utils import to_diffentry_dicts

from ..jobs.compare import MAX_NOTEBOOK_BYTES
from .jobs_support import REPORT, read_json
from .processes import jupyter_server

pytestmark = pytest.mark.timeout(300)

BUCKET = "smallfry-jobs-compare"


@pytest.fixture(scope="module")
def alice(moto_url, direct_s3):
    direct_s3.create_bucket(Bucket=BUCKET)
    direct_s3.put_object(Bucket=BUCKET, Key="notebooks/report.ipynb", Body=REPORT)
    jobs_dir = Path(tempfile.mkdtemp(prefix="smallfry-compare-"))
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}",
        f"--SmallFry.sts_endpoint_url={moto_url}",
        f"--SmallFry.jobs_uri={jobs_dir}",
        f"--SmallFry.runs_uri=s3://{BUCKET}/runs/",
    ) as srv:
        session = requests.Session()
        session.headers["Authorization"] = f"token {srv.token}"
        session.base = srv.url + "smallfry/jobs"  # type: ignore[attr-defined]
        spec = {
            "id": "report",
            "notebook": {"source": f"s3://{BUCKET}/notebooks/report.ipynb"},
            "parameters": {"region": "EU", "days": 3},
            "schedule": {"type": "manual"},
        }
        created = session.post(session.base, json=spec)
        assert created.status_code == 201, created.text
        session.owner = created.json()["spec"]["owner"]  # type: ignore[attr-defined]
        yield session


def run(alice, direct_s3, parameters: dict) -> dict:
    r = alice.post(alice.base + "/report/run", json={"parameters": parameters})
    assert r.status_code == 202, r.text
    key = r.json()["run_uri"].split("/", 3)[3]
    deadline = time.monotonic() + 120
    manifest = read_json(direct_s3, BUCKET, key)
    while manifest["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)  # the run happens in another process; its manifest is the signal
        manifest = read_json(direct_s3, BUCKET, key)
    assert manifest["status"] == "success", manifest
    return manifest


@pytest.fixture(scope="module")
def two_runs(alice, direct_s3):
    return run(alice, direct_s3, {"region": "EU", "days": 3}), run(
        alice, direct_s3, {"region": "US", "days": 4}
    )


def s3_notebook(direct_s3, uri: str):
    key = uri.split("/", 3)[3]
    body = direct_s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return nbformat.reads(body.decode(), as_version=4)


def compare(alice, base: str, remote: str) -> requests.Response:
    return alice.get(alice.base + "/report/compare", params={"base": base, "remote": remote})


def test_two_runs_compare_as_nbdime_diffs_their_outputs(alice, two_runs, direct_s3):
    first, second = two_runs
    r = compare(alice, first["run_id"], second["run_id"])
    assert r.status_code == 200, r.text
    answer = r.json()
    base_nb = s3_notebook(direct_s3, first["output_uri"])
    remote_nb = s3_notebook(direct_s3, second["output_uri"])
    # Exactly what nbdime's /api/diff would answer for these two files.
    assert answer["base"] == json.loads(json.dumps(base_nb))
    assert answer["diff"] == json.loads(json.dumps(diff_notebooks(base_nb, remote_nb)))
    assert answer["parameters"] == {
        "base": {"region": "EU", "days": 3},
        "remote": {"region": "US", "days": 4},
    }
    assert answer["manifests"]["base"]["run_id"] == first["run_id"]
    assert answer["manifests"]["remote"]["run_id"] == second["run_id"]
    # What a user sees: the diff turns the first run's notebook into the second's, and it
    # touches the injected parameters' source and the report's output, cell by cell.
    patched = patch(answer["base"], to_diffentry_dicts(answer["diff"]))
    assert patched == json.loads(json.dumps(remote_nb))
    cells = next(d for d in answer["diff"] if d["key"] == "cells")["diff"]
    changed = {c["key"]: {d["key"] for d in c["diff"]} for c in cells if c["op"] == "patch"}
    injected = next(
        i
        for i, c in enumerate(base_nb.cells)
        if "injected-parameters" in c.metadata.get("tags", [])
    )
    report = next(i for i, c in enumerate(base_nb.cells) if "REPORT" in c.source)
    assert "source" in changed[injected]
    assert "outputs" in changed[report]


def test_a_run_compares_with_the_jobs_notebook(alice, two_runs, direct_s3):
    first, _second = two_runs
    r = compare(alice, first["run_id"], "notebook")
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["manifests"]["remote"] is None
    assert answer["parameters"]["remote"] == {"region": "EU", "days": 3}
    job = alice.get(alice.base + "/report").json()["spec"]
    snapshot = s3_notebook(direct_s3, job["notebook"]["uri"])
    base_nb = s3_notebook(direct_s3, first["output_uri"])
    assert answer["diff"] == json.loads(json.dumps(diff_notebooks(base_nb, snapshot)))
    # The snapshot has no injected cell and no outputs: the diff removes them.
    assert any(d["key"] == "cells" for d in answer["diff"])


def test_an_output_over_the_limit_is_refused_with_413(alice, two_runs, direct_s3):
    folder = f"runs/{alice.owner}/report/scheduled__huge/"
    manifest = {"run_id": "scheduled__huge", "status": "success", "parameters": {}}
    direct_s3.put_object(Bucket=BUCKET, Key=folder + "run.json", Body=json.dumps(manifest))
    direct_s3.put_object(
        Bucket=BUCKET, Key=folder + "output.ipynb", Body=b" " * (MAX_NOTEBOOK_BYTES + 1)
    )
    r = compare(alice, "scheduled__huge", two_runs[0]["run_id"])
    assert r.status_code == 413
    assert "20 MiB" in r.json()["message"]


def test_a_run_without_output_or_with_a_broken_one_says_so(alice, two_runs, direct_s3):
    folder = f"runs/{alice.owner}/report/"
    for rid in ("scheduled__queued", "scheduled__broken"):
        body = json.dumps({"run_id": rid, "status": "queued", "parameters": {}})
        direct_s3.put_object(Bucket=BUCKET, Key=f"{folder}{rid}/run.json", Body=body)
    direct_s3.put_object(
        Bucket=BUCKET, Key=f"{folder}scheduled__broken/output.ipynb", Body=b"not json"
    )
    other = two_runs[0]["run_id"]
    r = compare(alice, "scheduled__queued", other)
    assert r.status_code == 404 and "may not have started" in r.json()["message"]
    r = compare(alice, other, "scheduled__broken")
    assert r.status_code == 422 and "not a notebook" in r.json()["message"]
    assert compare(alice, "scheduled__none", other).status_code == 404
    missing = alice.get(alice.base + "/report/compare", params={"base": other})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "remote"
