"""Run a job spec once with papermill: the one code path for "Run now" and for Airflow tasks.

Each run writes into its own folder (the spec's output template, by default
``<runs_uri>/<owner>/<job>/<run_id>/``):

- ``run.json``: ``{"status": "running"}`` first, then ``success`` or ``failed`` with the times,
  the parameters and, on failure, the error and the failing cell;
- ``output.ipynb``: the executed notebook (the run log), also when the notebook failed;
- ``output.html`` when the spec asks for it.

Parameters go to papermill as data: papermill writes them into the injected cell as literals
of the kernel's language, so ``"{{ conn.x.password }}"`` reaches the notebook as exactly that
string. Nothing here renders templates.

As a program (``python -m jupyterlab_smallfry.jobs.runner``) it reads one JSON request on
stdin (or from ``$SMALLFRY_RUN_REQUEST`` in a container, without keys): ``{"spec": …,
"run_id": …, "trigger": …, "try_number": …, "s3": {"endpoint_url", "region", "access_key",
"secret_key", "token"}}`` (``try_number`` defaults to the ``-try<N>`` suffix the Airflow
operators give a retry's run id, else 1); credentials travel on stdin so they never enter the
environment the notebook's kernel inherits. The request is parsed as strictly as a stored
spec (:func:`~.validation.parse_spec`).

Kernels as their owner (``SMALLFRY_KERNEL_AS_OWNER=1``, team platform): the kernel runs as the
owner's Unix account with an environment built from scratch (see :mod:`.kernel_as_owner`), so
a notebook cannot read the worker's secrets (the signing key, Airflow's database); without the
setting the kernel is this process's child and inherits its environment plus ``kernel_env``.

Stopping: the program turns SIGTERM (Kubernetes deleting the pod) into a ``failed`` run.json
that says the run was stopped, then exits 1, well within Kubernetes' 30-s grace period.

Trust: when a spec-signing key is configured (:func:`~.signing.load_key`), a spec runs only if
the Small Fry service signed exactly it: :func:`assume_run_as` checks the signature again
before any AWS call, so the owner and the ``run_as`` role that reach the task are the ones the
service bound together. A refused spec gets a ``failed`` run.json that says why.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

from .. import kernel_env as kernel_env_names
from ..safe_names import USER_TAG_KEY, role_session_name, tag_value
from . import kernel_as_owner, lineage, run_options
from .progress import Progress
from .signing import SigningKeyError, load_key, verify_spec
from .store import Storage, default_s3_client, dumps, join, output_folder, record_run_status
from .validation import MAX_SPEC_BYTES, SpecError, parse_spec

log = logging.getLogger(__name__)

#: Upper bound on how much of a failing cell's source and traceback goes into run.json.
_MAX_TEXT = 4000
#: A run request is a spec plus a run id, a trigger and S3 settings.
MAX_REQUEST_BYTES = MAX_SPEC_BYTES + 64 * 1024


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: The kernel's variable naming the assumed-role ARN a run uses (also recorded in run.json).
RUN_AS_ARN = "SMALLFRY_RUN_AS_ARN"


def run_folder(spec: dict, run_id: str) -> str:
    """Where this run writes, from the spec's output template."""
    return output_folder(spec["output"]["uri_template"], spec["owner"], spec["id"], run_id)


def start_manifest(
    spec: dict, run_id: str, trigger: str, try_number: int = 1, options: dict | None = None
) -> dict:
    """The ``running`` manifest (written before the kernel starts, so the UI sees the run)."""
    folder = run_folder(spec, run_id)
    manifest = {
        "apiVersion": "smallfry/v1",
        "kind": "NotebookRun",
        "job_id": spec["id"],
        "owner": spec["owner"],
        "run_id": run_id,
        "trigger": trigger,
        "try_number": try_number,
        "status": "running",
        "parameters": spec.get("parameters", {}),
        "notebook": {"uri": spec["notebook"]["uri"], "sha256": spec["notebook"]["sha256"]},
        "output_uri": join(folder, "output.ipynb"),
        "start": _iso(_now()),
        "end": None,
        "duration_seconds": None,
        "error": None,
    }
    manifest["triggered_by"] = run_options.triggered_by(
        {"run_id": run_id, "try_number": try_number, "options": options}
    )
    upstream = (options or {}).get("upstream") if isinstance(options, dict) else None
    if upstream:
        manifest["upstream"] = upstream
    return manifest


