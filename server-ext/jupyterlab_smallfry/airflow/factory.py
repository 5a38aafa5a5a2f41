"""The DAG factory: one Airflow 3 DAG per job spec in a local folder.

Reads ``<jobs_dir>/<owner>/<job_id>.json`` (a folder Airflow syncs from the jobs location; it
never reads S3 while parsing). For each file:

- a valid spec becomes a DAG with one task that runs the notebook through the same runner as
  the Jupyter server's "Run now";
- an invalid one becomes a placeholder DAG with the same dag_id whose only task fails with the
  validation message, so the problem shows in Airflow's UI instead of the job silently going;
- nothing one file does can stop the others from loading.

Shards: each DAG-folder file builds the specs of the owners its name's shard holds
(``smallfry_jobs_03_of_16.py``, see :mod:`.naming`), so Airflow parses several short files
in parallel, each well within ``dagbag_import_timeout``, and a file that fails hides only its
own owners' jobs. ``smallfry_jobs.py`` (the single-file layout) still builds every spec.

Trust: with a spec-signing key (``SMALLFRY_SPEC_KEY_FILE`` or ``SMALLFRY_SPEC_KEY``, see
:mod:`jupyterlab_smallfry.jobs.signing`) only specs the Small Fry service signed become jobs,
and the signed ``owner`` must be the folder's; anything else is an ``invalid-spec`` DAG that
says why. Without a key (single-user installs) the folder names the owner, as before, and
one warning per parse says that specs are not verified.

With ``SMALLFRY_AIRFLOW_ACCESS_CONTROL=owner`` every DAG grants its owner's Airflow role
(:func:`~.naming.owner_role`) read/edit and run rights, so with the FAB auth manager each user
sees only their own DAGs.

Chains: every job's task updates an Airflow asset when it succeeds
(:func:`~jupyterlab_smallfry.jobs.chain.asset_name`); a spec with ``after`` is scheduled on
its upstreams' assets, all of them (Airflow's AND). A missing upstream, a cycle, or an upstream
that is itself no job makes the dependent a placeholder that says so, rather than a job that
would wait forever.

Notifications are not Airflow callbacks: the runner sends them (:mod:`..jobs.notify`), so a
run on a worker, in a pod or on the Jupyter server tells the same people once.

No Python source is generated and user strings are never Jinja templates: the operators have
no template fields.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from ..contract import CRON_PRESETS
from ..jobs.chain import asset_name, check_after, upstream_ids
from ..jobs.signing import SigningKeyError, load_key, verify_spec
from ..jobs.store import owner_from_key, owner_key
from ..jobs.validation import SpecError, is_job_id, read_spec_file, validate_spec
from .naming import check_shard, dag_id_for, owner_role, shard_from_file_name, shard_of

log = logging.getLogger(__name__)

#: Environment variable naming the jobs folder when the DAG-folder file passes none.
JOBS_DIR_ENV = "SMALLFRY_JOBS_DIR"
#: Environment variable: ``owner`` gives each DAG an access_control for its owner's role.
ACCESS_CONTROL_ENV = "SMALLFRY_AIRFLOW_ACCESS_CONTROL"

#: Specs in one DAG file past which the parse is too close to Airflow's 30 s default limit
#: (about 3 ms a spec on a busy machine; benchmarks/bench_factory.py).
SPECS_PER_FILE_WARNING = 1000

_BASE_TAGS = ["smallfry"]
#: What an owner's role may do with their own DAGs (Airflow's FAB resource names).
OWNER_PERMISSIONS = {"DAGs": {"can_read", "can_edit"}, "DAG Runs": {"can_read", "can_create"}}


class _Trust:
    """What one parse trusts: the signing key (or why there is none) and the access mode."""

    def __init__(self):
        self.key: bytes | None = None
        self.key_error: str | None = None
        try:
            self.key = load_key()
        except SigningKeyError as err:
            # Fail closed: a broken key setting makes every spec a visible placeholder.
            self.key_error = f"the spec-signing key cannot be used: {err}"
            log.error("Small Fry: %s; no job will run until it is fixed", self.key_error)
        if self.key is None and self.key_error is None:
            log.warning(
                "Small Fry: no spec-signing key (SMALLFRY_SPEC_KEY_FILE or SMALLFRY_SPEC_KEY); "
                "job specs are NOT verified and the folder names each job's owner. Set a key "
                "in any deployment where users can write the jobs folder."
            )
        mode = os.environ.get(ACCESS_CONTROL_ENV, "").strip()
        if mode not in ("", "owner"):
            log.error(
                "Small Fry: %s=%r is not understood (use 'owner'); DAGs get no access_control",
                ACCESS_CONTROL_ENV,
                mode,
            )
        self.per_owner = mode == "owner"

    def access(self, owner: str) -> dict:
        """DAG keyword arguments for ``owner``'s access control (none unless switched on)."""
        if not self.per_owner:
            return {}
        return {
            "access_control": {
                owner_role(owner): {name: set(acts) for name, acts in OWNER_PERMISSIONS.items()}
            }
        }


