"""The runner with real papermill and a real ipykernel, writing to a real (moto) S3 server."""

from __future__ import annotations

import json

import pytest

from jupyterlab_smallfry.jobs.runner import run_spec
from jupyterlab_smallfry.jobs.signing import sign_spec
from jupyterlab_smallfry.jobs.snapshot import take_snapshot

from .jobs_support import (
    FAILING,
    REPORT,
    cell_text,
    injected_source,
    notebook,
    read_json,
    s3_storage,
    spec_for,
)

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def storage(moto_url):
    return s3_storage(moto_url)


def _snap(storage, bucket, data):
    return take_snapshot(storage, data, f"s3://{bucket}/snapshots/")


def test_successful_run_writes_executed_notebook_and_manifest(storage, direct_s3, bucket):
    uri, sha = _snap(storage, bucket, REPORT)
    spec = spec_for("report", uri, sha, f"s3://{bucket}/runs/")
    manifest = run_spec(spec, "manual__2026-11-24T06:00:00+00:00", storage)

    folder = "runs/alice/report/manual__2026-11-24T06-00-00-00-00/"
    run = read_json(direct_s3, bucket, folder + "run.json")
    assert run["status"] == manifest["status"] == "success"
    assert run["parameters"] == {"region": "EU", "days": 21}
    assert run["error"] is None and run["duration_seconds"] > 0 and run["end"] >= run["start"]
    out = read_json(direct_s3, bucket, folder + "output.ipynb")
    assert "REPORT region=EU doubled=42" in cell_text(out)
    assert 'region = "EU"' in injected_source(out)
    assert out["metadata"]["papermill"]["parameters"] == {"region": "EU", "days": 21}
    assert run["output_uri"] == f"s3://{bucket}/{folder}output.ipynb"


def test_failing_notebook_leaves_output_and_failed_manifest_with_the_cell(
    storage, direct_s3, bucket
):
    uri, sha = _snap(storage, bucket, FAILING)
    spec = spec_for("failing", uri, sha, f"s3://{bucket}/runs/")
    manifest = run_spec(spec, "run-1", storage)

    run = read_json(direct_s3, bucket, "runs/alice/failing/run-1/run.json")
    assert run["status"] == manifest["status"] == "failed"
    assert run["error"]["type"] == "ValueError"
    assert run["error"]["message"] == "boom 42"
    assert 'raise ValueError(f"boom {x + 1}")' in run["error"]["cell_source"]
    assert run["error"]["execution_count"] == 4  # parameters, injected, print, raise
    out = read_json(direct_s3, bucket, "runs/alice/failing/run-1/output.ipynb")
    text = cell_text(out)
    assert "before the failure" in text and "never" not in text.replace("before", "")
    assert out["metadata"]["papermill"]["exception"] is True


def test_template_looking_parameter_reaches_the_notebook_literally(storage, direct_s3, bucket):
    uri, sha = _snap(storage, bucket, REPORT)
    secretish = "{{ conn.aws_default.password }}"
    spec = spec_for(
        "literal",
        uri,
        sha,
        f"s3://{bucket}/runs/",
        parameters={"note": secretish, "region": "{% raw %}x"},
    )
    assert run_spec(spec, "r1", storage)["status"] == "success"
    out = read_json(direct_s3, bucket, "runs/alice/literal/r1/output.ipynb")
    assert "NOTE=" + secretish in cell_text(out)
    assert "REPORT region={% raw %}x" in cell_text(out)


def test_the_kernel_library_sees_the_runs_parameters(storage, direct_s3, bucket):
    # sf.params in a scheduled notebook: the same values papermill injected.
    reads = notebook('import smallfry as sf\nprint("PARAMS", sorted(sf.params.items()))')
    uri, sha = _snap(storage, bucket, reads)
    spec = spec_for("params", uri, sha, f"s3://{bucket}/runs/", parameters={"region": "EU"})
    assert run_spec(spec, "r1", storage)["status"] == "success"
    out = read_json(direct_s3, bucket, "runs/alice/params/r1/output.ipynb")
    assert "PARAMS [('region', 'EU')]" in cell_text(out)