def run_spec(
    spec: dict,
    run_id: str,
    storage: Storage,
    *,
    trigger: str = "server",
    try_number: int = 1,
    kernel_env: dict | None = None,
    options: dict | None = None,
) -> dict:
    """Execute ``spec`` once and return the final manifest (``status`` success or failed).

    ``options`` (a run request's, see :mod:`.run_options`) change this run only: other
    parameters, an older snapshot (Reproduce), why it ran. Options the spec's rules refuse
    give a ``failed`` run.json that says why, and nothing runs.

    Never raises for a failing notebook: the caller decides (Airflow's task raises so the
    task fails and retries). Other errors (S3 unreachable for the manifest, a timeout signal)
    propagate after the manifest says ``failed`` where that is still possible.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from . import engine  # registers papermill's "smallfry" engine

    try:
        spec = run_options.apply_run_options(spec, options)
    except SpecError as err:
        return refuse_run(
            spec,
            run_id,
            storage,
            f"the run options were refused: {err}",
            trigger=trigger,
            try_number=try_number,
            error_type="InvalidRunOptions",
            options=options if isinstance(options, dict) else None,
        )
    folder = run_folder(spec, run_id)
    manifest = start_manifest(spec, run_id, trigger, try_number, options)
    if (kernel_env or {}).get(RUN_AS_ARN):
        manifest["aws_identity"] = {
            "arn": kernel_env[RUN_AS_ARN],
            "role_arn": (spec.get("run_as") or {}).get("role_arn", ""),
        }
    started = _now()
    storage.write(join(folder, "run.json"), dumps(manifest))
    out_uri = join(folder, "output.ipynb")
    output = spec.get("output", {})
    formats = output.get("formats", ["ipynb"])
    aws_env = _run_as_keys(kernel_env)
    told: list[dict] = []  # notifications sent, for run.json
    progress = Progress(
        storage,
        join(folder, "progress.json"),
        started=started,
        on_duration_over=_duration_watch(spec, manifest, aws_env, told),
    )
    kernel_info: dict = {}  # what the engine learnt of the kernel (language, setup ran)

    with tempfile.TemporaryDirectory(prefix="smallfry-run-") as tmp, lineage.lineage_file() as seen:
        work = Path(tmp)
        local_in, local_out = work / "input.ipynb", work / "output.ipynb"
        pending: BaseException | None = None
        try:
            # With SMALLFRY_KERNEL_AS_OWNER the owner's account is checked before anything
            # runs; a refusal ends here with a failed run.json that says why.
            # sf.params in the notebook: the values papermill injects, as JSON; the lineage
            # file the kernel's S3 hooks append to.
            kernel_env = {
                **(kernel_env or {}),
                kernel_env_names.PARAMETERS: json.dumps(spec.get("parameters", {})),
                **seen.env(),
            }
            as_owner = kernel_as_owner.prepare(
                spec["owner"], spec["notebook"]["kernel"], kernel_env
            )
            if as_owner is None:
                seen.create()
            else:
                seen.create(as_owner.uid, as_owner.gid)
            data = storage.read(spec["notebook"]["uri"])
            if data is None:
                raise FileNotFoundError(
                    f"the notebook snapshot {spec['notebook']['uri']} is missing"
                )
            digest = hashlib.sha256(data).hexdigest()
            if digest != spec["notebook"]["sha256"]:
                raise ValueError(
                    f"the notebook snapshot changed (sha256 {digest[:12]}…, the spec expects "
                    f"{spec['notebook']['sha256'][:12]}…); schedule the notebook again"
                )
            local_in.write_bytes(data)
            execute = functools.partial(
                pm.execute_notebook,
                str(local_in),
                str(local_out),
                parameters=dict(spec.get("parameters", {})),
                kernel_name=spec["notebook"]["kernel"],
                report_mode=bool(output.get("hide_code", False)),
                progress_bar=False,
                log_output=True,
                execution_timeout=spec.get("timeout_seconds"),
                # Small Fry's engine: progress.json as cells run, lineage hooks first.
                engine_name=engine.ENGINE_NAME,
                progress=progress,
                kernel_setup=lineage.kernel_setup,
                setup_result=kernel_info,
            )
            if as_owner is None:
                with _environ(kernel_env or {}):
                    execute(cwd=str(work))
            else:
                # The kernel runs as the owner with its own environment (nothing of this
                # process's); papermill's files stay in the root-only folder above. The
                # kernel's folder goes to nbclient as ``resources`` (its kernel cwd), not as
                # papermill's ``cwd``, which would chdir this root process into a folder the
                # owner controls.
                log.info(
                    "Small Fry run %s: the kernel runs as %s (uid %d) with its own environment",
                    run_id,
                    as_owner.owner,
                    as_owner.uid,
                )
                with kernel_as_owner.launch_folder(as_owner) as (manager_class, kernel_cwd):
                    execute(
                        kernel_manager_class=manager_class,
                        resources={"metadata": {"path": str(kernel_cwd)}},
                    )
            manifest["status"] = "success"
        except PapermillExecutionError as err:
            manifest["status"] = "failed"
            manifest["error"] = {
                "type": err.ename,
                "message": _clip(str(err.evalue)),
                "cell_index": err.cell_index,
                "execution_count": err.exec_count,
                "cell_source": _clip(err.source),
                "traceback": _clip("\n".join(_strip_ansi(line) for line in err.traceback or [])),
            }
        except BaseException as err:  # noqa: BLE001 - the manifest must say failed, then re-raise
            manifest["status"] = "failed"
            manifest["error"] = {
                "type": type(err).__name__,
                "message": _clip(str(err) or repr(err)),
            }
            log.warning(
                "Small Fry run %s failed before or outside the notebook: %s",
                run_id,
                traceback.format_exc(limit=5),
            )
            if not isinstance(err, Exception):
                pending = err  # KeyboardInterrupt/SystemExit/timeout signals keep propagating
            elif type(err).__name__ in ("AirflowTaskTimeout", "AirflowException"):
                pending = err
        finally:
            ended = _now()
            manifest["end"] = _iso(ended)
            manifest["duration_seconds"] = round((ended - started).total_seconds(), 3)
            manifest["cells"] = progress.cells if progress.began else None
            if progress.began:
                progress.finish()
            # Lineage only where the hooks ran (a Python kernel); else null, "not recorded".
            manifest["lineage"] = seen.collect() if kernel_info.get("ran") else None
            try:
                if local_out.exists():
                    storage.write(
                        out_uri, local_out.read_bytes(), content_type="application/x-ipynb+json"
                    )
                    if "html" in formats:
                        html_uri = join(folder, "output.html")
                        storage.write(html_uri, _to_html(local_out), content_type="text/html")
                        manifest["html_uri"] = html_uri
                else:
                    manifest["output_uri"] = None
            finally:
                # run.json goes last: once it says success/failed, the outputs are there.
                manifest["notifications"] = list(told)
                storage.write(join(folder, "run.json"), dumps(manifest))
                _index(storage, spec, run_id, manifest["status"])
        # Told after run.json says how it ended (a link in the message shows the outcome),
        # then run.json again with who was told.
        event = _final_event(spec, manifest, try_number, pending)
        if event:
            told.extend(_notify(spec, manifest, event, aws_env))
            if told != manifest["notifications"]:
                manifest["notifications"] = list(told)
                with contextlib.suppress(Exception):
                    storage.write(join(folder, "run.json"), dumps(manifest))
        if pending is not None:
            raise pending
    return manifest


def _index(storage: Storage, spec: dict, run_id: str, status: str) -> None:
    """The ``.index`` marker of a finished run; a failure to write it is only logged (the
    history then finds the run by its run.json)."""
    try:
        record_run_status(storage, spec, run_id, status)
    except Exception as err:  # noqa: BLE001
        log.warning("Small Fry run %s: indexing it as %s failed: %s", run_id, status, err)


def _run_as_keys(kernel_env: dict | None) -> dict | None:
    """The run-as role's keys (what notifications read Secrets Manager with), or None."""
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    keys = {k: (kernel_env or {}).get(k) for k in names}
    return keys if keys["AWS_ACCESS_KEY_ID"] and keys["AWS_SECRET_ACCESS_KEY"] else None


