"""``POST /smallfry/jobs/check`` against a real Jupyter server: every problem of a draft on
its field, and the next runs Airflow will fire (the real-Airflow golden file), in a single-user
server and in a team server whose jobs service is out of reach."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import requests

from .processes import free_port, jupyter_server
from .test_airflow_cron_golden import GOLDEN

pytestmark = pytest.mark.timeout(120)

USERS = {"tok-alice": "alice"}
GOLDEN_CASES = json.loads(GOLDEN.read_text())["cases"]
# Before every golden case's start, so the preview starts where Airflow's first run does.
BEFORE_ALL = "2025-12-31T00:00:00Z"


def _server(*args: str):
    return jupyter_server(
        f"--SmallFry.jobs_uri={tempfile.mkdtemp(prefix='smallfry-check-')}",
        "--ServerApp.identity_provider_class="
        "jupyterlab_smallfry.tests.jobs_identity.TokenPerUserIdentityProvider",
        *args,
        env={"SMALLFRY_TEST_USERS": json.dumps(USERS)},
    )


@pytest.fixture(scope="module")
def single_user():
    with _server() as srv:
        yield srv


@pytest.fixture(scope="module")
def team():
    # Nothing listens there: the check must not need the jobs service.
    with _server(f"--SmallFry.jobs_service_url=http://127.0.0.1:{free_port()}/") as srv:
        yield srv


def check(server, spec, token="tok-alice", **extra) -> requests.Response:
    return requests.post(
        server.url + "smallfry/jobs/check",
        headers={"Authorization": f"token {token}"},
        json={"spec": spec, **extra},
        timeout=30,
    )


def draft(**changes) -> dict:
    spec = {
        "id": "sales",
        "notebook": {"source": "notebooks/report.ipynb", "kernel": "python3"},
        "parameters": {"region": "EU"},
        "schedule": {
            "type": "cron",
            "cron": "0 6 * * 1-5",
            "timezone": "Europe/Amsterdam",
            "start_date": "2030-01-07",
        },
        "output": {"uri_template": "s3://bucket/runs/{owner}/{job_id}/{run_id}/"},
    }
    for key, value in changes.items():
        if key in ("cron", "timezone", "start_date", "catchup"):
            spec["schedule"][key] = value
        else:
            spec[key] = value
    return spec


def by_field(answer: requests.Response) -> dict:
    assert answer.status_code == 200, answer.text
    return {e["field"]: e["message"] for e in answer.json()["errors"]}


@pytest.mark.parametrize("server_name", ["single_user", "team"])
def test_a_valid_draft_has_no_errors_and_its_next_weekday_runs(server_name, request):
    server = request.getfixturevalue(server_name)
    answer = check(server, draft())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["errors"] == []
    sched = body["schedule"]
    assert sched["cron"] == "0 6 * * 1-5" and sched["timezone"] == "Europe/Amsterdam"
    # 2030-01-07 is a Monday: Monday to Friday at 06:00 CET, then the next Monday.
    assert [r["local"] for r in sched["next_runs"]] == [
        "2030-01-07T06:00:00+01:00",
        "2030-01-08T06:00:00+01:00",
        "2030-01-09T06:00:00+01:00",
        "2030-01-10T06:00:00+01:00",
        "2030-01-11T06:00:00+01:00",
    ]
    assert sched["next_runs"][0]["utc"] == "2030-01-07T05:00:00Z"
    assert sched["at_once"] is None


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"cron": "0 24 * * *"}, "schedule.cron", "hour: 24 is outside 0-23"),
        ({"cron": "0 0 * * * 30"}, "schedule.cron", "needs 5 fields"),
        ({"cron": "@once"}, "schedule.cron", "unknown preset '@once'"),
        ({"timezone": "Mars/Olympus"}, "schedule.timezone", "not an IANA time zone"),
        ({"start_date": "2030-02-30"}, "schedule.start_date", "is not a date"),
        (
            {"output": {"uri_template": "s3://b/runs/{job_id}/{run_id}/"}},
            "output.uri_template",
            "must contain {owner} before {run_id}",
        ),
        (
            {"output": {"uri_template": "s3://b/{owner}/{job_id}/{day}/{run_id}/"}},
            "output.uri_template",
            "unknown placeholder {day}",
        ),
        ({"parameters": {"class": 1}}, "parameters.class", "not a valid Python identifier"),
        ({"parameters": {"2x": 1}}, "parameters.2x", "not a valid parameter name"),
        ({"id": "Sales Report"}, "id", "lower-case letters"),
        ({"notebook": {"source": "report.txt"}}, "notebook.source", ".ipynb"),
        ({"owner": "bob"}, "owner", "owned by the signed-in user (alice)"),
    ],
)
def test_each_problem_is_on_its_field(single_user, changes, field, words):
    errors = by_field(check(single_user, draft(**changes)))
    assert field in errors, errors
    assert words in errors[field]
    assert len(errors) == 1, errors


def test_problems_in_several_fields_come_together_and_there_is_no_preview(single_user):
    spec = draft(cron="61 * * * *", timezone="Nowhere/City", retries={"count": -1})
    answer = check(single_user, spec)
    errors = by_field(answer)
    # A schema problem (retries) does not hide the rules the schema cannot express.
    assert set(errors) == {"schedule.cron", "schedule.timezone", "retries.count"}, errors
    assert "minute: 61 is outside 0-59" in errors["schedule.cron"]
    assert answer.json()["schedule"] is None


def test_a_manual_job_has_no_preview(single_user):
    answer = check(single_user, {"id": "by-hand", "schedule": {"type": "manual"}})
    assert by_field(answer) == {}
    assert answer.json()["schedule"] is None


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=[c["name"] for c in GOLDEN_CASES])
def test_next_runs_are_the_ones_real_airflow_fires(single_user, case):
    spec = draft(cron=case["cron"], timezone=case["timezone"], start_date=case["start"])
    answer = check(single_user, spec, now=BEFORE_ALL)
    assert by_field(answer) == {}
    sched = answer.json()["schedule"]
    shown = min(5, len(case["next_utc"]))
    assert [r["utc"] for r in sched["next_runs"]][:shown] == case["next_utc"][:shown]
    assert [r["local"] for r in sched["next_runs"]][:shown] == case["next_local"][:shown]
    assert sched["start"]["utc"] == case["start_utc"]


def test_dst_nights_are_flagged_on_the_runs_they_move(single_user):
    fall = check(
        single_user,
        draft(cron="30 1 * * *", timezone="America/New_York", start_date="2026-10-30"),
        now=BEFORE_ALL,
    ).json()["schedule"]["next_runs"]
    # 01:30 happens twice on 2026-11-01; Airflow runs once, at the second (EST) one.
    assert fall[2] == {
        "utc": "2026-11-01T06:30:00Z",
        "local": "2026-11-01T01:30:00-05:00",
        "dst": "repeated",
    }
    spring = check(
        single_user,
        draft(cron="30 2 * * *", timezone="Europe/Amsterdam", start_date="2026-03-27"),
        now=BEFORE_ALL,
    ).json()["schedule"]["next_runs"]
    assert spring[2]["local"] == "2026-03-29T03:30:00+02:00" and spring[2]["dst"] == "skipped"
    assert all("dst" not in r for r in spring[:2] + spring[3:])


def test_past_start_dates_say_what_airflow_runs_at_once(single_user):
    now = "2026-11-30T10:00:00Z"  # a Monday, 11:00 in Amsterdam
    without = check(single_user, draft(start_date="2026-11-01"), now=now).json()["schedule"]
    # Without catch-up Airflow 3 runs the most recent time at once: today 06:00.
    assert without["at_once"] == {
        "count": 1,
        "capped": False,
        "first": {"utc": "2026-11-30T05:00:00Z", "local": "2026-11-30T06:00:00+01:00"},
    }
    assert without["next_runs"][0]["local"] == "2026-12-01T06:00:00+01:00"
    catching_up = check(single_user, draft(start_date="2026-11-01", catchup=True), now=now).json()[
        "schedule"
    ]
    # With catch-up every weekday since Sunday 1 November: 2 to 30 November, 21 runs.
    assert catching_up["at_once"]["count"] == 21
    assert catching_up["at_once"]["first"]["local"] == "2026-11-02T06:00:00+01:00"


@pytest.mark.parametrize(
    "raw, status, words",
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b'{"id": "x"}', 400, '{"spec": <job spec>}'),
        (b'{"spec": {}, "now": "yesterday"}', 400, "ISO 8601 instant"),
        (b'{"spec": {"x": NaN}}', 400, "NaN is not a JSON number"),
        (b'{"spec": {"title": "' + b"x" * (300 * 1024) + b'"}}', 413, "the limit is"),
    ],
)
def test_a_malformed_or_oversized_body_is_refused_with_the_errors_shape(
    single_user, raw, status, words
):
    answer = requests.post(
        single_user.url + "smallfry/jobs/check",
        headers={"Authorization": "token tok-alice", "Content-Type": "application/json"},
        data=raw,
        timeout=30,
    )
    assert answer.status_code == status, answer.text
    errors = answer.json()["errors"]
    assert len(errors) == 1 and words in errors[0]["message"], errors


def test_a_draft_that_is_not_an_object_is_an_error_not_a_refusal(single_user):
    assert by_field(check(single_user, "daily")) == {"": "a job spec must be a JSON object"}


def test_only_a_signed_in_user_may_check(single_user):
    answer = requests.post(
        single_user.url + "smallfry/jobs/check", json={"spec": draft()}, timeout=30
    )
    assert answer.status_code == 403


@pytest.fixture(scope="module")
def with_jobs():
    """A server whose jobs folder already holds alice's ``extract`` and ``report`` (report
    runs after extract), written as a save would leave them."""
    jobs = Path(tempfile.mkdtemp(prefix="smallfry-check-chain-"))
    (jobs / "alice").mkdir()
    manual = {"type": "manual"}
    for job_id, after in (("extract", []), ("report", ["extract"])):
        spec = {**draft(id=job_id, schedule=manual), "owner": "alice"}
        if after:
            spec["after"] = after
        (jobs / "alice" / f"{job_id}.json").write_text(json.dumps(spec))
    with jupyter_server(
        f"--SmallFry.jobs_uri={jobs}",
        "--ServerApp.identity_provider_class="
        "jupyterlab_smallfry.tests.jobs_identity.TokenPerUserIdentityProvider",
        env={"SMALLFRY_TEST_USERS": json.dumps({**USERS, "tok-bob": "bob"})},
    ) as srv:
        yield srv


def test_a_draft_after_other_jobs_is_judged_among_its_owners_jobs(with_jobs):
    """The form hears about a missing upstream or a cycle while it is being edited, with the
    words a save would use; a chain of existing jobs has no problem."""
    manual = {"type": "manual"}
    assert by_field(check(with_jobs, draft(id="publish", schedule=manual, after=["report"]))) == {}
    missing = by_field(check(with_jobs, draft(id="publish", schedule=manual, after=["gone"])))
    assert set(missing) == {"after"} and "'gone'" in missing["after"]
    # Editing extract to run after report would close the loop.
    cycle = by_field(check(with_jobs, draft(id="extract", schedule=manual, after=["report"])))
    assert "extract → report → extract" in cycle["after"]
    # Another user has no jobs of those names.
    other = by_field(check(with_jobs, draft(id="x", schedule=manual, after=["extract"]), "tok-bob"))
    assert "'extract'" in other["after"]


def test_a_chain_is_left_to_the_save_when_the_jobs_service_is_down(team):
    """In a team deployment the owner's jobs come from the Hub service; when it cannot be
    reached, the rest of the draft is still judged."""
    answer = by_field(check(team, draft(id="publish", schedule={"type": "manual"}, after=["x"])))
    assert answer == {}
