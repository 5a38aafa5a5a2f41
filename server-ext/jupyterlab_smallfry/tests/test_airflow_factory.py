"""What the factory builds, inspected inside the real Airflow venv (no scheduler, no S3)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from jupyterlab_smallfry.jobs.chain import asset_name
from jupyterlab_smallfry.jobs.signing import UNSIGNED, sign_spec
from jupyterlab_smallfry.jobs.store import owner_key
from jupyterlab_smallfry.jobs.validation import MAX_SPEC_BYTES

from .airflow_env import HERE, SERVER_EXT, ensure_venv

pytestmark = pytest.mark.timeout(600)
FIXTURES = HERE.parent / "jobs" / "fixtures"
KEY = "factory-test-key-0123456789abcdef0123"

# Runs in the Airflow venv: builds the DAGs and reports what a user would see in Airflow.
INSPECT = r"""
import json, logging, sys, warnings
warnings.simplefilter("ignore")
logs = []
class Collect(logging.Handler):
    def emit(self, record):
        logs.append(record.getMessage())
logging.getLogger("jupyterlab_smallfry").addHandler(Collect(level=logging.WARNING))
import botocore.client
def no_aws(*a, **k):
    raise AssertionError("the factory called AWS while parsing")
botocore.client.BaseClient._make_api_call = no_aws
from jupyterlab_smallfry.airflow import build_dags
ns = {}
dags = build_dags(ns, sys.argv[1])
out = {}
for dag_id, dag in dags.items():
    task = dag.tasks[0]
    out[dag_id] = {
        "in_namespace": ns.get(dag_id) is dag,
        "timetable": type(dag.timetable).__name__,
        "cron": getattr(dag.timetable, "_expression", None),
        "timezone": str(getattr(dag.timetable, "_timezone", "")) or None,
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "paused_on_creation": dag.is_paused_upon_creation,
        "tags": sorted(dag.tags),
        "description": dag.description,
        "owner": task.owner,
        "task_id": task.task_id,
        "task_type": type(task).__name__,
        "template_fields": list(task.template_fields),
        "retries": task.retries,
        "retry_delay": task.retry_delay.total_seconds(),
        "execution_timeout": task.execution_timeout.total_seconds() if task.execution_timeout else None,
        "callbacks": [
            name for name in ("on_failure_callback", "on_success_callback")
            if getattr(dag, name, None)
        ],
        "schedule_assets": [a.name for a in dag.schedule] if isinstance(dag.schedule, list) else None,
        "outlets": [a.name for a in getattr(task, "outlets", None) or []],
        "access_control": None if dag.access_control is None else {
            role: {res: sorted(acts) for res, acts in perms.items()}
            for role, perms in dag.access_control.items()
        },
    }
print(json.dumps(logs))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def built():
    python = ensure_venv()
    jobs = Path(tempfile.mkdtemp(prefix="smallfry-factory-"))
    for owner in ("alice", "bob"):
        (jobs / owner).mkdir()
    full = json.loads((FIXTURES / "valid" / "full.json").read_text())
    (jobs / "alice" / "daily-sales.json").write_text(json.dumps({**full, "owner": "mallory"}))
    paused = {**full, "id": "paused", "paused": True}
    (jobs / "alice" / "paused.json").write_text(json.dumps(paused))
    shutil.copy(FIXTURES / "valid" / "manual-minimal.json", jobs / "bob" / "adhoc.json")
    manual = json.loads((jobs / "bob" / "adhoc.json").read_text())
    manual["output"] = {"uri_template": "/srv/runs/{owner}/{job_id}/{run_id}/"}
    (jobs / "bob" / "adhoc.json").write_text(json.dumps(manual))
    (jobs / "bob" / "list.json").write_text("[]")
    (jobs / "bob" / "renamed.json").write_text(json.dumps({**manual, "id": "adhoc"}))
    (jobs / "bob" / ".adhoc.json.123.tmp").write_text("{")  # a writer's temporary file
    for case in sorted((FIXTURES / "invalid").glob("*.json"))[:8]:
        spec = json.loads(case.read_text())["spec"]
        (jobs / "alice" / f"bad-{case.stem}.json").write_text(json.dumps(spec))
    return _inspector(python, jobs)