def _final_event(spec: dict, manifest: dict, try_number: int, pending) -> str | None:
    """``success``, ``failure`` (only on the last try: a retry may still succeed) or None
    (a run stopped by SIGTERM: someone stopped it on purpose, or the pod is going away)."""
    if manifest["status"] == "success":
        return "success"
    if type(pending).__name__ == "RunStopped":
        return None
    retries = (spec.get("retries") or {}).get("count", 0)
    return "failure" if try_number > retries else None


def _notify(spec: dict, manifest: dict, event: str, aws_env: dict | None) -> list[dict]:
    """Tell the spec's destinations of ``event``; the results for run.json. Never raises."""
    notifications = spec.get("notifications") or {}
    wanted = {
        "failure": notifications.get("on_failure"),
        "success": notifications.get("on_success"),
        "duration_over": (notifications.get("on_duration_over") or {}).get("to"),
    }[event]
    if not wanted:
        return []
    try:
        from . import notify  # imported only when someone is to be told
    except ImportError as err:
        log.warning("Small Fry: notifications are not available: %s", err)
        return []
    try:
        results = notify.notify_run(spec, manifest, event, aws_env=aws_env)
    except Exception as err:  # noqa: BLE001 - telling must never change the run's outcome
        log.warning("Small Fry: notifying %s failed: %s", event, err)
        return []
    return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []


def _duration_watch(spec: dict, manifest: dict, aws_env: dict | None, told: list):
    """``(seconds, callback)`` for :class:`Progress` when the spec wants to hear of a long
    run; the callback tells them (once) and keeps the results for run.json."""
    over = (spec.get("notifications") or {}).get("on_duration_over") or {}
    seconds = over.get("seconds")
    if not isinstance(seconds, int) or not over.get("to"):
        return None

    def tell(elapsed: float) -> None:
        running = {**manifest, "duration_seconds": round(elapsed, 3)}
        told.extend(_notify(spec, running, "duration_over", aws_env))

    return seconds, tell


def _to_html(path: Path) -> bytes:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(str(path), as_version=4))
    return body.encode("utf-8")


def _clip(text) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


@contextlib.contextmanager
def _environ(extra: dict):
    """Set variables the kernel inherits; only used in processes that run one job."""
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update({k: str(v) for k, v in extra.items()})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_trusted(spec: dict, environ=None) -> None:
    """Raise :class:`SpecError` (field ``signature``) if a signing key is configured and the
    Small Fry service did not sign exactly this spec. A key setting that cannot be used
    refuses too: a broken key must not turn the check off."""
    try:
        key = load_key() if environ is None else load_key(environ)
    except SigningKeyError as err:
        raise SpecError("signature", f"the spec-signing key cannot be used: {err}") from None
    if key is not None:
        verify_spec(spec, key)


def refuse_run(
    spec: dict,
    run_id: str,
    storage: Storage,
    reason: str,
    *,
    trigger: str = "server",
    try_number: int = 1,
    error_type: str = "UntrustedSpec",
    options: dict | None = None,
) -> dict:
    """Record a run that was refused before it started (``failed``, with ``reason``).

    Nobody is notified: an untrusted spec's destinations cannot be trusted either."""
    try:
        manifest = start_manifest(spec, run_id, trigger, try_number, _describing(options))
    except (KeyError, TypeError, ValueError, AttributeError):
        # A spec too broken to name its run folder: there is nothing to write into.
        log.warning("Small Fry run %s refused (%s); no run folder to record it in", run_id, reason)
        return {"status": "failed", "error": {"type": error_type, "message": reason}}
    manifest.update(
        status="failed",
        output_uri=None,
        end=manifest["start"],
        duration_seconds=0,
        error={"type": error_type, "message": _clip(reason)},
    )
    log.warning("Small Fry run %s refused: %s", run_id, reason)
    try:
        storage.write(join(run_folder(spec, run_id), "run.json"), dumps(manifest))
        record_run_status(storage, spec, run_id, "failed")
    except Exception as err:  # noqa: BLE001 - the refusal stands even if it cannot be recorded
        log.warning("Small Fry run %s: writing the refusal failed: %s", run_id, err)
    return manifest


def _describing(options) -> dict | None:
    """Of refused options, only the parts that describe the run and are themselves valid."""
    if not isinstance(options, dict):
        return None
    kept = {}
    if options.get("triggered_by") in run_options.TRIGGERED_BY:
        kept["triggered_by"] = options["triggered_by"]
    with contextlib.suppress(SpecError):
        kept["upstream"] = run_options.check_upstream(options.get("upstream"))
    return kept


