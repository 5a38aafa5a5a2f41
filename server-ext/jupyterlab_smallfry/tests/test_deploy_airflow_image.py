"""The Airflow image (``deploy/images/airflow``, the Airflow chart's ``images.airflow``):
Airflow 3.3.2 of the team platform's lock, run as the chart's user, parses the DAG folder of
the Helm values with Small Fry's factory into the jobs a signed spec asks for.

The image is built once per set of inputs (``pod_runtime.ensure_image``) and run with podman
as it comes, with its own entrypoint and user, the spec-signing key mounted as the chart
mounts its Secret (mode 0440, group 0).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jupyterlab_smallfry.airflow import dag_folder_file
from jupyterlab_smallfry.airflow.naming import dag_id_for
from jupyterlab_smallfry.jobs.signing import sign_spec

from .jobs_support import spec_for
from .pod_runtime import IMAGES, REPO, ensure_image, image_user, missing_tools, podman

pytestmark = pytest.mark.timeout(1800)

PLATFORM_LOCK = (
    REPO / "server-ext" / "jupyterlab_smallfry" / "platform" / "airflow-requirements.txt"
)
KEY = "airflow-image-test-key-0123456789abcdef"
#: Where the Helm values put the specs and the key (deploy/helm/airflow/values.yaml).
JOBS_DIR = "/opt/airflow/dags/smallfry-jobs"
KEY_FILE = "/etc/smallfry/spec-key/key"

# Airflow's own DagBag over the DAG folder, as the DAG processor loads it; run in the image.
DAGBAG = r"""
import json, os, warnings
warnings.simplefilter("ignore")
from airflow.dag_processing.dagbag import DagBag
import jupyterlab_smallfry.platform.airflow_webserver_config  # the API server's config
bag = DagBag(dag_folder="/opt/airflow/dags")
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(),
    "dags": {d: {"tasks": sorted(type(t).__name__ for t in dag.tasks), "tags": sorted(dag.tags), "description": dag.description}
             for d, dag in bag.dags.items()},
    "errors": {os.path.basename(f): e[-500:] for f, e in bag.import_errors.items()},
}))
"""


def _pins(path: Path) -> dict[str, str]:
    from packaging.utils import canonicalize_name

    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_the_airflow_images_locks_are_one_set_that_satisfies_small_fry():
    """Airflow's lock is the team platform's, used as it is; the image's own lock adds only
    what Small Fry needs beyond it, never a second version of a package. A dependency changed
    in pyproject.toml without re-running lock.sh fails here, not in a user's build."""
    import tomllib
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    airflow = _pins(PLATFORM_LOCK)
    added = _pins(IMAGES / "airflow" / "requirements.txt")
    assert airflow["apache-airflow"] == "3.3.2"
    assert {"apache-airflow-providers-fab", "apache-airflow-providers-cncf-kubernetes"} <= set(
        airflow
    )
    assert sorted(set(airflow) & set(added)) == [], "pinned twice: run deploy/images/lock.sh"
    locked = {**airflow, **added}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [
        *project["dependencies"],
        *project["optional-dependencies"]["jobs"],
        *project["optional-dependencies"]["lake"],
    ]
    problems = []
    for text in wanted:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        if name == "jupyterlab-smallfry":
            continue
        if name not in locked:
            problems.append(f"{req} is not locked")
        elif not req.specifier.contains(locked[name], prereleases=True):
            problems.append(f"{req} but the lock has {locked[name]}")
    assert not problems, f"run deploy/images/lock.sh: {problems}"


@pytest.fixture(scope="module")
def airflow_image():
    reason = missing_tools()
    if reason:
        pytest.skip(f"images cannot be built on this machine: {reason}")
    tag, took = ensure_image("airflow")
    print(f"airflow image {tag}: built in {took or 'no time (reused)'}")
    return tag


def test_the_airflow_image_runs_airflow_3_3_2_as_the_charts_user(airflow_image):
    # The Airflow chart runs every container as uid 50000, group 0.
    assert image_user(airflow_image) == "50000:0"
    proc = podman("run", "--rm", airflow_image, "airflow", "version", timeout=180)
    assert proc.stdout.strip().splitlines()[-1] == "3.3.2", proc.stderr[-2000:]