def _inspector(python, jobs: Path):
    """``run(extra_env, logs=False)``: the DAGs built from ``jobs`` (and the factory's
    warnings), in a fresh Airflow process."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMALLFRY_")},
        "PYTHONPATH": str(SERVER_EXT),
        "AIRFLOW_HOME": str(jobs / ".home"),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }

    def run(extra=None, logs=False):
        proc = subprocess.run(
            [str(python), "-c", INSPECT, str(jobs)],
            env={**env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        lines = proc.stdout.strip().splitlines()
        dags = json.loads(lines[-1])
        return (dags, json.loads(lines[-2])) if logs else dags

    return run


def test_a_valid_spec_maps_to_the_dag_users_expect(built):
    dags = built()
    d = dags["smallfry__alice__daily-sales"]
    assert d["in_namespace"]
    assert (d["timetable"], d["cron"], d["timezone"]) == (
        "CronTriggerTimetable",
        "0 6 * * 1-5",
        "Europe/Amsterdam",
    )
    assert d["start_date"] == "2026-11-24T23:00:00+00:00"  # midnight in Amsterdam
    assert d["catchup"] is False and d["max_active_runs"] == 1 and d["paused_on_creation"] is False
    assert d["owner"] == "alice"  # from the folder, not the "mallory" written in the file
    assert "owner:alice" in d["tags"] and {"smallfry", "sales", "daily"} <= set(d["tags"])
    assert (d["task_id"], d["task_type"], d["template_fields"]) == (
        "run_notebook",
        "NotebookJobOperator",
        [],
    )
    assert (d["retries"], d["retry_delay"], d["execution_timeout"]) == (2, 600.0, 1800.0)
    # The spec asks for a failure e-mail: the runner sends it (jobs/notify.py), on any
    # executor; an Airflow callback as well would tell alice twice.
    assert d["callbacks"] == []
    # Its success updates the asset that jobs running after it wait for.
    assert d["outlets"] == [asset_name("alice", "daily-sales")]
    assert d["schedule_assets"] is None


def test_paused_and_manual_specs_have_no_schedule(built):
    dags = built()
    assert dags["smallfry__alice__paused"]["timetable"] == "NullTimetable"
    assert dags["smallfry__alice__paused"]["paused_on_creation"] is True
    assert "paused" in dags["smallfry__alice__paused"]["tags"]
    assert dags["smallfry__bob__adhoc"]["timetable"] == "NullTimetable"
    assert dags["smallfry__bob__adhoc"]["task_type"] == "NotebookJobOperator"


def test_bad_files_become_placeholders_and_never_hide_the_others(built):
    dags = built()
    bad = {k: v for k, v in dags.items() if "invalid-spec" in v["tags"]}
    assert set(bad) == {"smallfry__bob__list", "smallfry__bob__renamed"} | {
        k for k in dags if k.startswith("smallfry__alice__bad-")
    }
    assert len([k for k in dags if k.startswith("smallfry__alice__bad-")]) == 8
    assert all(
        v["task_type"] == "InvalidSpecOperator" and v["timetable"] == "NullTimetable"
        for v in bad.values()
    )
    assert "does not match the file name" in dags["smallfry__bob__renamed"]["description"]
    assert "a job spec must be a JSON object" in dags["smallfry__bob__list"]["description"]
    assert "schedule.cron" in dags["smallfry__alice__bad-last-day-L"]["description"]
    assert len(dags) == 3 + 2 + 8  # the temporary file is ignored


def test_a_running_task_parses_only_its_own_dag(built):
    dags = built(
        {
            "_AIRFLOW_PARSING_CONTEXT_DAG_ID": "smallfry__alice__paused",
            "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "run_notebook",
        }
    )
    assert list(dags) == ["smallfry__alice__paused"]


def test_without_a_key_the_factory_warns_once_that_specs_are_not_verified(built):
    _dags, logs = built(logs=True)
    assert len([m for m in logs if "NOT verified" in m]) == 1


def test_access_control_is_off_unless_asked_for(built):
    assert all(d["access_control"] is None for d in built().values())


# --- with a signing key: only what the Small Fry service signed becomes a job ---------------


def _spec(job_id, owner="alice", **changes):
    full = json.loads((FIXTURES / "valid" / "full.json").read_text())
    return {**full, "id": job_id, "owner": owner, **changes}


def _signed(job_id, owner="alice", **changes):
    return sign_spec(_spec(job_id, owner, **changes), KEY.encode())


@pytest.fixture(scope="module")
def signed_world():
    python = ensure_venv()
    jobs = Path(tempfile.mkdtemp(prefix="smallfry-factory-signed-"))
    for owner in ("alice", "bob"):
        (jobs / owner).mkdir()
    files = {
        "alice/good.json": json.dumps(_signed("good"), indent=2, ensure_ascii=False),
        "alice/unsigned.json": json.dumps(_spec("unsigned")),
        "alice/tampered.json": json.dumps(
            {
                **_signed("tampered"),
                "run_as": {"role_arn": "arn:aws:iam::123456789012:role/admin"},
            }
        ),
        # alice's genuine, signed spec dropped into bob's folder: it must not run as bob.
        "bob/stolen.json": json.dumps(_signed("stolen")),
        # A user who can write bob's folder writes a spec claiming bob: not signed.
        "bob/claims-bob.json": json.dumps(_spec("claims-bob", owner="bob")),
        "bob/huge.json": " " * MAX_SPEC_BYTES + json.dumps(_signed("huge", owner="bob")),
        "bob/nan.json": json.dumps(_spec("nan", owner="bob")).replace('"days": 1', '"days": NaN'),
    }
    for name, text in files.items():
        (jobs / name).write_text(text)
    key_file = jobs / ".home" / "spec.key"
    key_file.parent.mkdir()
    key_file.write_text(KEY + "\n")
    os.chmod(key_file, 0o600)
    return _inspector(python, jobs), key_file


def test_with_a_key_only_signed_specs_become_jobs_with_the_signed_owner(signed_world):
    run, key_file = signed_world
    for setting in ({"SMALLFRY_SPEC_KEY": KEY}, {"SMALLFRY_SPEC_KEY_FILE": str(key_file)}):
        dags, logs = run(setting, logs=True)
        good = dags["smallfry__alice__good"]
        assert good["task_type"] == "NotebookJobOperator" and good["owner"] == "alice"
        assert "invalid-spec" not in good["tags"]
        jobs = {k for k, v in dags.items() if "invalid-spec" not in v["tags"]}
        assert jobs == {"smallfry__alice__good"}, setting
        assert not [m for m in logs if "NOT verified" in m]


@pytest.mark.parametrize(
    "dag_id,words",
    [
        ("smallfry__alice__unsigned", "signature: unsigned: this spec was not written by the"),
        ("smallfry__alice__tampered", "signature: tampered: the spec changed after the Small"),
        ("smallfry__bob__stolen", "owner: 'alice' does not match its folder 'bob'"),
        ("smallfry__bob__claims-bob", "signature: unsigned"),
        ("smallfry__bob__huge", f"larger than {MAX_SPEC_BYTES} bytes"),
        ("smallfry__bob__nan", "NaN is not a JSON number"),
    ],
)
def test_with_a_key_untrusted_specs_are_invalid_spec_dags_saying_why(signed_world, dag_id, words):
    run, _key_file = signed_world
    dag = run({"SMALLFRY_SPEC_KEY": KEY})[dag_id]
    assert "invalid-spec" in dag["tags"]
    assert dag["task_type"] == "InvalidSpecOperator"
    assert words in dag["description"]


def test_a_key_file_others_can_read_stops_every_job(signed_world, tmp_path):
    run, _key_file = signed_world
    loose = tmp_path / "loose.key"
    loose.write_text(KEY)
    os.chmod(loose, 0o644)
    dags = run({"SMALLFRY_SPEC_KEY_FILE": str(loose)})
    assert dags and all("invalid-spec" in d["tags"] for d in dags.values())
    assert "can be read or written by other users" in dags["smallfry__alice__good"]["description"]
    assert KEY not in json.dumps(dags)


def test_access_control_gives_each_owner_their_own_dags(signed_world):
    run, _key_file = signed_world
    dags = run({"SMALLFRY_SPEC_KEY": KEY, "SMALLFRY_AIRFLOW_ACCESS_CONTROL": "owner"})
    perms = {"DAG Runs": ["can_create", "can_read"], "DAGs": ["can_edit", "can_read"]}
    assert dags["smallfry__alice__good"]["access_control"] == {"smallfry-user-alice": perms}
    # Placeholders too: bob sees (only) what is wrong in his own folder.
    assert dags["smallfry__bob__stolen"]["access_control"] == {"smallfry-user-bob": perms}
    assert "owner:bob" in dags["smallfry__bob__stolen"]["tags"]
    assert dags["smallfry__bob__stolen"]["owner"] == "bob"


# The task itself checks again: a spec that reaches the worker changed is refused there.
EXECUTE = r"""
import json, sys, types, warnings
warnings.simplefilter("ignore")
import botocore.client
def no_aws(*a, **k):
    raise AssertionError("the task called AWS")