def build_dags(
    namespace: dict | None = None,
    jobs_dir: str | os.PathLike | None = None,
    shard: int | None = None,
    shards: int | None = None,
) -> dict:
    """Build the DAGs for the specs of one shard under ``jobs_dir``; put them in ``namespace``.

    Call it from the DAG folder with ``globals()``. Which shard: ``shard``/``shards`` if given,
    else the calling file's name (``smallfry_jobs_03_of_16.py`` is shard 3 of 16, see
    :func:`~.naming.shard_from_file_name`); any other name builds every spec (one shard).
    Returns ``{dag_id: DAG}``.
    """
    from airflow.sdk import get_parsing_context

    if shard is None and shards is None:
        shard, shards = shard_from_file_name((namespace or {}).get("__file__", ""))
    shard, shards = check_shard(shard, shards)
    folder = Path(jobs_dir or os.environ.get(JOBS_DIR_ENV) or "")
    dags: dict = {}
    if not str(folder) or not folder.is_dir():
        log.warning("Small Fry: jobs folder %r does not exist; no job DAGs", str(folder))
        return dags
    wanted = get_parsing_context().dag_id  # set while a task runs: build only its DAG
    trust = _Trust()
    files = shard_spec_files(folder, shard, shards)
    if len(files) > SPECS_PER_FILE_WARNING and not wanted:
        log.warning(
            "Small Fry: this DAG file builds %d job specs; above ~%d its parse nears Airflow's "
            "dagbag_import_timeout. Spread them over more files: smallfry-airflow dag-files "
            "<dag folder> --shards N",
            len(files),
            SPECS_PER_FILE_WARNING,
        )
    checked = CheckedSpecs(trust.key)
    for path in files:
        owner = owner_from_key(path.parent.name)
        dag_id = dag_id_for(owner, path.stem)
        if wanted and wanted != dag_id:
            continue
        try:
            dag = _dag_for_file(path, owner, dag_id, trust, checked)
        except Exception as err:  # one bad spec must never break the others
            log.exception("Small Fry: building the DAG for %s failed", path)
            dag = _placeholder_dag(dag_id, owner, f"{type(err).__name__}: {err}", path, trust)
        dags[dag.dag_id] = dag
    if namespace is not None:
        namespace.update(dags)
    return dags


def shard_spec_files(folder: Path, shard: int = 0, shards: int = 1) -> list[Path]:
    """The spec files of one shard: ``<owner>/<id>.json`` of the owners whose folder name
    hashes to ``shard`` (see :func:`~.naming.shard_of`), in a stable order.

    Only this shard's owner folders are read, so a shard's cost does not grow with the other
    owners' specs. Writers' temporary files (``.name``) are skipped."""
    out: list[Path] = []
    try:
        owners = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as err:
        log.error("Small Fry: cannot list the jobs folder %s: %s", folder, err)
        return out
    for owner_dir in owners:
        if shard_of(owner_dir.name, shards) != shard:
            continue
        out.extend(p for p in sorted(owner_dir.glob("*.json")) if not p.name.startswith("."))
    return out


def check_spec_file(path: Path, key: bytes | None) -> tuple[dict | None, list[str]]:
    """The spec in ``<jobs>/<owner folder>/<id>.json`` as Airflow would run it, and every
    reason it will not (empty: it becomes a job). Needs no Airflow.

    With ``key`` the spec must carry the service's signature and its signed owner must be the
    folder's (spelled exactly as the store spells it); without, the folder names the owner.
    """
    try:
        spec = read_spec_file(path)  # reads at most the size limit + 1 byte
    except SpecError as err:
        # "the file is not valid JSON: ..." / "the file is not a usable job spec: ... limit"
        if err.message.startswith("not valid JSON"):
            return None, [f"the file is {err.message}"]
        return None, [f"the file is not a usable job spec: {err.message}"]
    if not isinstance(spec, dict):
        return None, [str(e) for e in validate_spec(spec)]
    if key is not None:
        try:
            verify_spec(spec, key)
        except SpecError as err:
            return None, [str(err)]
        claimed = spec.get("owner")
        if not isinstance(claimed, str) or owner_key(claimed) != path.parent.name:
            return None, [
                f"owner: {str(claimed)[:128]!r} does not match its folder {path.parent.name!r}"
            ]
    else:
        # Unverified: the folder says whose job it is; whatever the file claims is overridden.
        spec["owner"] = owner_from_key(path.parent.name)
    errors = [str(e) for e in validate_spec(spec)]
    if not errors and spec["id"] != path.stem:
        errors = [f"id: {spec['id']!r} does not match the file name {path.name!r}"]
    if not errors and "uri_template" not in spec.get("output", {}):
        errors = ["output.uri_template: is required for Airflow runs"]
    return (None if errors else spec), errors


