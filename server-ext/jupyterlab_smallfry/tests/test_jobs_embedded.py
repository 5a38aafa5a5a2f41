"""The demo end to end: schedule the demo's sales report and "Run now" it, no cloud account."""

from __future__ import annotations

import getpass
import json
import tempfile
import time
from pathlib import Path

import pytest
import requests

from .conftest import gateway_client
from .jobs_support import cell_text, injected_source
from .processes import jupyter_server

pytestmark = pytest.mark.timeout(240)


def test_demo_schedules_and_runs_the_sales_report_into_the_demo_bucket():
    home = Path(tempfile.mkdtemp(prefix="smallfry-home-"))
    with jupyter_server("--SmallFry.embedded=True", env={"HOME": str(home)}) as srv:
        http = requests.Session()
        http.headers["Authorization"] = f"token {srv.token}"
        jobs = srv.url + "smallfry/jobs"
        r = http.post(
            jobs,
            json={
                "id": "sales",
                "title": "Daily sales report",
                "notebook": {"source": "s3://smallfry-demo/notebooks/sales-report.ipynb"},
                "parameters": {"region": "EMEA", "min_amount": 50.0},
                "schedule": {
                    "type": "cron",
                    "cron": "0 6 * * 1-5",
                    "timezone": "Europe/Amsterdam",
                    "start_date": "2026-11-25",
                },
            },
        )
        assert r.status_code == 201, r.text
        spec = r.json()["spec"]
        # Single-user server: the account running Jupyter owns the job; specs go to a local folder.
        owner = getpass.getuser()
        assert spec["owner"] == owner
        assert (home / ".local/share/smallfry/jobs" / owner / "sales.json").is_file()
        assert (
            spec["output"]["uri_template"] == "s3://smallfry-demo/runs/{owner}/{job_id}/{run_id}/"
        )

        run = http.post(jobs + "/sales/run").json()
        s3 = gateway_client(srv, "s3")
        key = run["run_uri"].split("/", 3)[3]
        deadline = time.monotonic() + 150
        manifest = {"status": "running"}
        while manifest["status"] == "running" and time.monotonic() < deadline:
            manifest = json.loads(s3.get_object(Bucket="smallfry-demo", Key=key)["Body"].read())
            if manifest["status"] == "running":
                time.sleep(0.5)  # the run is another process; its manifest is what we can watch
        assert manifest["status"] == "success", manifest
        out = json.loads(
            s3.get_object(Bucket="smallfry-demo", Key=run["output_uri"].split("/", 3)[3])[
                "Body"
            ].read()
        )
        assert 'region = "EMEA"' in injected_source(out)
        assert "EMEA:" in cell_text(out) and "orders of at least 50.00" in cell_text(out)
        listed = http.get(jobs).json()["jobs"]
        assert [j["spec"]["id"] for j in listed] == ["sales"]
        assert listed[0]["runs"][0]["status"] == "success"
        assert listed[0]["runs"][0]["output_uri"] == run["output_uri"]