botocore.client.BaseClient._make_api_call = no_aws
from airflow.sdk.exceptions import AirflowFailException
from jupyterlab_smallfry.airflow.operators import NotebookJobOperator
op = NotebookJobOperator(task_id="run_notebook", spec=json.loads(sys.argv[1]))
try:
    # A Re-run from Jupyter: the DAG run's conf carries the run options.
    rerun = types.SimpleNamespace(conf={"options": {"triggered_by": "rerun"}}, run_type="manual")
    op.execute({"run_id": "manual__1", "dag_run": rerun})
except AirflowFailException as err:
    print(json.dumps({"refused": str(err)}))
"""


def test_the_task_refuses_a_spec_that_changed_after_signing(tmp_path):
    python = ensure_venv()
    runs = tmp_path / "runs"
    spec = _signed("swap", output={"uri_template": f"{runs}/{{owner}}/{{job_id}}/{{run_id}}/"})
    spec["run_as"] = {"role_arn": "arn:aws:iam::123456789012:role/admin"}
    proc = subprocess.run(
        [str(python), "-c", EXECUTE, json.dumps(spec)],
        env={
            **os.environ,
            "PYTHONPATH": str(SERVER_EXT),
            "AIRFLOW_HOME": str(tmp_path / "home"),
            "SMALLFRY_SPEC_KEY": KEY,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "tampered" in json.loads(proc.stdout.strip().splitlines()[-1])["refused"]
    run = json.loads((runs / "alice" / "swap" / "manual__1" / "run.json").read_text())
    assert run["status"] == "failed" and run["error"]["type"] == "UntrustedSpec"
    assert "tampered" in run["error"]["message"]
    assert run["triggered_by"] == "rerun"  # a refused run still says why it was started


# --- the same checks without Airflow (also what ``validate`` prints) ------------------------


def test_check_spec_file_wants_the_owners_exact_folder(tmp_path):
    """``%61lice`` decodes to alice but is not her folder: no second folder may name her."""
    from jupyterlab_smallfry.airflow.factory import check_spec_file

    odd = tmp_path / "%61lice"
    odd.mkdir()
    (odd / "good.json").write_text(json.dumps(_signed("good")))
    spec, errors = check_spec_file(odd / "good.json", KEY.encode())
    assert spec is None and errors == ["owner: 'alice' does not match its folder '%61lice'"]
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "good.json").write_text(json.dumps(_signed("good")))
    spec, errors = check_spec_file(tmp_path / "alice" / "good.json", KEY.encode())
    assert errors == [] and spec["owner"] == "alice"


def test_validate_command_checks_signatures_when_a_key_is_set(tmp_path, monkeypatch, capsys):
    from jupyterlab_smallfry.airflow.__main__ import main

    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "good.json").write_text(json.dumps(_signed("good")))
    (tmp_path / "alice" / "forged.json").write_text(json.dumps(_spec("forged")))
    monkeypatch.delenv("SMALLFRY_SPEC_KEY_FILE", raising=False)
    monkeypatch.delenv("SMALLFRY_SPEC_KEY", raising=False)
    assert main(["validate", str(tmp_path)]) == 0
    assert "not checked" in capsys.readouterr().err
    monkeypatch.setenv("SMALLFRY_SPEC_KEY", KEY)
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    forged = tmp_path / "alice" / "forged.json"
    assert out == [f"{forged}: signature: {UNSIGNED}"]


def test_validate_command_says_what_a_broken_chain_dag_would_say(tmp_path, monkeypatch, capsys):
    """``validate`` runs the chain rules too: a job after a missing one, and a cycle."""
    from jupyterlab_smallfry.airflow.__main__ import main

    monkeypatch.delenv("SMALLFRY_SPEC_KEY_FILE", raising=False)
    monkeypatch.delenv("SMALLFRY_SPEC_KEY", raising=False)
    manual = {"type": "manual"}
    folder = tmp_path / "alice"
    folder.mkdir()
    specs = {
        "extract": _spec("extract"),
        "report": _spec("report", schedule=manual, after=["extract"]),
        "orphan": _spec("orphan", schedule=manual, after=["gone"]),
        "ping": _spec("ping", schedule=manual, after=["pong"]),
        "pong": _spec("pong", schedule=manual, after=["ping"]),
    }
    for job_id, spec in specs.items():
        (folder / f"{job_id}.json").write_text(json.dumps(spec))
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    flagged = {line.split(":")[0].rsplit("/", 1)[-1] for line in out.strip().splitlines()}
    assert flagged == {"orphan.json", "ping.json", "pong.json"}, out
    assert "'gone'" in out and "ping → pong → ping" in out


# --- shards: the specs spread over several DAG-folder files ---------------------------------

# Builds every shard of a jobs folder in turn, through the Python API.
SHARDS = r"""
import json, sys, types, warnings
warnings.simplefilter("ignore")
from jupyterlab_smallfry.airflow import build_dags
n = int(sys.argv[2])
print(json.dumps({i: sorted(build_dags({}, sys.argv[1], i, n)) for i in range(n)}))
"""

# Airflow's own DagBag over a DAG folder: what the DAG processor loads, file by file.
DAGBAG = r"""
import json, os, sys, warnings
warnings.simplefilter("ignore")
from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "dags": {d: {"file": os.path.basename(dag.fileloc), "tags": sorted(dag.tags)}
             for d, dag in bag.dags.items()},
    "errors": {os.path.basename(f): e[-300:] for f, e in bag.import_errors.items()},
}))
"""


def _run_in_airflow(python, script, *args, env=None):
    proc = subprocess.run(
        [str(python), "-c", script, *map(str, args)],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("SMALLFRY_", "AIRFLOW"))},
            "PYTHONPATH": str(SERVER_EXT),
            "AIRFLOW_HOME": tempfile.mkdtemp(prefix="smallfry-shard-home-"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def many_owners():
    """12 owners with 2 specs each (one owner's second spec broken)."""
    jobs = Path(tempfile.mkdtemp(prefix="smallfry-shards-"))
    full = json.loads((FIXTURES / "valid" / "full.json").read_text())
    owners = [f"user{i:02d}" for i in range(11)] + ["émile@example.com"]
    for owner in owners:
        folder = jobs / owner_key(owner)
        folder.mkdir()
        for job in ("a", "b"):
            (folder / f"{job}.json").write_text(json.dumps({**full, "id": job, "owner": owner}))
    (jobs / "user03" / "b.json").write_text('{"id": "b", ')  # broken: a placeholder DAG
    return jobs, owners


def test_each_spec_lands_in_exactly_one_shard_the_same_in_every_process(many_owners):
    from jupyterlab_smallfry.airflow.naming import dag_id_for

    jobs, owners = many_owners
    python = ensure_venv()
    every = {dag_id_for(o, j) for o in owners for j in ("a", "b")}
    first = _run_in_airflow(python, SHARDS, jobs, 4, env={"PYTHONHASHSEED": "1"})
    again = _run_in_airflow(python, SHARDS, jobs, 4, env={"PYTHONHASHSEED": "2"})
    assert first == again  # no salted hash: the DAG processor and the workers agree
    placed = [dag for dags in first.values() for dag in dags]
    assert sorted(placed) == sorted(every)  # each spec once, none lost
    assert sum(1 for dags in first.values() if dags) > 1  # really spread
    # All of one owner's jobs are built by the same file.
    for owner in owners:
        (home,) = {i for i, dags in first.items() if dag_id_for(owner, "a") in dags}
        assert dag_id_for(owner, "b") in first[home]


def test_a_shard_that_fails_to_parse_hides_no_other_shards_jobs(many_owners, tmp_path):
    """Through Airflow's DagBag: the shard files (as ``dag-files`` writes them) each build
    their owners' DAGs; one whose parse raises is one import error, and only its owners'
    jobs are missing; a broken spec stays a placeholder in its own shard."""
    from jupyterlab_smallfry.airflow import write_dag_files
    from jupyterlab_smallfry.airflow.naming import dag_id_for, shard_file_name, shard_of

    jobs, owners = many_owners
    python = ensure_venv()
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "smallfry_jobs.py").write_text("old single-file layout\n")
    assert write_dag_files(dags, str(jobs), 4) == [dags / "smallfry_jobs.py"]
    whole = _run_in_airflow(python, DAGBAG, dags)
    assert whole["errors"] == {}
    assert set(whole["dags"]) == {dag_id_for(o, j) for o in owners for j in ("a", "b")}
    for dag_id, dag in whole["dags"].items():
        owner = next(o for o in owners if dag_id in (dag_id_for(o, "a"), dag_id_for(o, "b")))
        assert dag["file"] == shard_file_name(shard_of(owner_key(owner), 4), 4)
    assert "invalid-spec" in whole["dags"][dag_id_for("user03", "b")]["tags"]

    # Break the shard that holds user03 (whose broken spec did not break it).
    doomed = shard_file_name(shard_of("user03", 4), 4)
    with open(dags / doomed, "a") as fh:
        fh.write("raise RuntimeError('this shard cannot be parsed')\n")
    broken = _run_in_airflow(python, DAGBAG, dags)
    assert list(broken["errors"]) == [doomed]
    assert "this shard cannot be parsed" in broken["errors"][doomed]
    lost = {d for d, v in whole["dags"].items() if v["file"] == doomed}
    assert dag_id_for("user03", "a") in lost
    assert set(broken["dags"]) == set(whole["dags"]) - lost  # every other owner's jobs stay
    assert 0 < len(lost) < len(whole["dags"]) // 2