def assume_run_as(spec: dict, run_id: str, base_session=None):
    """Assume the spec's ``run_as.role_arn`` for this run, tagged with owner, job and run.

    Returns ``(storage, kernel_env)``: S3 access and the kernel's AWS variables with the
    role's short-lived keys. Without a role: ``(None, {})`` and the caller keeps its own.
    First, with a signing key configured, raises :class:`SpecError` unless the service signed
    this very spec (see :func:`check_trusted`); no AWS call is made then. The session's name
    and SourceIdentity are the owner's injective :func:`role_session_name`, and the session
    tags ``smallfry:owner``/``smallfry:job``/``smallfry:run`` hold :func:`tag_value` codes.
    """
    check_trusted(spec)
    role = (spec.get("run_as") or {}).get("role_arn")
    if not role:
        return None, {}
    import boto3

    session = base_session or boto3.session.Session()
    sts = session.client(
        "sts",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL_STS")
        or os.environ.get("AWS_ENDPOINT_URL")
        or None,
    )
    reply = sts.assume_role(
        RoleArn=role,
        RoleSessionName=role_session_name(spec["owner"]),
        SourceIdentity=role_session_name(spec["owner"]),
        Tags=[
            # The tag the Hub service gives users' own sessions, so a role whose policy uses
            # ${aws:PrincipalTag/jupyterhub_user} grants a job what it grants its owner.
            {"Key": USER_TAG_KEY, "Value": tag_value(spec["owner"])},
            {"Key": "smallfry:owner", "Value": tag_value(spec["owner"])},
            {"Key": "smallfry:job", "Value": tag_value(spec["id"])},
            {"Key": "smallfry:run", "Value": tag_value(run_id)},
        ],
        DurationSeconds=max(900, min(43200, int(spec.get("timeout_seconds", 3600)) + 900)),
    )
    answer = reply["Credentials"]
    env = {
        "AWS_ACCESS_KEY_ID": answer["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": answer["SecretAccessKey"],
        "AWS_SESSION_TOKEN": answer["SessionToken"],
        # Not secret: who the notebook is on AWS, for run.json and for the notebook itself.
        RUN_AS_ARN: reply.get("AssumedRoleUser", {}).get("Arn", ""),
    }

    def client():
        from botocore.config import Config

        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=env["AWS_SESSION_TOKEN"],
            config=Config(s3={"addressing_style": "path" if endpoint else "auto"}),
        )

    return Storage(client), env


def _storage_from_request(s3: dict | None) -> Storage:
    if not s3:
        return Storage(default_s3_client)

    def client():
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=s3.get("endpoint_url") or None,
            region_name=s3.get("region") or "us-east-1",
            aws_access_key_id=s3.get("access_key"),
            aws_secret_access_key=s3.get("secret_key"),
            aws_session_token=s3.get("token"),
            config=Config(s3={"addressing_style": "path" if s3.get("endpoint_url") else "auto"}),
        )

    return Storage(client)


class RunTimeout(Exception):
    """The whole run took longer than the spec's ``timeout_seconds``."""


def _limit_run_time(seconds: int) -> None:
    """In a process that runs one job: raise :class:`RunTimeout` in the run after ``seconds``,
    so the manifest says why it failed (Airflow tasks get the same from execution_timeout)."""
    import signal

    def expired(_signum, _frame):
        raise RunTimeout(f"the run took longer than its timeout of {seconds} s")

    signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)


class RunStopped(Exception):
    """The runner was told to stop (SIGTERM) before the run finished."""