def test_changed_snapshot_is_refused_not_run(storage, direct_s3, bucket):
    uri, sha = _snap(storage, bucket, REPORT)
    direct_s3.put_object(Bucket=bucket, Key=uri.split("/", 3)[3], Body=FAILING)
    manifest = run_spec(spec_for("tampered", uri, sha, f"s3://{bucket}/runs/"), "r1", storage)
    assert manifest["status"] == "failed"
    assert "snapshot changed" in manifest["error"]["message"]
    assert read_json(direct_s3, bucket, "runs/alice/tampered/r1/run.json")["status"] == "failed"


def test_hidden_code_and_html_output(storage, direct_s3, bucket):
    uri, sha = _snap(storage, bucket, REPORT)
    spec = spec_for(
        "html",
        uri,
        sha,
        f"s3://{bucket}/runs/",
        output={
            "uri_template": f"s3://{bucket}/runs/{{owner}}/{{job_id}}/{{run_id}}/",
            "formats": ["ipynb", "html"],
            "hide_code": True,
        },
    )
    assert run_spec(spec, "r1", storage)["status"] == "success"
    out = read_json(direct_s3, bucket, "runs/alice/html/r1/output.ipynb")
    code = [c for c in out["cells"] if c["cell_type"] == "code"]
    assert all(c["metadata"].get("jupyter", {}).get("source_hidden") for c in code)
    html = direct_s3.get_object(Bucket=bucket, Key="runs/alice/html/r1/output.html")["Body"].read()
    assert b"REPORT region=EU doubled=42" in html