def test_shard_files_are_named_and_checked():
    from jupyterlab_smallfry.airflow import dag_folder_file, dag_folder_files
    from jupyterlab_smallfry.airflow.naming import check_shard, shard_from_file_name

    files = dag_folder_files("/jobs", 16)
    assert next(iter(files)) == "smallfry_jobs_00_of_16.py" and len(files) == 16
    assert set(files.values()) == {dag_folder_file("/jobs")}
    assert shard_from_file_name("/dags/smallfry_jobs_15_of_16.py") == (15, 16)
    assert shard_from_file_name("/dags/smallfry_jobs.py") == (None, None)
    with pytest.raises(ValueError, match="shard must be a whole number from 0 to 15"):
        check_shard(16, 16)
    with pytest.raises(ValueError, match="shards must be"):
        check_shard(0, 0)


def test_shard_files_load_and_run_in_real_airflow(many_owners, tmp_path):
    """The Airflow CLI on a sharded DAG folder: every spec is a DAG recorded against its own
    shard file, nothing fails to import, and a task runs from its shard (the worker parses
    only that file; here the placeholder of the broken spec fails with its message)."""
    from jupyterlab_smallfry.airflow import write_dag_files
    from jupyterlab_smallfry.airflow.naming import dag_id_for, shard_file_name, shard_of

    from .airflow_env import Airflow

    jobs, owners = many_owners
    airflow = Airflow(ensure_venv(), tmp_path / "home")
    write_dag_files(airflow.dags, str(jobs), 4)
    airflow.run("db", "migrate")
    airflow.run("dags", "reserialize")
    listed = _cli_json(airflow.run("dags", "list", "-o", "json").stdout)
    files = {d["dag_id"]: os.path.basename(d["fileloc"]) for d in listed}
    assert set(files) == {dag_id_for(o, j) for o in owners for j in ("a", "b")}
    for owner in owners:
        assert files[dag_id_for(owner, "a")] == shard_file_name(shard_of(owner_key(owner), 4), 4)
    assert _cli_json(airflow.run("dags", "list-import-errors", "-o", "json").stdout) == []
    proc = airflow.run("dags", "test", dag_id_for("user03", "b"), check=False, timeout=300)
    assert "Invalid Small Fry job spec: the file is not valid JSON" in proc.stdout + proc.stderr


