"""The DAG factory: one Airflow 3 DAG per job spec in a local folder.

Reads ``<jobs_dir>/<owner>/<job_id>.json`` (a folder Airflow syncs from the jobs location; it
never reads S3 while parsing). For each file:

- a valid spec becomes a DAG with one task that runs the notebook through the same runner as
  the Jupyter server's "Run now";
- an invalid one becomes a placeholder DAG with the same dag_id whose only task fails with the
  validation message, so the problem shows in Airflow's UI instead of the job silently going;
- nothing one file does can stop the others from loading.

No Python source is generated and user strings are never Jinja templates: the operators have
no template fields.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path

from ..jobs.store import owner_from_key
from ..jobs.validation import PRESETS, validate_spec
from .naming import dag_id_for

log = logging.getLogger(__name__)

#: Environment variable naming the jobs folder when the DAG-folder file passes none.
JOBS_DIR_ENV = "SMALLFRY_JOBS_DIR"

_BASE_TAGS = ["smallfry"]


def build_dags(namespace: dict | None = None, jobs_dir: str | os.PathLike | None = None) -> dict:
    """Build the DAGs for every spec under ``jobs_dir`` and put them in ``namespace``.

    Call it from the DAG folder with ``globals()``. Returns ``{dag_id: DAG}``.
    """
    from airflow.sdk import get_parsing_context

    folder = Path(jobs_dir or os.environ.get(JOBS_DIR_ENV) or "")
    dags: dict = {}
    if not str(folder) or not folder.is_dir():
        log.warning("Small Fry: jobs folder %r does not exist; no job DAGs", str(folder))
        return dags
    wanted = get_parsing_context().dag_id  # set while a task runs: build only its DAG
    for path in sorted(folder.glob("*/*.json")):
        if path.name.startswith("."):
            continue  # a writer's temporary file
        owner = owner_from_key(path.parent.name)
        dag_id = dag_id_for(owner, path.stem)
        if wanted and wanted != dag_id:
            continue
        try:
            dag = _dag_for_file(path, owner, dag_id)
        except Exception as err:  # noqa: BLE001 - one bad spec must never break the others
            log.exception("Small Fry: building the DAG for %s failed", path)
            dag = _placeholder_dag(dag_id, owner, f"{type(err).__name__}: {err}", path)
        dags[dag.dag_id] = dag
    if namespace is not None:
        namespace.update(dags)
    return dags


def _dag_for_file(path: Path, owner: str, dag_id: str):
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        return _placeholder_dag(dag_id, owner, f"the file is not valid JSON: {err}", path)
    if isinstance(spec, dict):
        # The folder says whose job it is; whatever the file claims is overridden.
        spec["owner"] = owner
    errors = validate_spec(spec)
    if not errors and spec["id"] != path.stem:
        errors = [f"id: {spec['id']!r} does not match the file name {path.name!r}"]
    if not errors and "uri_template" not in spec.get("output", {}):
        errors = ["output.uri_template: is required for Airflow runs"]
    if not errors and spec.get("image") and not _has_kubernetes():
        errors = [
            "image: running in a container image needs apache-airflow-providers-cncf-kubernetes "
            "on this Airflow"
        ]
    if errors:
        return _placeholder_dag(dag_id, owner, "; ".join(str(e) for e in errors[:5]), path)
    return _job_dag(spec, dag_id)


def _has_kubernetes() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("airflow.providers.cncf.kubernetes") is not None
    except ModuleNotFoundError:
        return False


def _schedule(spec: dict):
    import pendulum
    from airflow.timetables.trigger import CronTriggerTimetable

    sched = spec["schedule"]
    if sched["type"] != "cron" or spec.get("paused"):
        return None, None, False
    tz = sched["timezone"]
    cron = PRESETS.get(sched["cron"].strip(), sched["cron"].strip())
    start = pendulum.parse(sched["start_date"], tz=tz)
    return CronTriggerTimetable(cron, timezone=tz), start, bool(sched.get("catchup", False))


def _job_dag(spec: dict, dag_id: str):
    from airflow.sdk import DAG

    timetable, start, catchup = _schedule(spec)
    retries = spec.get("retries", {})
    timeout = dt.timedelta(seconds=spec.get("timeout_seconds", 3600))
    title = spec.get("title") or spec["id"]
    dag = DAG(
        dag_id=dag_id,
        dag_display_name=title,
        description=(spec.get("description") or title)[:1000],
        schedule=timetable,
        start_date=start,
        catchup=catchup,
        max_active_runs=1,
        # A run's time limit plus a margin for the task to write the failed manifest.
        dagrun_timeout=timeout + dt.timedelta(minutes=10),
        is_paused_upon_creation=bool(spec.get("paused", False)),
        tags=[*_BASE_TAGS, f"owner:{spec['owner']}"[:100], *spec.get("tags", [])]
        + (["paused"] if spec.get("paused") else []),
        default_args={"owner": spec["owner"]},
        **_callbacks(spec),
    )
    from .operators import NotebookJobOperator, pod_operator

    # A spec with an image runs in a pod of that image; otherwise on the Airflow worker.
    (pod_operator if spec.get("image") else NotebookJobOperator)(
        task_id="run_notebook",
        spec=spec,
        dag=dag,
        retries=retries.get("count", 0),
        retry_delay=dt.timedelta(seconds=retries.get("delay_seconds", 300)),
        execution_timeout=timeout,
        max_active_tis_per_dag=1,
    )
    return dag


def _callbacks(spec: dict) -> dict:
    """Email on failure/success through Airflow's SMTP notifier (smtp_default connection)."""
    notes = spec.get("notifications") or {}
    if not (notes.get("on_failure") or notes.get("on_success")):
        return {}
    try:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier
    except ImportError:
        log.warning("Small Fry: notifications need apache-airflow-providers-smtp; none sent")
        return {}
    out = {}
    name = dag_id_for(spec["owner"], spec["id"])
    for key, callback, word in (
        ("on_failure", "on_failure_callback", "failed"),
        ("on_success", "on_success_callback", "succeeded"),
    ):
        if notes.get(key):
            # Fixed subject/body (no user text), so nothing user-written is ever rendered.
            out[callback] = SmtpNotifier(
                to=list(notes[key]),
                subject=f"[Small Fry] {name} {word}",
                html_content=f"<p>The notebook job {name} {word}. Its run log is the output "
                "notebook under the job's runs folder.</p>",
            )
    return out


def _placeholder_dag(dag_id: str, owner: str, message: str, path: Path):
    from airflow.sdk import DAG

    message = message[:2000]
    dag = DAG(
        dag_id=dag_id,
        dag_display_name=f"Invalid job spec: {path.stem}"[:200],
        description=f"INVALID SPEC {path.parent.name}/{path.name}: {message}"[:1000],
        schedule=None,
        catchup=False,
        tags=[*_BASE_TAGS, "invalid-spec", f"owner:{owner}"[:100]],
        default_args={"owner": owner},
    )
    from .operators import InvalidSpecOperator

    InvalidSpecOperator(task_id="invalid_spec", message=message, dag=dag, retries=0)
    return dag