def _stop_on_sigterm() -> None:
    """In a process that runs one job: turn SIGTERM into :class:`RunStopped` in the run.

    Kubernetes sends SIGTERM when it deletes a job's pod (Airflow's on_kill when a task is
    cleared or marked failed, the pod's deadline, a node drain) and kills it 30 s later; the
    run then still writes a ``failed`` run.json that says it was stopped. Without a handler
    the runner, PID 1 in its container, would not even notice: the kernel ignores signals
    that PID 1 does not handle. A second SIGTERM is ignored so that it cannot cut short the
    writes of the first."""
    import signal

    def stopped(signum, _frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise RunStopped(
            f"the run was stopped before it finished ({signal.Signals(signum).name}: its pod "
            "or task was deleted, cleared or marked failed)"
        )

    signal.signal(signal.SIGTERM, stopped)


def _record_stop(spec: dict, run_id: str, storage: Storage, trigger: str, try_number: int, err):
    """A ``failed`` run.json for a run stopped outside the notebook (before it started, or
    while its results were being written): the ``running`` manifest updated if there is one,
    so the start time stays the real one."""
    folder = run_folder(spec, run_id)
    manifest = None
    with contextlib.suppress(Exception):
        data = storage.read(join(folder, "run.json"))
        manifest = json.loads(data) if data else None
    if not isinstance(manifest, dict):
        manifest = start_manifest(spec, run_id, trigger, try_number)
    ended = _now()
    start = dt.datetime.fromisoformat(manifest["start"].replace("Z", "+00:00"))
    with contextlib.suppress(Exception):
        if manifest.get("output_uri") and storage.read(manifest["output_uri"]) is None:
            manifest["output_uri"] = None
    manifest.update(
        status="failed",
        end=_iso(ended),
        duration_seconds=round((ended - start).total_seconds(), 3),
        error={"type": type(err).__name__, "message": _clip(str(err))},
    )
    storage.write(join(folder, "run.json"), dumps(manifest))
    _index(storage, spec, run_id, "failed")
    return manifest


#: The suffix the Airflow operators give a retry's run id (``<run_id>-try2``), which is how a
#: pod learns its attempt when the request does not say it.
_TRY_SUFFIX = re.compile(r"-try([1-9][0-9]{0,3})$")


def _try_number(request: dict) -> int:
    """The attempt this run is: the request's ``try_number``, else the run id's ``-try<N>``."""
    if "try_number" in request:
        value = request["try_number"]
        if type(value) is not int or not 1 <= value <= 9999:
            raise SpecError("try_number", "the try_number must be a whole number from 1 to 9999")
        return value
    match = _TRY_SUFFIX.search(request["run_id"])
    return int(match.group(1)) if match else 1


def main(argv: list[str] | None = None) -> int:
    """Run one spec from a JSON request on stdin; exit 0 on success, 1 if the run failed
    (also when it was refused, timed out or stopped by SIGTERM: run.json says which)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    _stop_on_sigterm()
    # In a container (a spec with an image) the request comes in an environment variable.
    raw = os.environ.pop("SMALLFRY_RUN_REQUEST", None)
    try:
        if raw is None:
            raw = sys.stdin.buffer.read(MAX_REQUEST_BYTES + 1)
        request = parse_spec(raw, max_bytes=MAX_REQUEST_BYTES)
        if not isinstance(request, dict) or not isinstance(request.get("spec"), dict):
            raise SpecError("", "the run request must be an object with a spec object")
        if not isinstance(request.get("run_id"), str):
            raise SpecError("run_id", "the run request needs a run_id string")
        try_number = _try_number(request)
    except (SpecError, RunStopped) as err:
        # Nothing to record a run in yet: the answer on stdout is all there is.
        kind = type(err).__name__
        print(json.dumps({"status": "failed", "error": {"type": kind, "message": str(err)}}))
        return 1
    spec, run_id = request["spec"], request["run_id"]
    trigger = request.get("trigger", "server")
    storage = _storage_from_request(request.get("s3"))
    try:
        try:
            role_storage, kernel_env = assume_run_as(spec, run_id)
        except SpecError as err:
            manifest = refuse_run(
                spec,
                run_id,
                storage,
                str(err),
                trigger=trigger,
                try_number=try_number,
                options=request.get("options"),
            )
            print(json.dumps({"status": manifest["status"], "error": manifest["error"]}))
            return 1
        _limit_run_time(int(spec.get("timeout_seconds", 3600)))
        # The run's own folder and the snapshot are read and written with this process's
        # identity (the worker's or the server's); only the notebook's kernel gets the
        # run-as keys.
        del role_storage
        manifest = run_spec(
            spec,
            run_id,
            storage,
            trigger=trigger,
            try_number=try_number,
            kernel_env=kernel_env,
            options=request.get("options"),
        )
    except RunStopped as err:
        # Stopped outside the notebook (run_spec records a stop inside it itself).
        import signal

        signal.alarm(0)  # the timeout must not cut this last write short
        try:
            manifest = _record_stop(spec, run_id, storage, trigger, try_number, err)
        except Exception as write_err:  # noqa: BLE001 - say what happened on stdout at least
            log.warning("Small Fry run %s: recording the stop failed: %s", run_id, write_err)
            manifest = {
                "status": "failed",
                "error": {"type": type(err).__name__, "message": str(err)},
            }
    print(json.dumps({"status": manifest["status"], "error": manifest["error"]}))
    return 0 if manifest["status"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
