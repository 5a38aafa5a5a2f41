"""The two operators the factory uses. Imports Airflow; the factory imports this lazily."""

from __future__ import annotations

import datetime as dt
import json
import re

from airflow.sdk import BaseOperator

from ..jobs.runner import assume_run_as, check_trusted, refuse_run, run_spec
from ..jobs.store import Storage
from ..jobs.validation import SpecError


class NotebookJobOperator(BaseOperator):
    """Runs a job spec with papermill via :func:`jupyterlab_smallfry.jobs.runner.run_spec`,
    the same code as the Jupyter server's "Run now"."""

    template_fields = ()  # user strings are data: nothing here is rendered as Jinja
    ui_color = "#e8f4fb"

    def __init__(self, *, spec: dict, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec

    def execute(self, context):
        run_id = str(context["run_id"])
        try_number = int(getattr(context.get("ti"), "try_number", 1) or 1)
        if try_number > 1:
            run_id = f"{run_id}-try{try_number}"  # every attempt keeps its own run log
        try:
            # Checks the service's signature again (with a key) before any AWS call.
            _role_storage, kernel_env = assume_run_as(self.spec, run_id)
        except SpecError as err:
            refuse_run(
                self.spec, run_id, Storage(), str(err), trigger="airflow", try_number=try_number
            )
            _fail_now(f"Refused to run this Small Fry job spec: {err}")
        # Snapshot and run folder with the worker's own identity (users' roles may not write
        # runs/ or read snapshots/); only the notebook's kernel gets the run-as keys.
        manifest = run_spec(
            self.spec,
            run_id,
            Storage(),
            trigger="airflow",
            try_number=try_number,
            kernel_env=kernel_env,
        )
        self.log.info(
            "Small Fry run %s: %s, output %s",
            run_id,
            manifest["status"],
            manifest.get("output_uri"),
        )
        if manifest["status"] != "success":
            error = manifest.get("error") or {}
            cell = error.get("execution_count")
            where = f" in cell [{cell}]" if cell is not None else ""
            raise RuntimeError(
                f"The notebook failed{where}: {error.get('type')}: {error.get('message')}"
            )
        return manifest.get("output_uri")


def _fail_now(message: str):
    """Fail the task without retries: a refused spec will not be accepted on a retry either."""
    from airflow.sdk.exceptions import AirflowFailException

    raise AirflowFailException(message)


class InvalidSpecOperator(BaseOperator):
    """Fails with the validation message of a spec that could not become a job."""

    template_fields = ()
    ui_color = "#fbe8e8"

    def __init__(self, *, message: str, **kwargs):
        super().__init__(**kwargs)
        self.message = message

    def execute(self, context):
        raise ValueError(f"Invalid Small Fry job spec: {self.message}")


def pod_operator(*, spec: dict, **kwargs):
    """A Kubernetes pod of the spec's image that runs the same runner (scale-out).

    The image needs ``jupyterlab-smallfry`` (no extras), papermill and the notebook's kernel
    (``deploy/images/job`` builds one); AWS access comes from the pod's identity (e.g. IRSA)
    or the spec's run-as role. Needs ``apache-airflow-providers-cncf-kubernetes``.
    """
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.providers.cncf.kubernetes.pod_generator import make_safe_label_value
    from kubernetes.client import models as k8s

    class NotebookJobPodOperator(KubernetesPodOperator):
        template_fields = ()  # the spec is data; nothing of it is rendered as Jinja

        def __init__(self, *, spec: dict, **kw):
            # The runner in the pod stops the notebook at the spec's timeout and writes a
            # failed run.json that says so. Airflow's own limit must come later: it deletes
            # the pod, which then writes nothing, and starting the pod (scheduling, pulling
            # the image) already ate into the same time. The cluster's deadline is the
            # backstop if the task itself is gone. (The DAG run's limit is 10 minutes more.)
            limit = int(spec.get("timeout_seconds", 3600)) + POD_TIMEOUT_MARGIN_SECONDS
            kw["execution_timeout"] = dt.timedelta(seconds=limit)
            super().__init__(
                image=spec["image"],
                active_deadline_seconds=limit,
                name=pod_name(spec["id"]),
                cmds=["python", "-m", "jupyterlab_smallfry.jobs.runner"],
                # Label values have a stricter syntax than job ids (a label must end with a
                # letter or digit): the provider's own rule makes them valid, with a hash
                # suffix where it had to change them. The exact id is in an annotation.
                labels={
                    "app.kubernetes.io/part-of": "smallfry",
                    "smallfry/job": make_safe_label_value(spec["id"]),
                },
                annotations={"smallfry/job": spec["id"], "smallfry/owner": spec["owner"]},
                get_logs=True,
                on_finish_action="delete_pod",
                **kw,
            )
            self.spec = spec

        def execute(self, context):
            try:
                # The pod may not hold the signing key: check here, before it starts.
                check_trusted(self.spec)
            except SpecError as err:
                _fail_now(f"Refused to run this Small Fry job spec: {err}")
            return super().execute(context)

        def build_pod_request_obj(self, context=None, **kw):
            # The run request goes in here, not in execute(), so that every pod the provider
            # builds (also its dry_run()) is the pod that runs.
            run_id = str(context["run_id"]) if context else "dry-run"
            try_number = int(getattr(context.get("ti"), "try_number", 1) or 1) if context else 1
            if try_number > 1:
                run_id = f"{run_id}-try{try_number}"  # as on a worker: each attempt its own log
            request = {"spec": self.spec, "run_id": run_id, "trigger": "airflow"}
            self.env_vars = [k8s.V1EnvVar(name="SMALLFRY_RUN_REQUEST", value=json.dumps(request))]
            return super().build_pod_request_obj(context, **kw)

    return NotebookJobPodOperator(spec=spec, **kwargs)


#: How much longer than a spec's timeout Airflow and the cluster give its pod.
POD_TIMEOUT_MARGIN_SECONDS = 300


def pod_name(job_id: str) -> str:
    """A pod name (DNS-1123: lower-case letters, digits and '-') for a job id, which may hold
    '_' and end with '-' or '_'; the provider adds a random suffix after it."""
    return re.sub(r"[^a-z0-9-]+", "-", f"smallfry-{job_id}")[:53].rstrip("-")