def test_run_as_role_is_assumed_for_the_run_and_given_to_the_kernel(
    moto_url, direct_s3, bucket, monkeypatch
):
    from jupyterlab_smallfry.jobs.runner import assume_run_as

    from .jobs_support import notebook
    from .processes import AWS_TEST_ENV

    for key, value in {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": moto_url}.items():
        monkeypatch.setenv(key, value)
    who = notebook(
        'import boto3, os\nprint("ARN=" + boto3.client("sts").get_caller_identity()["Arn"])\n'
        'print("KEY=" + os.environ["AWS_ACCESS_KEY_ID"])',
        parameters=None,
    )
    uri, sha = take_snapshot(s3_storage(moto_url), who, f"s3://{bucket}/snapshots/")
    spec = spec_for(
        "as-role",
        uri,
        sha,
        f"s3://{bucket}/runs/",
        parameters={},
        run_as={"role_arn": "arn:aws:iam::123456789012:role/reports"},
    )
    storage, kernel_env = assume_run_as(spec, "r1")
    assert kernel_env["AWS_ACCESS_KEY_ID"] != AWS_TEST_ENV["AWS_ACCESS_KEY_ID"]
    assert run_spec(spec, "r1", storage, kernel_env=kernel_env)["status"] == "success"
    text = cell_text(read_json(direct_s3, bucket, "runs/alice/as-role/r1/output.ipynb"))
    assert "ARN=arn:aws:sts::123456789012:assumed-role/reports/alice" in text
    assert "KEY=" + kernel_env["AWS_ACCESS_KEY_ID"] in text
    manifest = read_json(direct_s3, bucket, "runs/alice/as-role/r1/run.json")
    assert manifest["aws_identity"] == {
        "arn": "arn:aws:sts::123456789012:assumed-role/reports/alice",
        "role_arn": "arn:aws:iam::123456789012:role/reports",
    }
    import os

    assert (
        os.environ["AWS_ACCESS_KEY_ID"] == AWS_TEST_ENV["AWS_ACCESS_KEY_ID"]
    )  # restored after the run


def test_runner_program_as_a_container_runs_it(moto_url, direct_s3, bucket):
    """What a Kubernetes pod of a spec's image runs: the request in an env var, keys ambient."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from .processes import AWS_TEST_ENV

    uri, sha = take_snapshot(s3_storage(moto_url), REPORT, f"s3://{bucket}/snapshots/")
    request = {
        "spec": spec_for("pod", uri, sha, f"s3://{bucket}/runs/"),
        "run_id": "scheduled__x",
        "trigger": "airflow",
    }
    env = {
        **os.environ,
        **AWS_TEST_ENV,
        "AWS_ENDPOINT_URL": moto_url,
        "SMALLFRY_RUN_REQUEST": json.dumps(request),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "jupyterlab_smallfry.jobs.runner"],
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (
        read_json(direct_s3, bucket, "runs/alice/pod/scheduled__x/run.json")["status"] == "success"
    )


def test_runner_program_stops_a_run_at_its_timeout_and_says_so(moto_url, direct_s3, bucket):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from jupyterlab_smallfry.jobs import runner

    from .jobs_support import notebook
    from .processes import AWS_TEST_ENV

    slow = notebook("import time\ntime.sleep(600)", parameters=None)
    uri, sha = take_snapshot(s3_storage(moto_url), slow, f"s3://{bucket}/snapshots/")
    request = {
        "spec": spec_for(
            "slow", uri, sha, f"s3://{bucket}/runs/", parameters={}, timeout_seconds=60
        ),
        "run_id": "r1",
    }
    env = {
        **os.environ,
        **AWS_TEST_ENV,
        "AWS_ENDPOINT_URL": moto_url,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "jupyterlab_smallfry.jobs.runner"],
        check=False,
        env=env,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert proc.returncode == 1
    run = read_json(direct_s3, bucket, "runs/alice/slow/r1/run.json")
    assert run["status"] == "failed"
    assert run["error"]["type"] == runner.RunTimeout.__name__
    assert "timeout of 60 s" in run["error"]["message"]
    assert 50 <= run["duration_seconds"] < 100  # stopped at the limit, not at the sleep's end


# --- trust: only what the Small Fry service signed runs, as whom it says --------------------

KEY = "runner-test-key-0123456789abcdef0123"
ROLE = "arn:aws:iam::123456789012:role/reports"


def _recording_session(calls: list):
    """A real boto3 session (to moto) that records the parameters of every AssumeRole."""
    import boto3

    session = boto3.session.Session()
    session.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: calls.append(dict(params))
    )
    return session


@pytest.fixture
def aws_env(moto_url, monkeypatch):
    from .processes import AWS_TEST_ENV

    for key, value in {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": moto_url}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SMALLFRY_SPEC_KEY_FILE", raising=False)
    monkeypatch.delenv("SMALLFRY_SPEC_KEY", raising=False)
    return monkeypatch


def _role_spec(owner="alice", **extra):
    nb = "s3://b/snapshots/" + "0" * 64 + ".ipynb"
    return {
        **spec_for("as-role", nb, "0" * 64, "s3://b/runs/", run_as={"role_arn": ROLE}, **extra),
        "owner": owner,
    }


def test_session_names_and_tags_keep_different_users_apart(aws_env):
    """o'neil and o-neil must never share a session (their names would, in IAM policies)."""
    from jupyterlab_smallfry.jobs.runner import assume_run_as
    from jupyterlab_smallfry.safe_names import role_session_name, tag_value

    calls: list = []
    for owner in ("o'neil", "o-neil"):
        assume_run_as(
            _role_spec(owner), "manual__2026-11-24T06:00:00+00:00", _recording_session(calls)
        )
    names = [c["RoleSessionName"] for c in calls]
    assert names == [role_session_name("o'neil"), role_session_name("o-neil")]
    assert names[0] != names[1]
    assert [c["SourceIdentity"] for c in calls] == names
    tags = [{t["Key"]: t["Value"] for t in c["Tags"]} for c in calls]
    assert tags[0]["smallfry:owner"] == tag_value("o'neil") != tags[1]["smallfry:owner"]
    # The same user tag the Hub service puts on the owner's own sessions (IAM home prefix).
    assert tags[0]["jupyterhub_user"] == tag_value("o'neil") != tags[1]["jupyterhub_user"]
    assert tags[0]["smallfry:job"] == "as-role"
    assert tags[0]["smallfry:run"] == tag_value("manual__2026-11-24T06:00:00+00:00")
    assert " " not in tags[0]["smallfry:run"] and "/" not in tags[0]["smallfry:run"]


def test_with_a_key_a_signed_spec_assumes_its_role(aws_env):
    from jupyterlab_smallfry.jobs.runner import assume_run_as

    aws_env.setenv("SMALLFRY_SPEC_KEY", KEY)
    calls: list = []
    storage, env = assume_run_as(
        sign_spec(_role_spec(), KEY.encode()), "r1", _recording_session(calls)
    )
    assert storage is not None and env["AWS_SESSION_TOKEN"]
    assert [c["RoleArn"] for c in calls] == [ROLE]


@pytest.mark.parametrize(
    "forge,words",
    [
        (lambda s, key: s, "unsigned: this spec was not written by the Small Fry service"),
        # Signed for alice with her role, then given to bob: owner and role are bound together.
        (lambda s, key: {**sign_spec(s, key), "owner": "bob"}, "tampered"),
        (
            lambda s, key: {
                **sign_spec(s, key),
                "run_as": {"role_arn": "arn:aws:iam::123456789012:role/admin"},
            },
            "tampered",
        ),
        (lambda s, key: sign_spec(s, b"another-key-another-key-another-key"), "tampered"),
    ],
    ids=["unsigned", "owner-changed", "role-changed", "other-key"],
)
def test_with_a_key_an_untrusted_spec_never_assumes_a_role(aws_env, forge, words):
    from jupyterlab_smallfry.jobs.runner import assume_run_as
    from jupyterlab_smallfry.jobs.validation import SpecError

    aws_env.setenv("SMALLFRY_SPEC_KEY", KEY)
    calls: list = []
    with pytest.raises(SpecError, match=words):
        assume_run_as(forge(_role_spec(), KEY.encode()), "r1", _recording_session(calls))
    assert calls == []  # refused before any AssumeRole


def test_a_broken_key_setting_refuses_rather_than_skipping_the_check(aws_env):
    from jupyterlab_smallfry.jobs.runner import assume_run_as
    from jupyterlab_smallfry.jobs.validation import SpecError

    aws_env.setenv("SMALLFRY_SPEC_KEY", "too-short")
    calls: list = []
    with pytest.raises(SpecError, match="signing key cannot be used"):
        assume_run_as(_role_spec(), "r1", _recording_session(calls))
    assert calls == []


def _run_program(moto_url, request_text: str, **env_extra):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from .processes import AWS_TEST_ENV

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMALLFRY_SPEC_KEY")},
        **AWS_TEST_ENV,
        "AWS_ENDPOINT_URL": moto_url,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        **env_extra,
    }
    return subprocess.run(
        [sys.executable, "-m", "jupyterlab_smallfry.jobs.runner"],
        check=False,
        env=env,
        input=request_text,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_runner_program_refuses_an_unsigned_spec_and_records_why(moto_url, direct_s3, bucket):
    import json

    uri, sha = take_snapshot(s3_storage(moto_url), REPORT, f"s3://{bucket}/snapshots/")
    request = {"spec": spec_for("forged", uri, sha, f"s3://{bucket}/runs/"), "run_id": "r1"}
    proc = _run_program(moto_url, json.dumps(request), SMALLFRY_SPEC_KEY=KEY)
    assert proc.returncode == 1, proc.stderr[-2000:]
    run = read_json(direct_s3, bucket, "runs/alice/forged/r1/run.json")
    assert run["status"] == "failed"
    assert run["error"]["type"] == "UntrustedSpec"
    assert "unsigned: this spec was not written by the Small Fry service" in run["error"]["message"]
    listed = direct_s3.list_objects_v2(Bucket=bucket, Prefix="runs/alice/forged/r1/")
    assert [o["Key"] for o in listed["Contents"]] == ["runs/alice/forged/r1/run.json"]  # no run


def test_runner_program_runs_a_signed_spec(moto_url, direct_s3, bucket):
    import json

    uri, sha = take_snapshot(s3_storage(moto_url), REPORT, f"s3://{bucket}/snapshots/")
    spec = sign_spec(spec_for("signed", uri, sha, f"s3://{bucket}/runs/"), KEY.encode())
    proc = _run_program(moto_url, json.dumps({"spec": spec, "run_id": "r1"}), SMALLFRY_SPEC_KEY=KEY)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert read_json(direct_s3, bucket, "runs/alice/signed/r1/run.json")["status"] == "success"


def test_runner_program_parses_its_request_strictly(moto_url, bucket, direct_s3):
    import json

    uri, sha = take_snapshot(s3_storage(moto_url), REPORT, f"s3://{bucket}/snapshots/")
    text = json.dumps(
        {"spec": spec_for("nan", uri, sha, f"s3://{bucket}/runs/"), "run_id": "r1"}
    ).replace('"days": 21', '"days": NaN')
    proc = _run_program(moto_url, text)
    assert proc.returncode == 1
    assert (
        "NaN is not a JSON number"
        in json.loads(proc.stdout.strip().splitlines()[-1])["error"]["message"]
    )
    assert direct_s3.list_objects_v2(Bucket=bucket, Prefix="runs/").get("KeyCount") == 0


# --- the runner as a pod runs it: the attempt it is, and being stopped -----------------------


def _pod_env(moto_url, request: dict) -> dict:
    """The environment a job pod gives the runner: the request in a variable, keys ambient."""
    import json
    import os
    from pathlib import Path

    from .processes import AWS_TEST_ENV

    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMALLFRY_SPEC_KEY")},
        **AWS_TEST_ENV,
        "AWS_ENDPOINT_URL": moto_url,
        "SMALLFRY_RUN_REQUEST": json.dumps(request),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }


def test_a_retry_in_a_pod_records_its_attempt(moto_url, direct_s3, bucket):
    """The pod operator names a retry's run ``<run_id>-try2`` (its own folder, as on a
    worker); run.json says it is attempt 2, not 1."""
    import subprocess
    import sys

    uri, sha = take_snapshot(s3_storage(moto_url), REPORT, f"s3://{bucket}/snapshots/")
    request = {
        "spec": spec_for("retried", uri, sha, f"s3://{bucket}/runs/"),
        "run_id": "scheduled__2026-11-30T05:00:00+00:00-try2",
        "trigger": "airflow",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "jupyterlab_smallfry.jobs.runner"],
        env=_pod_env(moto_url, request),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    folder = "runs/alice/retried/scheduled__2026-11-30T05-00-00-00-00-try2/"
    run = read_json(direct_s3, bucket, folder + "run.json")
    assert run["status"] == "success"
    assert run["try_number"] == 2
    assert run["run_id"] == request["run_id"]


def test_a_try_number_in_the_request_is_the_one_recorded(moto_url, direct_s3, bucket):
    import json

    uri, sha = take_snapshot(s3_storage(moto_url), REPORT, f"s3://{bucket}/snapshots/")
    spec = spec_for("third", uri, sha, f"s3://{bucket}/runs/")
    proc = _run_program(moto_url, json.dumps({"spec": spec, "run_id": "r1", "try_number": 3}))
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = read_json(direct_s3, bucket, "runs/alice/third/r1/run.json")
    assert (run["status"], run["try_number"]) == ("success", 3)