def _cli_json(stdout: str):
    """The JSON document in an Airflow CLI's stdout (warnings may come before it)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(("[{", "[]", "{")):
            return json.loads(line)
    raise AssertionError(f"no JSON in:\n{stdout[-2000:]}")


# Builds a folder as one file with a low warning threshold; prints the factory's warnings.
CROWDED = r"""
import json, logging, sys, warnings
warnings.simplefilter("ignore")
logs = []
class Collect(logging.Handler):
    def emit(self, record):
        logs.append(record.getMessage())
logging.getLogger("jupyterlab_smallfry").addHandler(Collect(level=logging.WARNING))
from jupyterlab_smallfry.airflow import build_dags, factory
factory.SPECS_PER_FILE_WARNING = int(sys.argv[2])
build_dags({"__file__": "/dags/smallfry_jobs.py"}, sys.argv[1])
build_dags({"__file__": "/dags/smallfry_jobs_0_of_4.py"}, sys.argv[1])
print(json.dumps([m for m in logs if "dagbag_import_timeout" in m]))
"""


def test_a_crowded_single_file_says_to_shard(many_owners):
    jobs, _owners = many_owners
    said = _run_in_airflow(ensure_venv(), CROWDED, jobs, 20)
    assert len(said) == 1  # the single file (24 specs), not the shard
    assert "builds 24 job specs" in said[0] and "smallfry-airflow dag-files" in said[0]


# --- chained jobs: after: runs on the upstreams' assets; a broken chain says why -------------


@pytest.fixture(scope="module")
def chained():
    python = ensure_venv()
    jobs = Path(tempfile.mkdtemp(prefix="smallfry-factory-chain-"))
    for owner in ("alice", "bob"):
        (jobs / owner).mkdir()
    manual = {"schedule": {"type": "manual"}}
    specs = {
        "alice/extract": _spec("extract"),  # cron: an upstream may have its own schedule
        "alice/clean": _spec("clean", **manual),
        "alice/report": _spec("report", after=["extract", "clean"], **manual),
        "alice/loop-a": _spec("loop-a", after=["loop-b"], **manual),
        "alice/loop-b": _spec("loop-b", after=["loop-a"], **manual),
        "alice/after-loop": _spec("after-loop", after=["loop-a"], **manual),
        "alice/orphan": _spec("orphan", after=["gone"], **manual),
        "alice/two-clocks": _spec("two-clocks", after=["extract"]),
        "alice/broken": {**_spec("broken"), "schedule": {"type": "cron", "cron": "61 * * * *"}},
        "alice/after-broken": _spec("after-broken", after=["broken"], **manual),
        # bob has no "extract": alice's is not his.
        "bob/report": _spec("report", owner="bob", after=["extract"], **manual),
    }
    for name, spec in specs.items():
        (jobs / f"{name}.json").write_text(json.dumps(spec))
    return _inspector(python, jobs)


def test_a_job_after_others_runs_when_all_their_assets_update(chained):
    dags = chained()
    report = dags["smallfry__alice__report"]
    assert "invalid-spec" not in report["tags"], report["description"]
    assert report["timetable"] == "AssetTriggeredTimetable"
    assert report["schedule_assets"] == [
        asset_name("alice", "extract"),
        asset_name("alice", "clean"),
    ]
    assert report["outlets"] == [asset_name("alice", "report")]
    extract = dags["smallfry__alice__extract"]
    assert (extract["timetable"], extract["cron"]) == ("CronTriggerTimetable", "0 6 * * 1-5")
    assert extract["outlets"] == [asset_name("alice", "extract")]


@pytest.mark.parametrize(
    "dag_id,words",
    [
        ("smallfry__alice__loop-a", "wait for each other forever: loop-a → loop-b → loop-a"),
        ("smallfry__alice__loop-b", "wait for each other forever: loop-b → loop-a → loop-b"),
        ("smallfry__alice__after-loop", "after: the job 'loop-a' is not valid"),
        ("smallfry__alice__orphan", "after: no job of yours is called 'gone'"),
        ("smallfry__alice__two-clocks", "takes its times from them"),
        ("smallfry__alice__after-broken", "after: the job 'broken' is not valid"),
        ("smallfry__bob__report", "after: no job of yours is called 'extract'"),
    ],
)
def test_a_broken_chain_is_a_placeholder_saying_why(chained, dag_id, words):
    dag = chained()[dag_id]
    assert "invalid-spec" in dag["tags"] and dag["task_type"] == "InvalidSpecOperator"
    assert words in dag["description"]


def test_a_task_of_a_chained_job_builds_the_same_dag_alone(chained):
    dags = chained(
        {
            "_AIRFLOW_PARSING_CONTEXT_DAG_ID": "smallfry__alice__report",
            "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "run_notebook",
        }
    )
    assert list(dags) == ["smallfry__alice__report"]
    assert dags["smallfry__alice__report"]["task_type"] == "NotebookJobOperator"
    loop = chained(
        {
            "_AIRFLOW_PARSING_CONTEXT_DAG_ID": "smallfry__alice__after-loop",
            "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "invalid_spec",
        }
    )
    assert "invalid-spec" in loop["smallfry__alice__after-loop"]["tags"]


# The run options a task passes to the runner, from what Airflow puts in its context.
OPTIONS = r"""
import datetime as dt, json, sys, types, warnings
warnings.simplefilter("ignore")
from airflow.sdk import Asset
from airflow.sdk.api.datamodels._generated import DagRunType
from airflow.sdk.execution_time.context import OutletEventAccessors
from jupyterlab_smallfry.airflow.operators import record_success, run_options
from jupyterlab_smallfry.jobs.chain import asset_name

