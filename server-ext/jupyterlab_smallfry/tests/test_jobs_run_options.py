"""Run options (other parameters, Reproduce, why a run ran): the rules, then real runs.

The runs use a real papermill kernel and a real (moto) S3 server, as the runner's own tests.
"""

from __future__ import annotations

import json

import pytest

from jupyterlab_smallfry.jobs.run_options import apply_run_options, triggered_by
from jupyterlab_smallfry.jobs.runner import run_spec
from jupyterlab_smallfry.jobs.snapshot import take_snapshot
from jupyterlab_smallfry.jobs.validation import SpecError

from .jobs_support import REPORT, cell_text, notebook, read_json, s3_storage, spec_for

pytestmark = pytest.mark.timeout(180)

SHA = "a" * 64
SPEC = spec_for("report", "s3://bkt/snapshots/" + SHA + ".ipynb", SHA, "s3://bkt/runs/")


def test_no_options_is_the_spec_itself_and_never_the_same_object():
    effective = apply_run_options(SPEC, None)
    assert effective == SPEC and effective is not SPEC
    effective["parameters"]["region"] = "changed"
    assert SPEC["parameters"]["region"] == "EU"


def test_parameters_replace_the_specs_whole():
    effective = apply_run_options(SPEC, {"parameters": {"region": "US"}})
    assert effective["parameters"] == {"region": "US"}


@pytest.mark.parametrize(
    ("parameters", "field", "words"),
    [
        ([1, 2], "options.parameters", "must be an object"),
        ({"class": 1}, "parameters.class", "not a valid Python identifier"),
        ({"1st": 1}, "parameters.1st", ""),
        ({"big": "x" * 70000}, "parameters.big", ""),
    ],
)
def test_parameters_the_specs_rules_refuse_are_refused(parameters, field, words):
    with pytest.raises(SpecError) as caught:
        apply_run_options(SPEC, {"parameters": parameters})
    assert caught.value.field == field and words in caught.value.message


def test_reproduce_takes_a_snapshot_of_the_same_folder():
    other = "b" * 64
    effective = apply_run_options(
        SPEC, {"notebook": {"uri": f"s3://bkt/snapshots/{other}.ipynb", "sha256": other}}
    )
    assert effective["notebook"] == {
        "uri": f"s3://bkt/snapshots/{other}.ipynb",
        "sha256": other,
        "kernel": "python3",
    }


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bkt/other-snapshots/{sha}.ipynb",
        "s3://elsewhere/snapshots/{sha}.ipynb",
        "s3://bkt/snapshots/../bob/{sha}.ipynb",
        "s3://bkt/snapshots/{sha}.ipynb.bak",
        "s3://bkt/snapshots/" + "c" * 64 + ".ipynb",  # not the sha256 it claims
    ],
)
def test_reproduce_refuses_anything_but_a_snapshot_beside_the_specs(uri):
    other = "b" * 64
    with pytest.raises(SpecError) as caught:
        apply_run_options(SPEC, {"notebook": {"uri": uri.format(sha=other), "sha256": other}})
    assert caught.value.field == "options.notebook.uri"
    assert "s3://bkt/snapshots/<sha256>.ipynb" in caught.value.message


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"colour": "red"}, "options.colour"),
        ({"triggered_by": "cron"}, "options.triggered_by"),
        ({"upstream": [{"job_id": "a", "run_id": "r"}] * 11}, "options.upstream"),
        ({"upstream": [{"job_id": "Not A Job", "run_id": "r"}]}, "options.upstream.0.job_id"),
        ({"upstream": [{"job_id": "a", "run_id": "r", "x": 1}]}, "options.upstream.0"),
        (
            {"notebook": {"uri": "s3://bkt/snapshots/x.ipynb", "sha256": "x"}},
            "options.notebook.sha256",
        ),
        ("rerun", "options"),
    ],
)
def test_malformed_options_are_refused_with_their_field(options, field):
    with pytest.raises(SpecError) as caught:
        apply_run_options(SPEC, options)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("doc", "kind"),
    [
        ({"run_id": "scheduled__2026-11-24T06:00:00+00:00", "try_number": 1}, "schedule"),
        ({"run_id": "asset_triggered__2026-11-24T06:00:00+00:00"}, "upstream"),
        ({"run_id": "manual__x", "try_number": 2}, "retry"),
        ({"run_id": "smallfry__x"}, "run_now"),
        ({"run_id": "r", "options": {"triggered_by": "rerun"}}, "rerun"),
        # Airflow hands a retry the first try's conf: it is a retry all the same.
        ({"run_id": "r", "try_number": 2, "options": {"triggered_by": "rerun"}}, "retry"),
        # What the Airflow operator asks for a scheduled run's retry.
        (
            {"run_id": "scheduled__x-try2", "try_number": 2, "options": {"triggered_by": "retry"}},
            "retry",
        ),
        ({"run_id": "r", "triggered_by": "reproduce"}, "reproduce"),
        ({"run_id": "r", "triggered_by": "made-up"}, "run_now"),
    ],
)
def test_why_a_run_ran(doc, kind):
    assert triggered_by(doc) == kind