def _dag_for_file(path: Path, owner: str, dag_id: str, trust: _Trust, checked: CheckedSpecs):
    if trust.key_error:
        return _placeholder_dag(dag_id, owner, trust.key_error, path, trust)
    spec, errors = checked.get(path)
    if not errors and spec.get("image") and not _has_kubernetes():
        errors = [
            (
                "image: running in a container image needs "
                "apache-airflow-providers-cncf-kubernetes on this Airflow"
            )
        ]
    if not errors:
        errors = checked.chain_errors(path)
    if errors:
        return _placeholder_dag(dag_id, owner, "; ".join(errors[:5]), path, trust)
    return _job_dag(spec, dag_id, trust)


class CheckedSpecs:
    """Each spec file checked once per parse, and the chain rules (``after``) of a spec among
    its owner's other specs.

    All of an owner's specs are in one folder and one shard (:func:`~.naming.shard_of` is by
    owner), so a spec's upstreams are read from its own folder, here, whatever this parse
    builds; only the specs a chain reaches are read, so a task's parse (one DAG) stays short.
    """

    def __init__(self, key: bytes | None):
        self._key = key
        self._specs: dict[Path, tuple[dict | None, list[str]]] = {}
        self._chain: dict[Path, list[str]] = {}

    def get(self, path: Path) -> tuple[dict | None, list[str]]:
        if path not in self._specs:
            self._specs[path] = (
                check_spec_file(path, self._key) if path.is_file() else (None, ["missing"])
            )
        return self._specs[path]

    def chain_errors(self, path: Path) -> list[str]:
        """Why the (valid) spec at ``path`` cannot run after its upstreams; empty if it can.

        An upstream that is itself no job (an invalid spec, a broken chain) would never
        succeed, so the dependent says so instead of waiting forever."""
        if path in self._chain:
            return self._chain[path]
        self._chain[path] = []  # a loop back here is reported by check_after below
        spec, _errors = self.get(path)
        after = upstream_ids(spec)
        owner_specs = self._reachable(path.parent, spec)
        errors = [str(e) for e in check_after(spec, owner_specs)]
        if not errors:
            for up in after:
                up_path = path.parent / f"{up}.json"
                _up_spec, up_errors = self.get(up_path)
                if up_errors or self.chain_errors(up_path):
                    errors.append(
                        f"after: the job {up!r} is not valid (its DAG says why), so this job "
                        "would never run"
                    )
        self._chain[path] = errors
        return errors

    def _reachable(self, folder: Path, spec: dict) -> dict[str, dict]:
        """``{id: spec}`` of the owner's valid specs reachable from ``spec`` along ``after``
        (an invalid or absent upstream is missing here; :meth:`chain_errors` tells which)."""
        found: dict[str, dict] = {}
        todo = list(upstream_ids(spec))
        while todo:
            job_id = todo.pop()
            if job_id in found or not is_job_id(job_id):
                continue
            up_spec, up_errors = self.get(folder / f"{job_id}.json")
            if up_errors or up_spec is None:
                if (folder / f"{job_id}.json").is_file():
                    found[job_id] = {"id": job_id}  # exists; its own DAG says what is wrong
                continue
            found[job_id] = up_spec
            todo.extend(upstream_ids(up_spec))
        return found


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
    if spec.get("paused"):
        return None, None, False
    after = upstream_ids(spec)
    if after:
        from airflow.sdk import Asset

        # A list of assets is Airflow's AND: a run once every upstream has succeeded since
        # this job's last run.
        return [Asset(name=asset_name(spec["owner"], up)) for up in after], None, False
    if sched["type"] != "cron":
        return None, None, False
    tz = sched["timezone"]
    cron = CRON_PRESETS.get(sched["cron"].strip(), sched["cron"].strip())
    start = pendulum.parse(sched["start_date"], tz=tz)
    return CronTriggerTimetable(cron, timezone=tz), start, bool(sched.get("catchup", False))


def _job_dag(spec: dict, dag_id: str, trust: _Trust):
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
        **trust.access(spec["owner"]),
    )
    from airflow.sdk import Asset

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
        # Updated only when the task succeeds: the jobs that run after this one wait for it.
        outlets=[Asset(name=asset_name(spec["owner"], spec["id"]))],
    )
    return dag


def _placeholder_dag(dag_id: str, owner: str, message: str, path: Path, trust: _Trust):
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
        **trust.access(owner),
    )
    from .operators import InvalidSpecOperator

    InvalidSpecOperator(task_id="invalid_spec", message=message, dag=dag, retries=0)
    return dag
