"""The job pod as Airflow would create it: rendered offline by the real KubernetesPodOperator
(the cncf-kubernetes provider's own ``build_pod_request_obj``) in the Airflow venv, then
checked against the Kubernetes OpenAPI schemas and the API server's name and label rules.

Nothing here writes YAML by hand: the factory builds the DAG from a spec file, and the
provider builds the pod from the factory's task.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from .airflow_env import SERVER_EXT

#: The Kubernetes version whose schemas the manifests are checked against.
KUBERNETES_VERSION = "1.33"

# Runs in the Airflow venv. argv: jobs folder, dag_id, run_id, try number.
RENDER = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from types import SimpleNamespace
from kubernetes.client import ApiClient
from jupyterlab_smallfry.airflow import build_dags

jobs, dag_id, run_id, try_number = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
dag = build_dags({}, jobs)[dag_id]
task = dag.tasks[0]
if not hasattr(task, "build_pod_request_obj"):
    sys.exit(f"the factory made no pod task: {dag.description}")
# What the scheduler hands a running task: its instance and the run; the pod's labels
# come from these.
ti = SimpleNamespace(dag_id=dag_id, task_id=task.task_id, map_index=-1, try_number=try_number)
context = {"ti": ti, "run_id": run_id, "dag": dag, "task": task}
pod = task.build_pod_request_obj(context, dry_run=True)
print(json.dumps({
    "task_type": type(task).__name__,
    "execution_timeout": task.execution_timeout.total_seconds(),
    "pod": ApiClient().sanitize_for_serialization(pod),
}))
"""

#: Airflow's cluster policy for pods (``airflow_local_settings.pod_mutation_hook``), which
#: the provider applies to every pod it builds: how a deployment adds what its cluster needs.
#: The test cluster is this machine: host network (the test S3 is on 127.0.0.1) and the
#: worker identity that IRSA would give a pod on EKS, as keys for the test S3.
MUTATION_HOOK = """
import json, os

def pod_mutation_hook(pod):
    from kubernetes.client import models as k8s

    extra = json.loads(os.environ["SMALLFRY_TEST_POD_ENV"])
    pod.spec.host_network = True
    for container in pod.spec.containers:
        container.env = [*(container.env or []),
                         *(k8s.V1EnvVar(name=k, value=v) for k, v in extra.items())]
"""


def write_spec(jobs: Path, spec: dict) -> Path:
    """Put ``spec`` where the factory reads it: ``<jobs>/<owner>/<id>.json``."""
    folder = jobs / spec["owner"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec['id']}.json"
    path.write_text(json.dumps(spec))
    return path


def render_job_pod(
    python: Path,
    jobs: Path,
    dag_id: str,
    run_id: str,
    *,
    pod_env: dict | None = None,
    try_number: int = 1,
) -> dict:
    """``{"task_type", "execution_timeout", "pod"}``: the pod the factory's task would create
    for ``run_id``, as the JSON the Kubernetes API receives. With ``pod_env`` a pod mutation
    hook (the deployment's cluster policy) adds those variables and the host network."""
    home = jobs.parent / (jobs.name + "-airflow-home")
    home.mkdir(exist_ok=True)
    path = [str(SERVER_EXT)]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SMALLFRY_", "AIRFLOW"))},
        "AIRFLOW_HOME": str(home),
        # The namespace comes from the Kubernetes connection, as in a deployment.
        "AIRFLOW_CONN_KUBERNETES_DEFAULT": json.dumps(
            {"conn_type": "kubernetes", "extra": {"namespace": "smallfry-jobs"}}
        ),
    }
    if pod_env is not None:
        settings = home / "local_settings"
        settings.mkdir(exist_ok=True)
        (settings / "airflow_local_settings.py").write_text(MUTATION_HOOK)
        path.append(str(settings))
        env["SMALLFRY_TEST_POD_ENV"] = json.dumps(pod_env)
    env["PYTHONPATH"] = os.pathsep.join(path)
    proc = subprocess.run(
        [str(python), "-c", RENDER, str(jobs), dag_id, run_id, str(try_number)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def validate(manifest: dict) -> None:
    """Raise unless ``manifest`` is a valid object for the Kubernetes API: the OpenAPI schema
    (strict: no unknown fields) and the rules the API server adds for names and labels."""
    import kubernetes_validate

    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    problems = api_server_problems(manifest)
    if problems:
        raise ValueError("; ".join(problems))


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def api_server_problems(manifest: dict) -> list[str]:
    """What the API server would refuse that the OpenAPI schema does not say: object, label
    and container names (DNS-1123), label syntax and lengths, environment variable names."""
    problems = []
    meta = manifest.get("metadata", {})
    name = meta.get("name", "")
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        problems.append(f"metadata.name {name!r} is not a DNS-1123 subdomain")
    namespace = meta.get("namespace", "")
    if len(namespace) > 63 or not _DNS_LABEL.match(namespace):
        problems.append(f"metadata.namespace {namespace!r} is not a DNS-1123 label")
    for key, value in (meta.get("labels") or {}).items():
        prefix, _, label = key.rpartition("/")
        if len(label) > 63 or not _LABEL_NAME.match(label) or (prefix and len(prefix) > 253):
            problems.append(f"label key {key!r} is not a valid label name")
        if len(value) > 63 or not _LABEL_VALUE.match(value):
            problems.append(f"label {key}={value!r}: not a valid label value")
    spec = manifest.get("spec", {})
    for container in spec.get("containers", []) + spec.get("initContainers", []):
        cname = container.get("name", "")
        if len(cname) > 63 or not _DNS_LABEL.match(cname):
            problems.append(f"container name {cname!r} is not a DNS-1123 label")
        for var in container.get("env") or []:
            if not _ENV_NAME.match(var.get("name", "")):
                problems.append(f"env name {var.get('name')!r} is not a valid variable name")
    return problems
