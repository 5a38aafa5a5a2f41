"""End to end on a real Airflow 3 (own venv, sqlite): specs made through the Jupyter server's
endpoint become DAGs through the two-line DAG-folder file, and ``airflow dags test`` runs them
with papermill against a real (moto) S3 server."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from .airflow_env import Airflow, ensure_venv, timed
from .jobs_support import FAILING, REPORT, cell_text, injected_source, read_json
from .processes import AWS_TEST_ENV, jupyter_server

pytestmark = pytest.mark.timeout(900)

BUCKET = "smallfry-airflow"
SECRETISH = "{{ conn.aws_default.password }}"
TIMINGS: list = []


@pytest.fixture(scope="module")
def world(moto_url, direct_s3):
    """Jobs created through the endpoint, a broken spec beside them, and an Airflow home."""
    with timed("airflow venv (cached after the first run)", TIMINGS):
        python = ensure_venv()
    direct_s3.create_bucket(Bucket=BUCKET)
    direct_s3.put_object(Bucket=BUCKET, Key="notebooks/report.ipynb", Body=REPORT)
    direct_s3.put_object(Bucket=BUCKET, Key="notebooks/failing.ipynb", Body=FAILING)
    jobs_dir = Path(tempfile.mkdtemp(prefix="smallfry-af-jobs-"))
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}",
        f"--SmallFry.jobs_uri={jobs_dir}",
        f"--SmallFry.runs_uri=s3://{BUCKET}/runs/",
        "--ServerApp.identity_provider_class="
        "jupyterlab_smallfry.tests.jobs_identity.TokenPerUserIdentityProvider",
        env={"SMALLFRY_TEST_USERS": json.dumps({"tok-alice": "alice"})},
    ) as srv:
        import requests

        session = requests.Session()
        session.headers["Authorization"] = "token tok-alice"
        for job_id, source, params in [
            ("report", "report.ipynb", {"region": "EU", "days": 5, "note": SECRETISH}),
            ("failing", "failing.ipynb", {}),
        ]:
            r = session.post(
                srv.url + "smallfry/jobs",
                json={
                    "id": job_id,
                    "title": f"{job_id} notebook",
                    "notebook": {"source": f"s3://{BUCKET}/notebooks/{source}"},
                    "parameters": params,
                    "schedule": {
                        "type": "cron",
                        "cron": "0 6 * * 1-5",
                        "timezone": "Europe/Amsterdam",
                        "start_date": "2026-11-01",
                    },
                    "retries": {"count": 0},
                    "timeout_seconds": 600,
                },
            )
            assert r.status_code == 201, r.text
    # Specs that must not become jobs, but must not hide the others either.
    (jobs_dir / "alice" / "broken.json").write_text(
        (jobs_dir / "alice" / "report.json")
        .read_text()
        .replace('"0 6 * * 1-5"', '"0 6 * * 1-5 2026"')
        .replace('"report"', '"broken"')
    )
    (jobs_dir / "bob").mkdir()
    (jobs_dir / "bob" / "garbage.json").write_text('{"id": "garbage", ')
    in_pod = json.loads((jobs_dir / "alice" / "report.json").read_text())
    in_pod.update(id="in-pod", image="registry.example.com/team/notebooks:1.2")
    (jobs_dir / "alice" / "in-pod.json").write_text(json.dumps(in_pod))
    # A file in carol's folder that claims alice: the folder decides whose job it is.
    (jobs_dir / "carol").mkdir()
    (jobs_dir / "carol" / "report.json").write_text(
        (jobs_dir / "alice" / "report.json").read_text()
    )

    home = Path(tempfile.mkdtemp(prefix="smallfry-airflow-home-"))
    airflow = Airflow(python, home, {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": moto_url})
    dag_file = airflow.python_run(
        "-m", "jupyterlab_smallfry.airflow", "dag-file", "--jobs-dir", str(jobs_dir)
    ).stdout
    (airflow.dags / "smallfry_jobs.py").write_text(dag_file)
    with timed("airflow db migrate", TIMINGS):
        airflow.run("db", "migrate")
    with timed("airflow dags reserialize", TIMINGS):
        airflow.run("dags", "reserialize")
    yield {"airflow": airflow, "jobs_dir": jobs_dir, "dag_file": dag_file}
    print("\nReal Airflow timings (s):", TIMINGS)


def _json_out(stdout: str):
    """The JSON document in a CLI's stdout (Airflow may print warnings before it)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(("[{", "[]", "{")):
            return json.loads(line)
    raise AssertionError(f"no JSON in:\n{stdout[-2000:]}")


def _runs(direct_s3, job: str) -> list[str]:
    listed = direct_s3.list_objects_v2(Bucket=BUCKET, Prefix=f"runs/alice/{job}/")
    return sorted(o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith("/run.json"))


def test_dag_folder_file_is_two_lines(world):
    lines = world["dag_file"].splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("from jupyterlab_smallfry.airflow import build_dags")
    assert str(world["jobs_dir"]) in lines[1]