@pytest.mark.parametrize("value", [0, "2", 2.0, True, 10**6])
def test_a_wrong_try_number_is_refused_before_anything_runs(moto_url, direct_s3, bucket, value):
    import json

    spec = spec_for("bad-try", "s3://x/snap.ipynb", "0" * 64, f"s3://{bucket}/runs/")
    proc = _run_program(moto_url, json.dumps({"spec": spec, "run_id": "r1", "try_number": value}))
    assert proc.returncode == 1
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert answer["error"]["type"] == "SpecError"
    assert "try_number must be a whole number from 1 to 9999" in answer["error"]["message"]
    assert direct_s3.list_objects_v2(Bucket=bucket, Prefix="runs/").get("KeyCount") == 0


def test_sigterm_stops_a_running_notebook_and_run_json_says_so(
    moto_url, direct_s3, bucket, tmp_path
):
    """What Kubernetes does when it deletes a job's pod: SIGTERM, then SIGKILL 30 s later.
    The run stops well within that, the kernel with it, and run.json is ``failed``, saying the
    run was stopped, with the notebook as far as it got."""
    import subprocess
    import sys
    import time

    import psutil

    from .jobs_support import notebook

    started = tmp_path / "started"
    slow = notebook(
        f'print("before the stop")\nopen({str(started)!r}, "w").close()',
        "import time\ntime.sleep(600)",
        parameters=None,
    )
    uri, sha = take_snapshot(s3_storage(moto_url), slow, f"s3://{bucket}/snapshots/")
    request = {
        "spec": spec_for("stopped", uri, sha, f"s3://{bucket}/runs/", parameters={}),
        "run_id": "scheduled__x",
        "trigger": "airflow",
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab_smallfry.jobs.runner"],
        env=_pod_env(moto_url, request),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not started.exists():  # the notebook is running its first cell
            assert child.poll() is None, child.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "the notebook never started"
            time.sleep(0.2)
        kernels = psutil.Process(child.pid).children(recursive=True)
        assert kernels, "no kernel process under the runner"
        time.sleep(1)  # into the sleeping cell
        stopped_at = time.monotonic()
        child.terminate()  # SIGTERM
        out, err = child.communicate(timeout=30)  # Kubernetes' grace period
        took = time.monotonic() - stopped_at
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 1, err[-2000:]
    print(f"stopped {took:.1f} s after SIGTERM")
    assert took < 20
    assert '"RunStopped"' in out.strip().splitlines()[-1]
    run = read_json(direct_s3, bucket, "runs/alice/stopped/scheduled__x/run.json")
    assert run["status"] == "failed"
    assert run["error"]["type"] == "RunStopped"
    assert "the run was stopped before it finished (SIGTERM" in run["error"]["message"]
    assert run["end"] >= run["start"] and run["duration_seconds"] < 60
    out_nb = read_json(direct_s3, bucket, "runs/alice/stopped/scheduled__x/output.ipynb")
    assert "before the stop" in cell_text(out_nb)
    # The notebook's kernel did not outlive the run.
    _gone, alive = psutil.wait_procs(kernels, timeout=10)
    assert alive == [], [p.cmdline() for p in alive]


def test_sigterm_before_a_request_arrives_ends_the_runner_and_says_so(moto_url):
    """A pod deleted while its runner starts: it ends at once (as PID 1 in its container it
    would otherwise ignore SIGTERM until killed) and says why."""
    import json
    import subprocess
    import sys
    import time

    env = _pod_env(moto_url, {})
    del env["SMALLFRY_RUN_REQUEST"]  # the request would come on stdin
    child = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab_smallfry.jobs.runner"],
        env=env,
        stdin=subprocess.PIPE,  # never written: the runner waits for its request
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)  # imported and reading stdin
        assert child.poll() is None
        child.terminate()
        out, err = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 1, err[-2000:]
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["status"] == "failed" and answer["error"]["type"] == "RunStopped"