@pytest.fixture
def dag_folder(tmp_path):
    """The DAG folder of the Helm values: the factory file, the .airflowignore and three
    specs under smallfry-jobs/, readable by the image's user as the chart's volumes are."""
    dags = tmp_path / "dags"
    owner = dags / "smallfry-jobs" / "alice"
    owner.mkdir(parents=True)
    (dags / "smallfry_jobs.py").write_text(dag_folder_file(JOBS_DIR))
    (dags / ".airflowignore").write_text("smallfry-jobs/\n")
    sha = "0" * 64
    base = (f"s3://acme/snapshots/{sha}.ipynb", sha, "s3://acme/runs/")
    signed = sign_spec(spec_for("report", *base), KEY.encode())
    in_pod = sign_spec(
        spec_for("in-pod", *base, image="registry.example.com/smallfry-job:0.1.0"), KEY.encode()
    )
    # Signed, then changed: the role is not the one the service bound to its owner.
    forged = sign_spec(spec_for("forged", *base), KEY.encode())
    forged["run_as"] = {"role_arn": "arn:aws:iam::123456789012:role/admin"}
    for spec in (signed, in_pod, forged):
        (owner / f"{spec['id']}.json").write_text(json.dumps(spec))
    # The chart's Secret volume: root-owned, mode 0440, read through group 0.
    key = tmp_path / "spec.key"
    key.write_text(KEY)
    key.chmod(0o440)
    for path in [dags, *dags.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dags, key


def test_the_factory_in_the_image_builds_a_signed_spec_into_its_dag(airflow_image, dag_folder):
    """What the DAG processor does in the image: a signed spec is its job DAG (one with an
    image a pod DAG, so the Kubernetes provider imports), a forged one is a visible
    placeholder, and nothing fails to import."""
    dags, key = dag_folder
    proc = podman(
        "run", "--rm",
        "-v", f"{dags}:/opt/airflow/dags:ro",
        "-v", f"{key}:{KEY_FILE}:ro",
        "-e", f"SMALLFRY_SPEC_KEY_FILE={KEY_FILE}",
        "-e", "AIRFLOW__CORE__LOAD_EXAMPLES=False",
        airflow_image, "python", "-c", DAGBAG,
        timeout=300,
    )  # fmt: skip
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (answer["uid"], answer["gid"]) == (50000, 0)  # not root
    assert answer["errors"] == {}
    found = answer["dags"]
    assert sorted(found) == sorted(
        dag_id_for("alice", job) for job in ("report", "in-pod", "forged")
    )
    report = found[dag_id_for("alice", "report")]
    assert report["tasks"] == ["NotebookJobOperator"], report["description"]
    assert "invalid-spec" not in report["tags"]
    assert found[dag_id_for("alice", "in-pod")]["tasks"] == ["NotebookJobPodOperator"]
    forged = found[dag_id_for("alice", "forged")]
    assert forged["tasks"] == ["InvalidSpecOperator"] and "invalid-spec" in forged["tags"]
    assert "signature" in forged["description"], forged["description"]


def test_the_log_groomer_the_chart_runs_removes_old_task_logs_only(airflow_image, tmp_path):
    """The chart's log groomer sidecars run ``bash /clean-logs`` in this image: task logs older
    than the retention go, recent ones and the folder stay."""
    import os
    import time

    logs = tmp_path / "logs"
    old = logs / "dag_id=x" / "run_id=old" / "task_id=run" / "attempt=1.log"
    new = logs / "dag_id=x" / "run_id=new" / "task_id=run" / "attempt=1.log"
    for path in (old, new):
        path.parent.mkdir(parents=True)
        path.write_text("log\n")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    for path in [logs, *logs.rglob("*")]:
        os.chown(path, 50000, 0)  # the chart's logs volume belongs to the pods' user
    proc = podman(
        "run", "--rm", "-v", f"{logs}:/opt/airflow/logs",
        "-e", "AIRFLOW__LOG_RETENTION_DAYS=7",
        airflow_image, "bash", "-c", "timeout 10 bash /clean-logs; echo exit=$?",
        timeout=120,
    )  # fmt: skip
    assert "exit=124" in proc.stdout, proc.stdout + proc.stderr  # still running: a sidecar
    assert not old.exists() and not old.parent.parent.exists()
    assert new.read_text() == "log\n"