def test_every_spec_is_a_dag_and_nothing_fails_to_import(world):
    airflow = world["airflow"]
    with timed("airflow dags list", TIMINGS):
        listed = _json_out(airflow.run("dags", "list", "-o", "json").stdout)
    ids = sorted(d["dag_id"] for d in listed)
    assert ids == [
        "smallfry__alice__broken",
        "smallfry__alice__failing",
        "smallfry__alice__in-pod",
        "smallfry__alice__report",
        "smallfry__bob__garbage",
        "smallfry__carol__report",
    ]
    owners = {d["dag_id"]: d["owners"] for d in listed}
    assert owners["smallfry__bob__garbage"] == ["bob"]
    assert owners["smallfry__carol__report"] == ["carol"]
    assert _json_out(airflow.run("dags", "list-import-errors", "-o", "json").stdout) == []
    details = _json_out(
        airflow.run("dags", "details", "smallfry__alice__report", "-o", "json").stdout
    )
    detail = details[0] if isinstance(details, list) else details
    assert "0 6 * * 1-5" in json.dumps(detail.get("timetable_summary") or detail)
    assert detail.get("timezone") in (None, "UTC") or "Amsterdam" in json.dumps(detail)
    assert "invalid-spec" not in json.dumps(detail.get("tags"))
    # The Kubernetes provider is in Airflow's venv: a job with a container image is a real
    # job DAG (its task runs in a pod of that image, tests/test_deploy_job_pod.py), never
    # silently on the worker and never a placeholder.
    pod = _json_out(airflow.run("dags", "details", "smallfry__alice__in-pod", "-o", "json").stdout)
    pod = pod[0] if isinstance(pod, list) else pod
    assert "invalid-spec" not in json.dumps(pod["tags"]) and "INVALID" not in pod["description"]


