"""The golden next-run file is what real Airflow computes, and our cron checks accept every case."""

from __future__ import annotations

import json
import subprocess

import pytest

from jupyterlab_smallfry.jobs.validation import check_cron, check_timezone

from .airflow_env import HERE, ensure_venv

GOLDEN = HERE.parent / "jobs" / "fixtures" / "cron-golden.json"

pytestmark = pytest.mark.timeout(600)


def test_golden_file_matches_real_airflow():
    python = ensure_venv()
    fresh = subprocess.run(
        [str(python), str(HERE / "cron_golden.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert fresh == GOLDEN.read_text(), (
        "cron-golden.json is stale; regenerate it with the Airflow venv: "
        f"{python} {HERE / 'cron_golden.py'} > {GOLDEN}"
    )


def test_golden_cases_cover_dst_presets_and_or_semantics():
    doc = json.loads(GOLDEN.read_text())
    cases = {c["name"]: c for c in doc["cases"]}
    # Fall-back: Airflow runs an ambiguous 01:30 once, at the second (standard-time) instant.
    assert cases["new-york-fall-back-0130"]["next_utc"][2] == "2026-11-01T06:30:00Z"
    assert cases["amsterdam-fall-back-0230"]["next_utc"][2] == "2026-10-25T01:30:00Z"
    # Spring-forward: a wall time that does not exist runs an hour later, the same day.
    assert cases["amsterdam-spring-forward-0230"]["next_local"][2] == "2026-03-29T03:30:00+02:00"
    assert cases["new-york-spring-forward-0230"]["next_local"][2] == "2026-03-08T03:30:00-04:00"
    # Day of month and weekday together mean either (Vixie cron): Fridays plus the 13th.
    assert "2026-03-13T09:00:00+01:00" in cases["day-of-month-or-friday"]["next_local"]
    assert "2026-02-06T09:00:00+01:00" in cases["day-of-month-or-friday"]["next_local"]
    for case in doc["cases"]:
        check_cron(case["cron"])
        check_timezone(case["timezone"])
        assert case["next_utc"] == sorted(case["next_utc"]) and case["next_utc"]