# ---- real runs -------------------------------------------------------------------------


@pytest.fixture
def storage(moto_url):
    return s3_storage(moto_url)


def _spec(storage, bucket, data=REPORT, job="report"):
    uri, sha = take_snapshot(storage, data, f"s3://{bucket}/snapshots/alice/")
    return spec_for(job, uri, sha, f"s3://{bucket}/runs/")


def test_other_parameters_reach_the_notebook_and_run_json(storage, direct_s3, bucket):
    spec = _spec(storage, bucket)
    options = {"parameters": {"region": "APAC", "days": 5}, "triggered_by": "parameters"}
    assert run_spec(spec, "r1", storage, options=options)["status"] == "success"
    run = read_json(direct_s3, bucket, "runs/alice/report/r1/run.json")
    assert run["parameters"] == {"region": "APAC", "days": 5}
    assert run["triggered_by"] == "parameters"
    out = read_json(direct_s3, bucket, "runs/alice/report/r1/output.ipynb")
    assert "REPORT region=APAC doubled=10" in cell_text(out)


def test_reproduce_runs_the_older_snapshot(storage, direct_s3, bucket):
    old = _spec(storage, bucket, notebook('print("THE OLD VERSION")'))
    spec = _spec(storage, bucket)
    options = {"notebook": old["notebook"] | {}, "triggered_by": "reproduce"}
    del options["notebook"]["kernel"]
    assert run_spec(spec, "r1", storage, options=options)["status"] == "success"
    run = read_json(direct_s3, bucket, "runs/alice/report/r1/run.json")
    assert run["notebook"]["sha256"] == old["notebook"]["sha256"]
    assert run["triggered_by"] == "reproduce"
    out = read_json(direct_s3, bucket, "runs/alice/report/r1/output.ipynb")
    assert "THE OLD VERSION" in cell_text(out)


def test_a_snapshot_from_another_folder_is_refused_and_nothing_runs(storage, direct_s3, bucket):
    spec = _spec(storage, bucket)
    uri, sha = take_snapshot(storage, notebook('print("BOBS")'), f"s3://{bucket}/snapshots/bob/")
    options = {"notebook": {"uri": uri, "sha256": sha}, "triggered_by": "reproduce"}
    manifest = run_spec(spec, "r1", storage, options=options)
    run = read_json(direct_s3, bucket, "runs/alice/report/r1/run.json")
    assert run["status"] == manifest["status"] == "failed"
    assert run["error"]["type"] == "InvalidRunOptions"
    assert "can only reproduce a snapshot of this job's notebook" in run["error"]["message"]
    assert run["notebook"]["uri"] == spec["notebook"]["uri"] and run["output_uri"] is None
    assert run["triggered_by"] == "reproduce"
    listed = direct_s3.list_objects_v2(Bucket=bucket, Prefix="runs/alice/report/")
    assert not [o for o in listed.get("Contents", []) if o["Key"].endswith("output.ipynb")]
    marker = "runs/alice/report/.index/failed/r1"
    assert direct_s3.head_object(Bucket=bucket, Key=marker)["ContentLength"] == 0


def test_an_invalid_parameter_type_is_refused_with_the_reason(storage, direct_s3, bucket):
    spec = _spec(storage, bucket)
    manifest = run_spec(spec, "r1", storage, options={"parameters": ["EU"]})
    assert manifest["status"] == "failed"
    run = read_json(direct_s3, bucket, "runs/alice/report/r1/run.json")
    assert run["error"]["message"] == (
        "the run options were refused: options.parameters: the parameters must be an object"
    )
    assert run["parameters"] == {"region": "EU", "days": 21}  # what the spec says, not the junk


def test_the_runner_program_takes_the_requests_options(moto_url, storage, direct_s3, bucket):
    from .test_jobs_runner import _run_program

    spec = _spec(storage, bucket)
    upstream = [{"job_id": "extract", "run_id": "scheduled__2026-11-24T06:00:00+00:00"}]
    request = {
        "spec": spec,
        "run_id": "r1",
        "options": {
            "parameters": {"region": "LATAM", "days": 1},
            "triggered_by": "upstream",
            "upstream": upstream,
        },
    }
    proc = _run_program(moto_url, json.dumps(request))
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = read_json(direct_s3, bucket, "runs/alice/report/r1/run.json")
    assert run["triggered_by"] == "upstream" and run["upstream"] == upstream
    assert run["parameters"] == {"region": "LATAM", "days": 1}
    out = read_json(direct_s3, bucket, "runs/alice/report/r1/output.ipynb")
    assert "REPORT region=LATAM doubled=2" in cell_text(out)