# ---- notifications (the runner's side; what a message says is test_jobs_notify's) --------


@pytest.fixture
def receiver(monkeypatch):
    from .notify_receiver import NotifyReceiver

    with NotifyReceiver() as rx:
        # A webhook connection as Airflow keeps it in the worker's environment.
        monkeypatch.setenv("AIRFLOW_CONN_SMALLFRY_NOTIFY_HOOK", rx.http_url + "/hooks/secret-path")
        yield rx


HOOK = {"type": "webhook", "connection": "smallfry_notify_hook"}


def _events(rx) -> list[str]:
    return [m["body"]["event"] for m in rx.messages if m["kind"] == "http"]


def test_a_failure_is_told_on_the_last_try_only(storage, direct_s3, bucket, receiver):
    uri, sha = _snap(storage, bucket, FAILING)
    spec = spec_for(
        "told",
        uri,
        sha,
        f"s3://{bucket}/runs/",
        retries={"count": 1},
        notifications={"on_failure": [HOOK]},
    )
    first = run_spec(spec, "run-1", storage, try_number=1)
    assert first["status"] == "failed" and first["notifications"] == []
    assert _events(receiver) == []  # a retry is coming: nobody is woken up yet

    last = run_spec(spec, "run-1-try2", storage, try_number=2)
    receiver.wait_for(1, kind="http")
    assert _events(receiver) == ["run.failed"]
    body = receiver.messages[0]["body"]
    assert body["run"]["error"]["message"] == "boom 42" and body["run"]["try_number"] == 2
    run = read_json(direct_s3, bucket, "runs/alice/told/run-1-try2/run.json")
    assert (
        run["notifications"]
        == last["notifications"]
        == [
            {
                "event": "failure",
                "type": "webhook",
                "target": "smallfry_notify_hook",
                "ok": True,
                "error": None,
            }
        ]
    )
    assert "secret-path" not in json.dumps(run) and "http://" not in json.dumps(run)
    marker = "runs/alice/told/.index/failed/run-1-try2"
    assert direct_s3.head_object(Bucket=bucket, Key=marker)["ContentLength"] == 0


