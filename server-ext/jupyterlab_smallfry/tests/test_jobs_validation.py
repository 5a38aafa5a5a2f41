"""The job spec checks, driven by the fixture files the front end's tests load too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyterlab_smallfry.jobs.validation import (
    MAX_SPEC_BYTES,
    MAX_SPEC_DEPTH,
    SpecError,
    check_cron,
    check_output_template,
    load_schema,
    parse_spec,
    read_spec_file,
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


# --- strict, bounded parsing: what every reader of a stored spec uses ----------------------

FULL_TEXT = (FIXTURES / "valid" / "full.json").read_text()


def test_parse_spec_reads_a_stored_spec():
    assert parse_spec(FULL_TEXT) == json.loads(FULL_TEXT)
    assert parse_spec(FULL_TEXT.encode("utf-8")) == json.loads(FULL_TEXT)


def test_parse_spec_refuses_more_than_the_limit_and_says_it():
    big = json.dumps({"pad": "x" * MAX_SPEC_BYTES})
    with pytest.raises(SpecError, match=f"larger than {MAX_SPEC_BYTES} bytes") as err:
        parse_spec(big)
    assert err.value.field == ""
    # Counted in bytes, not characters: 'é' is two bytes in UTF-8.
    with pytest.raises(SpecError, match="larger than"):
        parse_spec(json.dumps({"pad": "é" * (MAX_SPEC_BYTES // 2)}, ensure_ascii=False))
    assert parse_spec(b" " * (MAX_SPEC_BYTES - 2) + b"{}") == {}  # exactly at the limit


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_parse_spec_refuses_the_non_standard_constants(constant):
    text = FULL_TEXT.replace('"days": 1,', f'"days": {constant},')
    assert json.loads(text)["parameters"]["days"] != 1  # json.loads takes them silently
    with pytest.raises(SpecError, match=f"{constant} is not a JSON number"):
        parse_spec(text)


def test_parse_spec_refuses_numbers_that_overflow_to_infinity():
    with pytest.raises(SpecError, match="too large"):
        parse_spec('{"parameters": {"days": 1e400}}')


def test_parse_spec_refuses_a_key_given_twice():
    # Two readers might keep different ones: the signed owner must be the only owner.
    with pytest.raises(SpecError, match="'owner' appears twice"):
        parse_spec('{"owner": "alice", "id": "x", "owner": "bob"}')


@pytest.mark.parametrize("depth", [MAX_SPEC_DEPTH + 1, 100_000])
def test_parse_spec_refuses_deep_nesting(depth):
    with pytest.raises(SpecError, match="deeper than"):
        parse_spec("[" * depth + "]" * depth)


@pytest.mark.parametrize("text", ["{", "", "\x00", b"\xff\xfe{}"[:-1] + b"\xff"])
def test_parse_spec_names_invalid_json(text):
    with pytest.raises(SpecError, match="not valid JSON"):
        parse_spec(text)


def test_read_spec_file_reads_no_more_than_the_limit(tmp_path):
    import tracemalloc

    huge = tmp_path / "huge.json"
    with open(huge, "wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse: 64 MiB of zeros on no disk
    tracemalloc.start()
    try:
        with pytest.raises(SpecError, match=f"larger than {MAX_SPEC_BYTES} bytes"):
            read_spec_file(huge)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_SPEC_BYTES


def test_read_spec_file_refuses_a_fifo_without_waiting(tmp_path):
    import os

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(SpecError, match="not a regular file"):
        read_spec_file(fifo)  # a plain open() would wait for a writer forever


def test_schema_caps_sizes_cheaply():
    spec = json.loads(FULL_TEXT)
    for field, value in [
        ("parameters.blob", "x" * 65537),
        ("parameters.many", list(range(1001))),
        ("notifications.on_failure.0", "a" * 250 + "@example.com"),
        ("notebook.uri", "s3://bucket/" + "a/" * 1100 + "0" * 64 + ".ipynb"),
    ]:
        bad = json.loads(FULL_TEXT)
        *parents, last = field.split(".")
        node = bad
        for part in parents:
            node = node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        assert [e.field for e in validate_spec(bad)][:1] == [field], field
    assert validate_spec(spec) == []


@pytest.mark.parametrize("job_id", ["daily\n", "daily\r\n", "\ndaily"])
def test_a_job_id_with_a_line_break_is_not_a_job_id(job_id):
    """Used as a file name and in dag_ids: a trailing newline must not slip past the rule."""
    from ..jobs.validation import is_job_id

    assert not is_job_id(job_id)
    assert is_job_id("daily")


@pytest.mark.parametrize("name", ["region\n", "region\r\n"])
def test_a_parameter_name_with_a_line_break_is_refused(name):
    spec = json.loads((FIXTURES / "valid" / "manual-minimal.json").read_text())
    spec["parameters"] = {name: 1}
    fields = [e.field for e in validate_spec(spec)]
    assert any(f.startswith("parameters.") for f in fields), fields


def test_a_webhook_url_in_notifications_is_refused_without_repeating_it():
    """A webhook URL is a credential: the refusal says where it belongs and does not echo it
    (errors reach the browser and server logs)."""
    spec = json.loads((FIXTURES / "valid" / "full.json").read_text())
    url = "https://hooks.slack.com/services/T000/B000/very-secret-token"
    spec["notifications"] = {
        "on_failure": [{"type": "slack", "connection": url}],
        "on_success": [url],
    }
    errors = validate_spec(spec)
    assert {e.field for e in errors} == {"notifications.on_failure.0", "notifications.on_success.0"}
    for err in errors:
        assert "very-secret-token" not in str(err)
        assert "Airflow connection named smallfry_notify_" in err.message
