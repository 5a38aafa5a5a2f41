"""A job spec with an ``image`` really runs in a pod: the real KubernetesPodOperator builds
the pod offline, the Kubernetes schemas accept it, and ``podman kube play`` runs it in the
job image from ``deploy/images`` against the test S3 (moto), as Airflow would on a cluster.

The assertions are those of the runner on a worker (``test_jobs_runner.py``): a successful
run leaves the executed notebook and a ``success`` run.json, the run-as role's keys reach
the kernel, a failing notebook and a timeout fail the pod and say so in run.json.
"""

from __future__ import annotations

import json

import pytest

from jupyterlab_smallfry.airflow.naming import dag_id_for
from jupyterlab_smallfry.jobs.snapshot import take_snapshot

from .airflow_env import ensure_venv
from .broker_stand_in import broker_answering
from .jobs_support import FAILING, cell_text, injected_source, notebook, read_json, s3_storage
from .jobs_support import spec_for as base_spec
from .pod_manifest import api_server_problems, render_job_pod, validate, write_spec
from .pod_runtime import Container, PlayedPod, ensure_image, image_user, missing_tools
from .processes import AWS_TEST_ENV, TEST_ACCESS_KEY

pytestmark = pytest.mark.timeout(1800)

ROLE = "arn:aws:iam::123456789012:role/reports"
SCHEDULED = "scheduled__2026-11-30T05:00:00+00:00"
SCHEDULED_FOLDER = "scheduled__2026-11-30T05-00-00-00-00"
BUCKET = "t-deploy-job-pod-b"

#: The report notebook of the runner tests, plus who the kernel is on AWS.
REPORT_AS_ROLE = notebook(
    'print(f"REPORT region={region} doubled={days * 2}")',
    'print("NOTE=" + note)',
    'import boto3, os\nprint("ARN=" + boto3.client("sts").get_caller_identity()["Arn"])\n'
    'print("KEY=" + os.environ["AWS_ACCESS_KEY_ID"])',
)
SLOW = notebook("import time\ntime.sleep(600)", parameters=None)


@pytest.fixture(scope="module")
def airflow_python():
    return ensure_venv()


def spec_for(job_id: str, uri: str, sha: str, image: str, **extra) -> dict:
    return base_spec(job_id, uri, sha, f"s3://{BUCKET}/runs/", image=image, **extra)


def test_the_operators_pod_is_a_valid_kubernetes_pod(airflow_python, tmp_path):
    """No podman needed: what the provider builds for a spec whose id is a valid job id but
    not a valid pod name or label value (an underscore, a trailing '-')."""
    jobs = tmp_path / "jobs"
    sha = "0" * 64
    spec = spec_for(
        "nightly_sales-",
        f"s3://{BUCKET}/snapshots/{sha}.ipynb",
        sha,
        "registry.example.com/team/smallfry-job:0.1.0",
        run_as={"role_arn": ROLE},
        timeout_seconds=900,
    )
    write_spec(jobs, spec)
    run_id = "manual__2026-11-30T12:00:00+00:00"
    rendered = render_job_pod(
        airflow_python, jobs, dag_id_for("alice", spec["id"]), run_id, try_number=2
    )
    pod = rendered["pod"]

    assert rendered["task_type"] == "NotebookJobPodOperator"
    validate(pod)  # the schema, strict, and the API server's name and label rules
    assert pod["metadata"]["namespace"] == "smallfry-jobs"  # from the Kubernetes connection
    assert pod["metadata"]["name"].startswith("smallfry-nightly-sales-")
    assert pod["metadata"]["annotations"]["smallfry/job"] == "nightly_sales-"
    assert pod["metadata"]["labels"]["app.kubernetes.io/part-of"] == "smallfry"
    assert pod["metadata"]["labels"]["smallfry/job"].startswith("nightly_sales-")
    assert pod["spec"]["restartPolicy"] == "Never"
    (container,) = pod["spec"]["containers"]
    assert container["image"] == spec["image"]
    assert container["command"] == ["python", "-m", "jupyterlab_smallfry.jobs.runner"]
    env = {var["name"]: var["value"] for var in container["env"]}
    assert set(env) == {"SMALLFRY_RUN_REQUEST"}  # no keys: the pod's identity gives AWS access
    # The runner's own limit (900 s) ends a run first and records why; Airflow's, which
    # deletes the pod and so records nothing, and the cluster's come later.
    assert rendered["execution_timeout"] == 900 + 300
    assert pod["spec"]["activeDeadlineSeconds"] == 900 + 300
    request = json.loads(env["SMALLFRY_RUN_REQUEST"])
    # Exactly the spec file, and a retry keeps its own run folder, as on a worker.
    assert request == {
        "spec": spec,
        "run_id": f"{run_id}-try2",
        "trigger": "airflow",
        "options": {"triggered_by": "retry"},
    }