def test_dags_test_runs_the_notebook_into_s3(world, direct_s3):
    with timed("airflow dags test (success)", TIMINGS):
        proc = world["airflow"].run(
            "dags", "test", "smallfry__alice__report", check=False, timeout=600
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    keys = _runs(direct_s3, "report")
    assert len(keys) == 1, keys
    run = read_json(direct_s3, BUCKET, keys[0])
    assert run["status"] == "success", run
    assert run["trigger"] == "airflow"
    assert run["parameters"] == {"region": "EU", "days": 5, "note": SECRETISH}
    out = read_json(direct_s3, BUCKET, keys[0].replace("run.json", "output.ipynb"))
    text = cell_text(out)
    assert "REPORT region=EU doubled=10" in text
    # The user's string stayed a literal: Airflow never rendered it as a template.
    assert "NOTE=" + SECRETISH in text
    assert json.dumps(SECRETISH) in injected_source(out) or repr(SECRETISH) in injected_source(out)


def test_failing_notebook_fails_the_task_and_leaves_its_run_log(world, direct_s3):
    with timed("airflow dags test (failing notebook)", TIMINGS):
        proc = world["airflow"].run(
            "dags", "test", "smallfry__alice__failing", check=False, timeout=600
        )
    logs = proc.stdout + proc.stderr
    assert "The notebook failed in cell [3]: ValueError: boom 42" in logs
    keys = _runs(direct_s3, "failing")
    assert len(keys) == 1, keys
    run = read_json(direct_s3, BUCKET, keys[0])
    assert run["status"] == "failed"
    assert run["error"]["type"] == "ValueError" and run["error"]["message"] == "boom 42"
    assert "raise ValueError" in run["error"]["cell_source"]
    assert run["error"]["execution_count"] == 3  # no parameters given, so none injected
    out = read_json(direct_s3, BUCKET, keys[0].replace("run.json", "output.ipynb"))
    assert "before the failure" in cell_text(out)


def test_invalid_spec_is_a_placeholder_that_fails_with_the_message(world):
    with timed("airflow dags test (invalid spec)", TIMINGS):
        proc = world["airflow"].run(
            "dags", "test", "smallfry__alice__broken", check=False, timeout=300
        )
    logs = proc.stdout + proc.stderr
    assert "Invalid Small Fry job spec: schedule.cron: needs 5 fields" in logs
    assert "run_notebook" not in logs
    with timed("airflow dags test (unparseable spec)", TIMINGS):
        proc = world["airflow"].run(
            "dags", "test", "smallfry__bob__garbage", check=False, timeout=300
        )
    assert "Invalid Small Fry job spec: the file is not valid JSON" in proc.stdout + proc.stderr


def test_run_now_triggers_the_dag_through_airflows_api(world, moto_url, direct_s3):
    """With SmallFry.airflow_api_url set, "Run now" starts a DAG run in Airflow (api-server,
    simple auth manager with a real password) instead of running papermill in Jupyter."""
    import os
    import subprocess
    from urllib.parse import quote

    import requests

    from .processes import free_port, wait_for_url

    airflow = world["airflow"]
    port = free_port()
    env = {**airflow.env, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "smallfry:admin"}
    with timed("airflow api-server start", TIMINGS):
        with open(airflow.home / "api-server.log", "wb") as log:  # the server keeps its own handle
            proc = subprocess.Popen(
                [
                    str(airflow.python),
                    "-m",
                    "airflow",
                    "api-server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=env,
                cwd=airflow.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        api = f"http://127.0.0.1:{port}"
        try:
            wait_for_url(f"{api}/api/v2/version", proc, timeout=240)
        except Exception:
            os.killpg(proc.pid, 15)
            raise
    try:
        passwords = json.loads(
            (airflow.home / "simple_auth_manager_passwords.json.generated").read_text()
        )
        password = passwords["smallfry"]
        with jupyter_server(
            f"--SmallFry.endpoint_url={moto_url}",
            f"--SmallFry.jobs_uri={world['jobs_dir']}",
            f"--SmallFry.runs_uri=s3://{BUCKET}/runs/",
            f"--SmallFry.airflow_api_url=http://smallfry:{quote(password, safe='')}@127.0.0.1:{port}/api/v2",
            "--ServerApp.identity_provider_class="
            "jupyterlab_smallfry.tests.jobs_identity.TokenPerUserIdentityProvider",
            env={"SMALLFRY_TEST_USERS": json.dumps({"tok-alice": "alice"})},
        ) as srv:
            session = requests.Session()
            session.headers["Authorization"] = "token tok-alice"
            r = session.post(srv.url + "smallfry/jobs/report/run")
            assert r.status_code == 202, r.text
            answer = r.json()
            assert answer["airflow"] is True and answer["dag_id"] == "smallfry__alice__report"
            assert answer["run_id"].startswith("manual__")
            runs = session.get(srv.url + "smallfry/jobs/report").json()["runs"]
            assert runs[0]["run_id"] == answer["run_id"] and runs[0]["status"] == "queued"
            assert password not in srv.log_text()
        token = requests.post(
            f"{api}/auth/token", json={"username": "smallfry", "password": password}
        ).json()["access_token"]
        run = requests.get(
            f"{api}/api/v2/dags/smallfry__alice__report/dagRuns/{quote(answer['run_id'])}",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert run["dag_run_id"] == answer["run_id"]
        assert run["triggered_by"] == "rest_api" and "alice" in (run.get("note") or "")
        # Why it ran, for the task to hand the runner (run.json then says run_now).
        assert run["conf"] == {"options": {"triggered_by": "run_now"}}
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)


def test_dags_test_with_run_options_in_its_conf(world, direct_s3):
    """``airflow dags test --conf`` hands the task the run options a Jupyter server puts in
    ``dag_run.conf`` (test_airflow_chain.py sends them through the REST API to a real
    scheduler): other parameters run with the spec's rules; parameters those rules refuse
    make a failed run whose run.json says why, and no notebook runs."""
    airflow = world["airflow"]

    def dags_test(options: dict) -> tuple[object, str, dict]:
        """The CLI's answer, the run's folder (key prefix) and its run.json."""
        before = set(_runs(direct_s3, "report"))
        with timed(f"airflow dags test --conf ({options['triggered_by']})", TIMINGS):
            proc = airflow.run(
                "dags",
                "test",
                "smallfry__alice__report",
                "--conf",
                json.dumps({"options": options}),
                check=False,
                timeout=600,
            )
        new = sorted(set(_runs(direct_s3, "report")) - before)
        assert len(new) == 1, (new, proc.stdout[-3000:] + proc.stderr[-3000:])
        return proc, new[0].removesuffix("run.json"), read_json(direct_s3, BUCKET, new[0])

    other = {"region": "APAC", "days": 2, "note": "from the conf"}
    proc, folder, run = dags_test({"parameters": other, "triggered_by": "parameters"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert run["status"] == "success" and run["triggered_by"] == "parameters", run
    assert run["parameters"] == other
    out = read_json(direct_s3, BUCKET, run["output_uri"].split("/", 3)[3])
    assert "REPORT region=APAC doubled=4" in cell_text(out)
    assert "NOTE=from the conf" in cell_text(out)
    progress = read_json(direct_s3, BUCKET, folder + "progress.json")
    assert progress["state"] == "done" and progress["cell"] == progress["cells"] == run["cells"]

    proc, folder, run = dags_test({"parameters": {"not-a-name": 1}, "triggered_by": "parameters"})
    assert proc.returncode != 0
    assert run["status"] == "failed" and run["error"]["type"] == "InvalidRunOptions", run
    assert "not-a-name" in run["error"]["message"]
    assert "not a valid parameter name" in run["error"]["message"]
    assert run["triggered_by"] == "parameters"
    listed = direct_s3.list_objects_v2(Bucket=BUCKET, Prefix=folder)
    assert not [o for o in listed.get("Contents", []) if o["Key"].endswith("output.ipynb")]
