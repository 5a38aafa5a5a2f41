"""The job spec checks, driven by the fixture files the front end's tests load too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyterlab_smallfry.jobs.validation import (
    check_cron,
    check_output_template,
    load_schema,
    validate_spec,
)

FIXTURES = Path(__file__).resolve().parents[1] / "jobs" / "fixtures"
VALID = sorted((FIXTURES / "valid").glob("*.json"))
INVALID = sorted((FIXTURES / "invalid").glob("*.json"))


def test_there_are_fixtures_of_both_kinds():
    assert len(VALID) >= 5 and len(INVALID) >= 20


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_fixture_passes(path):
    assert validate_spec(json.loads(path.read_text())) == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_is_refused_naming_the_field(path):
    case = json.loads(path.read_text())
    errors = validate_spec(case["spec"])
    assert errors, f"{path.name} should be refused: {case['description']}"
    assert errors[0].field == case["field"], [str(e) for e in errors]
    assert str(errors[0]).startswith(case["field"])


def test_schema_is_versioned_and_closed():
    schema = load_schema()
    assert schema["properties"]["apiVersion"] == {"const": "smallfry/v1"}
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    "expr,expected",
    [
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@quarterly", "0 0 1 */3 *"),
        (" 0  6 * * 1-5 ", "0 6 * * 1-5"),
        ("0 9 1 * MON", "0 9 1 * MON"),
    ],
)
def test_cron_presets_become_five_fields(expr, expected):
    assert check_cron(expr) == expected


@pytest.mark.parametrize(
    "expr,words",
    [
        ("0 0 * * * 30", "5 fields"),
        ("61 * * * *", "minute: 61 is outside 0-59"),
        ("0 0 * 13 *", "month: 13"),
        ("0 0 * * 8", "day of week: 8"),
        ("*/0 * * * *", "step"),
        ("5-1 * * * *", "backwards"),
        ("0 0 30 2 *", "never run"),
        ("0 0 1W * *", "not a number"),
    ],
)
def test_cron_errors_say_what_is_wrong(expr, words):
    with pytest.raises(ValueError, match=words):
        check_cron(expr)


def test_output_template_rules():
    assert check_output_template("s3://b/runs/{owner}/{job_id}/{run_id}/")
    assert check_output_template("/data/runs/{owner}/x/{job_id}/{run_id}/")
    with pytest.raises(ValueError, match=r"\{job_id\}"):
        check_output_template("s3://b/runs/{owner}/{run_id}/")
    with pytest.raises(ValueError, match="'..'"):
        check_output_template("/data/../{owner}/{job_id}/{run_id}/")