def test_a_long_run_is_told_once_while_it_goes_and_then_its_success(
    storage, direct_s3, bucket, receiver
):
    slow = notebook('import time\nprint("working")\ntime.sleep(4)', parameters=None)
    uri, sha = _snap(storage, bucket, slow)
    spec = spec_for(
        "long",
        uri,
        sha,
        f"s3://{bucket}/runs/",
        notifications={"on_duration_over": {"seconds": 2, "to": [HOOK]}, "on_success": [HOOK]},
    )
    manifest = run_spec(spec, "r1", storage)
    receiver.wait_for(2, kind="http")
    assert _events(receiver) == ["run.duration_over", "run.succeeded"]
    over = receiver.messages[0]["body"]["run"]
    assert over["status"] == "running" and over["duration_over_seconds"] == 2
    assert 2 <= over["duration_seconds"] < manifest["duration_seconds"]
    run = read_json(direct_s3, bucket, "runs/alice/long/r1/run.json")
    assert [(n["event"], n["ok"]) for n in run["notifications"]] == [
        ("duration_over", True),
        ("success", True),
    ]
    assert direct_s3.head_object(Bucket=bucket, Key="runs/alice/long/.index/success/r1")


def test_a_refused_spec_tells_nobody(moto_url, direct_s3, bucket, receiver):
    # Its destinations are as untrusted as the rest of it.
    spec = spec_for(
        "forged",
        f"s3://{bucket}/snapshots/{'a' * 64}.ipynb",
        "a" * 64,
        f"s3://{bucket}/runs/",
        notifications={"on_failure": [HOOK]},
    )
    proc = _run_program(moto_url, json.dumps({"spec": spec, "run_id": "r1"}), SMALLFRY_SPEC_KEY=KEY)
    assert proc.returncode == 1
    run = read_json(direct_s3, bucket, "runs/alice/forged/r1/run.json")
    assert run["error"]["type"] == "UntrustedSpec" and "notifications" not in run
    assert receiver.messages == []
