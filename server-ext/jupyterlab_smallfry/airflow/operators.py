"""The two operators the factory uses. Imports Airflow; the factory imports this lazily."""

from __future__ import annotations

import datetime as dt
import json
import re

from airflow.sdk import BaseOperator

from ..jobs.chain import asset_name, upstream_ids
from ..jobs.runner import assume_run_as, check_trusted, refuse_run, run_spec
from ..jobs.store import Storage
from ..jobs.validation import SpecError, is_job_id

#: Longest run id recorded for an upstream run (as :mod:`..jobs.run_options` accepts).
_MAX_RUN_ID = 250


class NotebookJobOperator(BaseOperator):
    """Runs a job spec with papermill via :func:`jupyterlab_smallfry.jobs.runner.run_spec`,
    the same code as the Jupyter server's "Run now"."""

    template_fields = ()  # user strings are data: nothing here is rendered as Jinja
    ui_color = "#e8f4fb"

    def __init__(self, *, spec: dict, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec

    def execute(self, context):
        run_id, try_number = attempt_run_id(context)
        options = run_options(self.spec, context, try_number)
        try:
            # Checks the service's signature again (with a key) before any AWS call.
            _role_storage, kernel_env = assume_run_as(self.spec, run_id)
        except SpecError as err:
            # A refused run still says why it was started (and after which upstream runs).
            refuse_run(
                self.spec,
                run_id,
                Storage(),
                str(err),
                trigger="airflow",
                try_number=try_number,
                options=options,
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
            options=options,
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
        record_success(self.spec, context, run_id)
        return manifest.get("output_uri")


def attempt_run_id(context) -> tuple[str, int]:
    """``(run id of this attempt, try number)``: a retry gets ``<run_id>-try<N>``, so every
    attempt keeps its own run folder and run.json."""
    run_id = str(context["run_id"])
    try_number = int(getattr(context.get("ti"), "try_number", 1) or 1)
    if try_number > 1:
        run_id = f"{run_id}-try{try_number}"
    return run_id, try_number


def run_options(spec: dict, context, try_number: int) -> dict:
    """The run options (see :mod:`..jobs.run_options`) of this task's run.

    From ``dag_run.conf["options"]`` (Run now with other parameters, Re-run, Reproduce from
    Jupyter), plus why the run ran: a retry, Airflow's schedule, the upstream jobs whose
    success released it (from the triggering asset events), else a Run now. The runner checks
    them (a bad option is a failed run that says why)."""
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None) or {}
    asked = conf.get("options") if isinstance(conf, dict) else None
    options = dict(asked) if isinstance(asked, dict) else {}
    run_type = getattr(dag_run, "run_type", None)
    run_type = str(getattr(run_type, "value", run_type) or "")
    if run_type == "asset_triggered":
        upstream = upstream_runs(spec, context.get("triggering_asset_events"))
        if upstream:
            options["upstream"] = upstream
    if try_number > 1:
        options["triggered_by"] = "retry"
    elif run_type in ("scheduled", "backfill"):
        options["triggered_by"] = "schedule"
    elif run_type == "asset_triggered":
        options["triggered_by"] = "upstream"
    else:
        options.setdefault("triggered_by", "run_now")
    return options


def upstream_runs(spec: dict, events) -> list[dict]:
    """``[{job_id, run_id}]``: the newest run of each upstream job among the asset events
    that triggered this run, in the spec's ``after`` order.

    The job id comes from our own asset name (so an event cannot name another job); the run
    id from the event's ``extra`` that the upstream task set (:func:`record_success`), else
    the Airflow run that emitted the event."""
    if not events:
        return []
    by_asset = {asset_name(spec["owner"], up): up for up in upstream_ids(spec)}
    newest: dict[str, tuple] = {}
    for key in events:
        for event in events[key]:
            job_id = by_asset.get(getattr(getattr(event, "asset", None), "name", None))
            if job_id is None:
                continue
            extra = getattr(event, "extra", None) or {}
            run_id = extra.get("run_id") if isinstance(extra, dict) else None
            if not (isinstance(run_id, str) and 0 < len(run_id) <= _MAX_RUN_ID):
                run_id = getattr(event, "source_run_id", None)
            if not (isinstance(run_id, str) and 0 < len(run_id) <= _MAX_RUN_ID):
                continue
            stamp = str(getattr(event, "timestamp", "") or "")
            if job_id not in newest or stamp > newest[job_id][0]:
                newest[job_id] = (stamp, run_id)
    return [
        {"job_id": up, "run_id": newest[up][1]}
        for up in upstream_ids(spec)
        if up in newest and is_job_id(up)
    ]


def record_success(spec: dict, context, run_id: str) -> None:
    """Put the run's job and run id on the asset event Airflow emits when this task succeeds,
    so the jobs that run after it record which run released them."""
    events = context.get("outlet_events")
    if events is None:
        return
    from airflow.sdk import Asset

    events[Asset(name=asset_name(spec["owner"], spec["id"]))].extra = {
        "job_id": spec["id"],
        "run_id": run_id,
    }


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
            result = super().execute(context)  # raises if the pod (the run) failed
            record_success(self.spec, context, attempt_run_id(context)[0])
            return result

        def build_pod_request_obj(self, context=None, **kw):
            # The run request goes in here, not in execute(), so that every pod the provider
            # builds (also its dry_run()) is the pod that runs.
            run_id, try_number = attempt_run_id(context) if context else ("dry-run", 1)
            request = {"spec": self.spec, "run_id": run_id, "trigger": "airflow"}
            if context:
                request["options"] = run_options(self.spec, context, try_number)
            self.env_vars = [k8s.V1EnvVar(name="SMALLFRY_RUN_REQUEST", value=json.dumps(request))]
            return super().build_pod_request_obj(context, **kw)

    return NotebookJobPodOperator(spec=spec, **kwargs)


#: How much longer than a spec's timeout Airflow and the cluster give its pod.
POD_TIMEOUT_MARGIN_SECONDS = 300


def pod_name(job_id: str) -> str:
    """A pod name (DNS-1123: lower-case letters, digits and '-') for a job id, which may hold
    '_' and end with '-' or '_'; the provider adds a random suffix after it."""
    return re.sub(r"[^a-z0-9-]+", "-", f"smallfry-{job_id}")[:53].rstrip("-")