spec = {"id": "report", "owner": "alice", "after": ["extract", "clean"]}
def run(run_type, conf=None, events=None, try_number=1):
    dag_run = types.SimpleNamespace(run_type=run_type, conf=conf)
    return run_options(spec, {"dag_run": dag_run, "triggering_asset_events": events}, try_number)

def event(job, run_id, minute, extra=True, source="asset_triggered__x"):
    return types.SimpleNamespace(
        asset=types.SimpleNamespace(name=asset_name("alice", job)),
        extra={"job_id": job, "run_id": run_id} if extra else {},
        source_run_id=source,
        timestamp=dt.datetime(2026, 11, 30, 12, minute, tzinfo=dt.timezone.utc),
    )
events = {
    "a": [event("extract", "manual__old", 1), event("extract", "manual__new", 5)],
    "b": [event("clean", "ignored", 2, extra=False, source="scheduled__c")],
    "c": [types.SimpleNamespace(asset=types.SimpleNamespace(name=asset_name("bob", "extract")),
          extra={"run_id": "bobs"}, source_run_id="bobs", timestamp=None)],
}
outlets = OutletEventAccessors()
record_success({"id": "extract", "owner": "alice"}, {"outlet_events": outlets}, "manual__1-try2")
print(json.dumps({
    "asset": run(DagRunType.ASSET_TRIGGERED, events=events),
    "asset_retry": run(DagRunType.ASSET_TRIGGERED, events=events, try_number=2),
    "scheduled": run(DagRunType.SCHEDULED),
    "manual": run(DagRunType.MANUAL, conf={}),
    "rerun": run(DagRunType.MANUAL, conf={"options": {"parameters": {"x": 1}, "triggered_by": "rerun"}}),
    "retry": run(DagRunType.MANUAL, conf={"options": {"parameters": {"x": 1}}}, try_number=3),
    "outlet_extra": outlets[Asset(name=asset_name("alice", "extract"))].extra,
}))
"""


def test_the_task_tells_the_runner_why_it_runs_and_which_upstream_runs_released_it(tmp_path):
    proc = subprocess.run(
        [str(ensure_venv()), "-c", OPTIONS],
        env={**os.environ, "PYTHONPATH": str(SERVER_EXT), "AIRFLOW_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # The newest event per upstream, in the spec's order; the run id the upstream recorded,
    # else the Airflow run that emitted the event; another owner's asset is never taken.
    upstream = [
        {"job_id": "extract", "run_id": "manual__new"},
        {"job_id": "clean", "run_id": "scheduled__c"},
    ]
    assert out["asset"] == {"triggered_by": "upstream", "upstream": upstream}
    assert out["asset_retry"] == {"triggered_by": "retry", "upstream": upstream}
    assert out["scheduled"] == {"triggered_by": "schedule"}
    assert out["manual"] == {"triggered_by": "run_now"}
    assert out["rerun"] == {"parameters": {"x": 1}, "triggered_by": "rerun"}
    assert out["retry"] == {"parameters": {"x": 1}, "triggered_by": "retry"}
    assert out["outlet_extra"] == {"job_id": "extract", "run_id": "manual__1-try2"}
