"""Kernels as the job owner's Unix account (``SMALLFRY_KERNEL_AS_OWNER``).

Real pieces only: a real Unix account, the real users' venv (``ensure_user_env``), setpriv,
papermill and ipykernel, moto for S3 and STS. The runner's process stands in for an Airflow
task: it holds a signing-key file only root may read, Airflow's database URL and the worker's
own AWS keys; the notebook reports what its kernel can see.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psutil
import pytest

from jupyterlab_smallfry.jobs.kernel_as_owner import ENABLE_ENV, PYTHON_ENV
from jupyterlab_smallfry.jobs.runner import assume_run_as, run_spec
from jupyterlab_smallfry.jobs.signing import KEY_FILE_ENV, sign_spec
from jupyterlab_smallfry.jobs.snapshot import take_snapshot
from jupyterlab_smallfry.platform.user_env import ensure_user_env

from .jobs_support import cell_text, notebook, read_json, s3_storage, spec_for
from .processes import AWS_TEST_ENV

pytestmark = [
    pytest.mark.timeout(900),  # the first run may build the users' venv
    pytest.mark.skipif(
        os.geteuid() != 0, reason="creates a Unix account and starts kernels as it: needs root"
    ),
]

OWNER = "sf-kernel-test"
#: Its home lives under this prefix, so a leftover account is recognisably this test's.
HOME_PREFIX = "/var/tmp/smallfry-kernel-test-"
#: The users' venv cache shared with the Hub isolation test (traversable by every account).
USER_ENV_BASE = os.environ.get("SMALLFRY_USER_ENV_BASE", "/var/cache/smallfry/test-user-envs")
AIRFLOW_DB = "postgresql://airflow:db-password-not-for-kernels@127.0.0.1:5432/airflow"

#: What the notebook reports: its uid, the variables it was started with (exactly what
#: execve handed it, before Python or IPython add their own), its folder, the key file.
PROBE = notebook(
    "import json, os\n"
    'given = open("/proc/self/environ", "rb").read().decode().split("\\0")\n'
    'print("UID=%d" % os.getuid())\n'
    'print("ENV=" + json.dumps(sorted(v.split("=", 1)[0] for v in given if v)))\n'
    'print("AWSKEY=" + os.environ.get("AWS_ACCESS_KEY_ID", "none"))\n'
    'print("CWD=" + os.getcwd())\n'
    'open("scratch.txt", "w").write("the kernel may write its folder")\n'
    "try:\n"
    "    open(key_file).read()\n"
    '    print("KEY=readable")\n'
    "except OSError as err:\n"
    '    print("KEY=" + type(err).__name__)',
    "import boto3\n"
    'if os.environ.get("AWS_ACCESS_KEY_ID"):\n'
    '    print("ARN=" + boto3.client("sts").get_caller_identity()["Arn"])',
    parameters='key_file = ""',
)
#: Proves nothing ran: the notebook's first act would be to leave this file.
MARKER = notebook('open(marker, "w").write("ran")', parameters='marker = ""')


def _line(text: str, name: str) -> str:
    return next(x.split("=", 1)[1] for x in text.splitlines() if x.startswith(name + "="))


def _remove_account() -> None:
    try:
        info = pwd.getpwnam(OWNER)
    except KeyError:
        return
    if not info.pw_dir.startswith(HOME_PREFIX):
        raise RuntimeError(f"a real account {OWNER} exists (home {info.pw_dir}); not touching it")
    # Whatever a test left running as the test account (a kernel that outlived its run).
    for proc in psutil.process_iter(["uids"]):
        if proc.info["uids"] and proc.info["uids"].real == info.pw_uid:
            with contextlib.suppress(psutil.Error):
                proc.kill()
    subprocess.run(["userdel", "--remove", OWNER], check=False, capture_output=True)


@pytest.fixture(scope="module")
def user_python() -> str:
    """The users' venv's interpreter, built once and cached across test sessions."""
    return str(ensure_user_env(USER_ENV_BASE) / "python")


@pytest.fixture(scope="module")
def account():
    """A fresh Unix account for the job's owner, removed with its home afterwards."""
    _remove_account()  # left by an interrupted run
    root = Path(tempfile.mkdtemp(prefix=HOME_PREFIX.rsplit("/", 1)[1], dir="/var/tmp"))
    root.chmod(0o755)
    try:
        subprocess.run(
            ["useradd", "--create-home", "--home-dir", str(root / "home"), "--user-group"]
            + ["--shell", "/usr/sbin/nologin", OWNER],
            check=True,
            capture_output=True,
        )
        yield pwd.getpwnam(OWNER)
    finally:
        _remove_account()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def worker(monkeypatch, moto_url, user_python):
    """The Airflow task's environment: its secrets, its own AWS keys, the mode turned on."""
    folder = Path(tempfile.mkdtemp(prefix="smallfry-kernel-key-"))
    folder.chmod(0o755)  # like /etc/smallfry: anyone may look in, only root reads the key
    key = secrets.token_hex(32)
    key_file = folder / "spec.key"
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    for name, value in {
        **AWS_TEST_ENV,
        "AWS_ENDPOINT_URL": moto_url,
        KEY_FILE_ENV: str(key_file),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": AIRFLOW_DB,
        "AIRFLOW__API_AUTH__JWT_SECRET": "jwt-secret-not-for-kernels",
        ENABLE_ENV: "1",
        PYTHON_ENV: user_python,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SMALLFRY_SPEC_KEY", raising=False)
    yield {"key_file": str(key_file), "key": key.encode()}
    shutil.rmtree(folder, ignore_errors=True)


def _snap(moto_url, bucket, data):
    return take_snapshot(s3_storage(moto_url), data, f"s3://{bucket}/snapshots/")


def _owner_spec(moto_url, bucket, job_id, data, owner=OWNER, **extra):
    uri, sha = _snap(moto_url, bucket, data)
    spec = spec_for(job_id, uri, sha, f"s3://{bucket}/runs/", **extra)
    spec["owner"] = owner
    return spec


def test_kernel_runs_as_the_owner_without_the_workers_secrets(
    account, worker, moto_url, direct_s3, bucket
):
    spec = _owner_spec(
        moto_url, bucket, "probe", PROBE, parameters={"key_file": worker["key_file"]}
    )
    manifest = run_spec(spec, "r1", s3_storage(moto_url))

    assert manifest["status"] == "success", manifest["error"]
    raw = direct_s3.get_object(Bucket=bucket, Key=f"runs/{OWNER}/probe/r1/output.ipynb")
    raw = raw["Body"].read().decode()
    text = cell_text(json.loads(raw))
    assert int(_line(text, "UID")) == account.pw_uid
    given = set(json.loads(_line(text, "ENV")))
    # Built from nothing: no Airflow settings, no key setting, no worker keys. Only
    # jupyter_client's JPY_PARENT_PID joins what the runner chose.
    assert given == {
        "PATH",
        "HOME",
        "LANG",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "JPY_PARENT_PID",
        # The run's own parameters, for sf.params (no secret: papermill injects them too).
        "SMALLFRY_PARAMETERS",
        # Where the kernel's S3 lineage goes (a path in the kernel's own folder; no secret).
        "SMALLFRY_LINEAGE_FILE",
    }
    assert _line(text, "AWSKEY") == "none"
    assert _line(text, "KEY") == "PermissionError"
    assert worker["key"].decode() not in raw and "db-password" not in raw
    # Its folder was its own while it ran, and is gone with everything in it afterwards.
    cwd = Path(_line(text, "CWD"))
    assert cwd.name == "work" and cwd.parent.name.startswith("smallfry-kernel-")
    assert not cwd.parent.exists()
    run = read_json(direct_s3, bucket, f"runs/{OWNER}/probe/r1/run.json")
    assert run["status"] == "success" and "aws_identity" not in run
    assert os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == AIRFLOW_DB  # the task's untouched


def test_run_as_keys_reach_the_owners_kernel(account, worker, moto_url, direct_s3, bucket):
    spec = _owner_spec(
        moto_url,
        bucket,
        "as-role",
        PROBE,
        parameters={"key_file": worker["key_file"]},
        run_as={"role_arn": "arn:aws:iam::123456789012:role/reports"},
    )
    spec = sign_spec(spec, worker["key"])  # a key is configured: only signed specs run
    _role_storage, kernel_env = assume_run_as(spec, "r1")
    manifest = run_spec(spec, "r1", s3_storage(moto_url), kernel_env=kernel_env)

    assert manifest["status"] == "success", manifest["error"]
    text = cell_text(read_json(direct_s3, bucket, f"runs/{OWNER}/as-role/r1/output.ipynb"))
    assert int(_line(text, "UID")) == account.pw_uid
    given = set(json.loads(_line(text, "ENV")))
    run_as = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    assert run_as | {"SMALLFRY_RUN_AS_ARN"} <= given
    assert not {k for k in given if k.startswith(("AIRFLOW", "SMALLFRY_SPEC_KEY"))}
    assert _line(text, "AWSKEY") == kernel_env["AWS_ACCESS_KEY_ID"]
    assert _line(text, "AWSKEY") != AWS_TEST_ENV["AWS_ACCESS_KEY_ID"]
    assert _line(text, "ARN") == f"arn:aws:sts::123456789012:assumed-role/reports/{OWNER}"
    assert _line(text, "KEY") == "PermissionError"


def test_owner_without_an_account_fails_before_anything_runs(worker, moto_url, direct_s3, bucket):
    missing = "sf-no-such-user"
    assert not _account_exists(missing)
    marker = Path(tempfile.gettempdir()) / f"smallfry-marker-{uuid.uuid4().hex}"
    spec = _owner_spec(
        moto_url, bucket, "ghost", MARKER, owner=missing, parameters={"marker": str(marker)}
    )
    manifest = run_spec(spec, "r1", s3_storage(moto_url))

    run = read_json(direct_s3, bucket, f"runs/{missing}/ghost/r1/run.json")
    assert run["status"] == manifest["status"] == "failed"
    assert run["error"]["type"] == "KernelAccountError"
    assert f"no account named '{missing}'" in run["error"]["message"]
    assert run["output_uri"] is None
    listed = direct_s3.list_objects_v2(Bucket=bucket, Prefix=f"runs/{missing}/")
    assert [o["Key"] for o in listed["Contents"]] == [
        f"runs/{missing}/ghost/.index/failed/r1",  # the history's index of failed runs
        f"runs/{missing}/ghost/r1/run.json",
    ]
    assert not marker.exists()  # not even as the worker: no kernel was started


@pytest.mark.parametrize(
    ("owner", "setting", "expected"),
    [
        ("root", {}, "has uid 0; kernels run only as user accounts"),
        ("nobody", {}, "has uid 65534; kernels run only as user accounts"),
        (OWNER, {PYTHON_ENV: ""}, f"{PYTHON_ENV} is not set"),
        (OWNER, {PYTHON_ENV: "python3"}, "must be an absolute path"),
        # The worker's own interpreter (Airflow's venv under /root): closed to the account.
        (OWNER, {PYTHON_ENV: sys.executable}, f"the account '{OWNER}' cannot run"),
    ],
)
def test_refused_accounts_and_settings(
    account, worker, moto_url, direct_s3, bucket, monkeypatch, owner, setting, expected
):
    if not _account_exists(owner):
        pytest.skip(f"this machine has no {owner} account")
    if setting.get(PYTHON_ENV) == sys.executable and not sys.executable.startswith("/root/"):
        pytest.skip("this test's Python is not in a private home")
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    marker = Path(tempfile.gettempdir()) / f"smallfry-marker-{uuid.uuid4().hex}"
    spec = _owner_spec(
        moto_url, bucket, "refused", MARKER, owner=owner, parameters={"marker": str(marker)}
    )
    manifest = run_spec(spec, "r1", s3_storage(moto_url))

    run = read_json(direct_s3, bucket, f"runs/{owner}/refused/r1/run.json")
    assert run["status"] == manifest["status"] == "failed"
    assert run["error"]["type"] == "KernelAccountError"
    assert expected in run["error"]["message"]
    assert not marker.exists()


def test_a_notebook_for_another_kernel_is_refused(account, worker, moto_url, direct_s3, bucket):
    spec = _owner_spec(moto_url, bucket, "r-lang", MARKER, parameters={"marker": "/dev/null"})
    spec["notebook"]["kernel"] = "ir"
    manifest = run_spec(spec, "r1", s3_storage(moto_url))
    assert manifest["status"] == "failed"
    assert "the notebook's kernel is 'ir'" in manifest["error"]["message"]


def test_mode_off_keeps_the_kernel_a_child_of_the_worker(
    account, worker, moto_url, direct_s3, bucket, monkeypatch
):
    """Without the setting nothing changes: the worker's account and environment."""
    monkeypatch.delenv(ENABLE_ENV)
    spec = _owner_spec(moto_url, bucket, "off", PROBE, parameters={"key_file": worker["key_file"]})
    manifest = run_spec(spec, "r1", s3_storage(moto_url))

    assert manifest["status"] == "success", manifest["error"]
    text = cell_text(read_json(direct_s3, bucket, f"runs/{OWNER}/off/r1/output.ipynb"))
    assert int(_line(text, "UID")) == 0
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in json.loads(_line(text, "ENV"))
    assert _line(text, "KEY") == "readable"  # what the mode exists to prevent


def _account_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def test_a_cell_past_its_timeout_stops_the_owners_kernel(
    account, worker, moto_url, direct_s3, bucket
):
    slow = notebook('print("started", flush=True)', "import time\ntime.sleep(600)", parameters=None)
    spec = _owner_spec(moto_url, bucket, "slow", slow, parameters={}, timeout_seconds=5)
    manifest = run_spec(spec, "r1", s3_storage(moto_url))

    assert manifest["status"] == "failed"
    assert "5 seconds" in manifest["error"]["message"]
    text = cell_text(read_json(direct_s3, bucket, f"runs/{OWNER}/slow/r1/output.ipynb"))
    assert "started" in text
    left = [p.pid for p in psutil.process_iter(["uids"]) if p.info["uids"].real == account.pw_uid]
    assert left == []  # the kernel was stopped as the owner's process it is


def test_an_interpreter_without_ipykernel_is_refused_with_words(
    account, worker, moto_url, direct_s3, bucket, monkeypatch
):
    bare = "/usr/bin/python3.11"  # Debian's, without ipykernel unless python3-ipykernel is in
    probe = subprocess.run([bare, "-c", "import ipykernel"], check=False, capture_output=True)
    if probe.returncode == 0:
        pytest.skip(f"{bare} has ipykernel on this machine")
    monkeypatch.setenv(PYTHON_ENV, bare)
    spec = _owner_spec(moto_url, bucket, "no-ipykernel", MARKER, parameters={"marker": "/dev/null"})
    manifest = run_spec(spec, "r1", s3_storage(moto_url))
    assert manifest["status"] == "failed"
    assert manifest["error"]["type"] == "KernelAccountError"
    assert manifest["error"]["message"] == (
        f"/usr/bin/python3.11 has no ipykernel; {PYTHON_ENV} must name the users' "
        "environment's bin/python"
    )