def test_the_api_server_rules_catch_what_the_schema_lets_through():
    """The extra checks can fail: the labels and name the operator used to give such a job."""
    pod = {
        "metadata": {
            "name": "smallfry-nightly_sales--ab12cd34",
            "namespace": "default",
            "labels": {"smallfry/job": "nightly_sales-"},
        },
        "spec": {"containers": [{"name": "base", "image": "x"}]},
    }
    problems = api_server_problems(pod)
    assert any("metadata.name" in p for p in problems)
    assert any("smallfry/job='nightly_sales-'" in p for p in problems)


# The extras of pyproject.toml each image's lock is made with (deploy/images/lock.sh).
IMAGE_EXTRAS = {"job": ["jobs", "lake"], "singleuser": ["jobs", "lake"], "hub": ["hub"]}


@pytest.mark.parametrize("image", sorted(IMAGE_EXTRAS))
def test_each_image_lock_satisfies_pyproject_and_its_own_pins(image):
    """A dependency changed in pyproject.toml without re-running lock.sh fails here, not in
    a user's image build (pip check would refuse it there)."""
    import tomllib
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from .pod_runtime import IMAGES, REPO

    folder = IMAGES / image
    locked = {}
    for line in (folder / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            locked[canonicalize_name(name)] = version
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in IMAGE_EXTRAS[image]:
        wanted += project["optional-dependencies"][extra]
    wanted += [
        line
        for line in (folder / "requirements.in").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    problems = []
    for text in wanted:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        if name == "jupyterlab-smallfry":
            continue  # the wheel itself, built from the checkout
        if name not in locked:
            problems.append(f"{req} is not in the lock")
        elif not req.specifier.contains(locked[name], prereleases=True):
            problems.append(f"{req} but the lock has {locked[name]}")
    assert not problems, f"run deploy/images/lock.sh: {problems}"


# --- the pod, run ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def job_image():
    reason = missing_tools()
    if reason:
        pytest.skip(f"pods cannot run on this machine: {reason}")
    tag, took = ensure_image("job")
    print(f"job image {tag}: built in {took or 'no time (reused)'}")
    return tag


@pytest.fixture(scope="module")
def pods(job_image, airflow_python, moto_url, direct_s3, tmp_path_factory):
    """Three specs of the job image, each rendered by the operator and started at once with
    ``podman kube play`` (the slow one first): a scheduled report that runs as a role, a
    failing notebook, and one that outlives its timeout."""
    direct_s3.create_bucket(Bucket=BUCKET)
    storage = s3_storage(moto_url)
    snapshots = f"s3://{BUCKET}/snapshots/"
    jobs = tmp_path_factory.mktemp("pod-jobs") / "jobs"
    specs = {
        "slow": spec_for(
            "slow",
            *take_snapshot(storage, SLOW, snapshots),
            job_image,
            parameters={},
            timeout_seconds=60,
        ),
        "report": spec_for(
            "report",
            *take_snapshot(storage, REPORT_AS_ROLE, snapshots),
            job_image,
            run_as={"role_arn": ROLE},
            schedule={
                "type": "cron",
                "cron": "0 6 * * *",
                "timezone": "Europe/Amsterdam",
                "start_date": "2026-11-25",
            },
        ),
        "failing": spec_for("failing", *take_snapshot(storage, FAILING, snapshots), job_image),
    }
    # What IRSA and the cluster's network give a pod on EKS, here: keys for the test S3 and
    # the host network to reach it (added by Airflow's pod_mutation_hook, see pod_manifest).
    pod_env = {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": moto_url}
    played = {}
    try:
        for name, spec in specs.items():
            write_spec(jobs, spec)
            rendered = render_job_pod(
                airflow_python, jobs, dag_id_for("alice", spec["id"]), SCHEDULED, pod_env=pod_env
            )
            validate(rendered["pod"])
            played[name] = PlayedPod(rendered["pod"], jobs.parent)
        yield played
    finally:
        for pod in played.values():
            pod.down()
        objects = direct_s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        for obj in objects:
            direct_s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
        direct_s3.delete_bucket(Bucket=BUCKET)


def test_the_job_image_runs_as_a_non_root_user(job_image):
    assert image_user(job_image) == "1000:1000"


def test_a_scheduled_spec_runs_in_its_pod_with_the_run_as_keys_in_the_kernel(pods, direct_s3):
    pod = pods["report"]
    status = pod.wait(timeout=300)
    assert status == 0, pod.logs()[-4000:]
    print(f"report pod: {pod.seconds} s from kube play to exit")

    folder = f"runs/alice/report/{SCHEDULED_FOLDER}/"
    run = read_json(direct_s3, BUCKET, folder + "run.json")
    assert run["status"] == "success" and run["trigger"] == "airflow"
    assert run["parameters"] == {"region": "EU", "days": 21}
    assert run["error"] is None and run["duration_seconds"] > 0 and run["end"] >= run["start"]
    assert run["output_uri"] == f"s3://{BUCKET}/{folder}output.ipynb"
    out = read_json(direct_s3, BUCKET, folder + "output.ipynb")
    text = cell_text(out)
    assert "REPORT region=EU doubled=42" in text
    assert 'region = "EU"' in injected_source(out)
    assert out["metadata"]["papermill"]["parameters"] == {"region": "EU", "days": 21}
    # The kernel is the run-as role (moto's STS), not the pod's own identity.
    assert "ARN=arn:aws:sts::123456789012:assumed-role/reports/alice" in text
    assert "KEY=" in text and "KEY=" + TEST_ACCESS_KEY not in text
    assert run["aws_identity"] == {
        "arn": "arn:aws:sts::123456789012:assumed-role/reports/alice",
        "role_arn": ROLE,
    }


def test_a_failing_notebook_fails_the_pod_and_leaves_its_output(pods, direct_s3):
    pod = pods["failing"]
    assert pod.wait(timeout=300) == 1  # the pod's phase is Failed: Airflow fails the task

    folder = f"runs/alice/failing/{SCHEDULED_FOLDER}/"
    run = read_json(direct_s3, BUCKET, folder + "run.json")
    assert run["status"] == "failed"
    assert run["error"]["type"] == "ValueError"
    assert run["error"]["message"] == "boom 42"
    assert 'raise ValueError(f"boom {x + 1}")' in run["error"]["cell_source"]
    assert run["error"]["execution_count"] == 4
    out = read_json(direct_s3, BUCKET, folder + "output.ipynb")
    assert "before the failure" in cell_text(out)
    assert out["metadata"]["papermill"]["exception"] is True
    assert '"status": "failed"' in pod.logs()  # the runner's last line, in the task's log


def test_a_run_past_its_timeout_is_stopped_in_the_pod_and_says_so(pods, direct_s3):
    pod = pods["slow"]
    assert pod.wait(timeout=400) == 1
    print(f"slow pod: {pod.seconds} s from kube play to exit")

    run = read_json(direct_s3, BUCKET, f"runs/alice/slow/{SCHEDULED_FOLDER}/run.json")
    assert run["status"] == "failed"
    assert run["error"]["type"] == "RunTimeout"
    assert "timeout of 60 s" in run["error"]["message"]
    assert 50 <= run["duration_seconds"] < 100  # stopped at the limit, not at the sleep's end
    assert pod.seconds < 200


# --- the single-user image ------------------------------------------------------------------

#: What the Hub's Small Fry broker answers a user's server (``credentials/modes.py``).
BROKER_KEY = "ASIASINGLEUSERTEST01"

# Runs in the container, as the image's user: talks to the server's kernel by its
# connection file and prints what the notebook code sees.
KERNEL_PROBE = r"""
import glob, sys
import jupyter_client
(path,) = glob.glob(f"/home/jovyan/.local/share/jupyter/runtime/kernel-{sys.argv[1]}.json")
client = jupyter_client.BlockingKernelClient(connection_file=path)
client.load_connection_file()
client.start_channels()
client.wait_for_ready(60)
out = []
code = ("import os, boto3\n"
        "creds = boto3.Session().get_credentials().get_frozen_credentials()\n"
        "print(os.environ.get('AWS_PROFILE'), creds.access_key)")
client.execute_interactive(code, timeout=60,
                           output_hook=lambda m: out.append(m["content"].get("text", "")))
print("".join(out).strip())
"""


@pytest.fixture(scope="module")
def singleuser_image():
    reason = missing_tools()
    if reason:
        pytest.skip(f"images cannot be built on this machine: {reason}")
    tag, took = ensure_image("singleuser")
    print(f"single-user image {tag}: built in {took or 'no time (reused)'}")
    return tag


@pytest.fixture
def broker():
    """A stand-in for the Hub's broker service: answers every server with the same keys and
    remembers the Hub API tokens it was shown."""
    seen = []
    keys = {
        "AccessKeyId": BROKER_KEY,
        "SecretAccessKey": "single-user-test-secret",
        "SessionToken": "single-user-test-token",
        "Expiration": "2099-01-01T00:00:00Z",
        "arn": "arn:aws:sts::123456789012:assumed-role/analyst/alice",
        "roles": [],
        "role": "",
    }
    with broker_answering(lambda: keys, seen) as url:
        yield url, seen


def test_the_single_user_image_serves_small_fry_and_its_kernels_get_keys_from_the_profile(
    singleuser_image, broker
):
    """JupyterLab with the extension, and the managed AWS profile: a kernel's boto3 gets the
    user's keys through the profile's credential_process, from the user's own server."""
    import time

    import requests

    from .processes import free_port

    assert image_user(singleuser_image) == "1000:100"
    broker_url, seen = broker
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": "token single-user-test"}
    server = Container(
        singleuser_image,
        "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--IdentityProvider.token=single-user-test",
        "--SmallFry.credentials_mode=broker", f"--SmallFry.broker_url={broker_url}",
        env={"JUPYTERHUB_API_TOKEN": "hub-token-of-alice"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{base}/api/status", headers=auth, timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, server.logs()[-3000:]
            time.sleep(0.5)
        lab = requests.get(f"{base}/lab", headers=auth, timeout=30)
        assert lab.ok and "jupyterlab-smallfry" in lab.text  # the prebuilt extension loads
        config = requests.get(f"{base}/smallfry/config", headers=auth, timeout=30)
        assert config.ok, config.text
        kernel = requests.post(
            f"{base}/api/kernels", headers=auth, json={"name": "python3"}, timeout=60
        ).json()
        probe = server.exec("python", "-c", KERNEL_PROBE, kernel["id"], timeout=180)
        assert probe.stdout.strip().splitlines()[-1] == f"smallfry {BROKER_KEY}", probe.stderr
        assert "token hub-token-of-alice" in seen  # the server asked the broker as the user
    finally:
        server.remove()
