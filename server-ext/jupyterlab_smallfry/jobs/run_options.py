"""Run options: what one run request may change about its job's spec, and why it ran.

A run request (the runner's stdin, ``$SMALLFRY_RUN_REQUEST`` in a pod, Airflow's
``dag_run.conf``) may carry ``"options"`` beside the spec::

    {"parameters": {…}, "notebook": {"uri", "sha256"}, "triggered_by": "…",
     "upstream": [{"job_id", "run_id"}]}

- ``parameters`` (*Run with other parameters*, *Re-run*) replace the spec's parameters
  whole; the effective spec must pass the spec's own rules, so a run cannot smuggle in what
  the form would refuse.
- ``notebook`` (*Reproduce*) names an older snapshot of the same job. Options are not signed
  (the spec is), so the snapshot must sit in the very folder of the spec's own snapshot and be
  named ``<sha256>.ipynb``: a request can pick another version of the owner's notebook, never
  another file. The runner's sha256 check then proves the content.
- ``triggered_by`` and ``upstream`` only describe the run (run.json), they change nothing.

Everything here is pure data checking; the runner applies it before anything runs and turns a
:class:`~.validation.SpecError` into a ``failed`` run.json that says why.
"""

from __future__ import annotations

import copy
import re

from .validation import SpecError, is_job_id, validate_spec

#: Why a run ran, as run.json's ``triggered_by`` says it.
TRIGGERED_BY = ("schedule", "run_now", "retry", "upstream", "rerun", "reproduce", "parameters")
#: At most this many upstream runs are recorded for one run.
MAX_UPSTREAM = 10
#: Longest run id accepted in ``upstream`` (Airflow's are far shorter).
MAX_RUN_ID = 250

_OPTION_KEYS = ("parameters", "notebook", "triggered_by", "upstream")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def apply_run_options(spec: dict, options: dict | None) -> dict:
    """The spec this run executes: a copy of ``spec`` with ``options`` applied.

    Raises :class:`SpecError` (field ``options.<name>``) for an unknown option, a value of the
    wrong type, a snapshot outside the job's snapshot folder, or parameters the spec's rules
    refuse (then the field is the spec's own, ``parameters.<name>``).
    """
    effective = copy.deepcopy(spec)
    if options is None:
        return effective
    if not isinstance(options, dict):
        raise SpecError("options", "the run options must be an object")
    unknown = sorted(k for k in options if k not in _OPTION_KEYS)
    if unknown:
        raise SpecError(
            f"options.{unknown[0]}",
            f"unknown run option {unknown[0]!r}; the options are {', '.join(_OPTION_KEYS)}",
        )
    if "triggered_by" in options:
        _check_triggered_by(options["triggered_by"])
    if "upstream" in options:
        check_upstream(options["upstream"])
    if "notebook" in options:
        effective["notebook"] = {
            **effective.get("notebook", {}),
            **_check_snapshot(spec, options["notebook"]),
        }
    if "parameters" in options:
        if not isinstance(options["parameters"], dict):
            raise SpecError("options.parameters", "the parameters must be an object")
        effective["parameters"] = copy.deepcopy(options["parameters"])
        # The spec's own rules (names, types, sizes): the run must be one the form would allow.
        # Only the parameters' faults count: the rest of the spec was accepted when stored.
        errors = [
            e
            for e in validate_spec(effective, every_field=True)
            if e.field == "parameters" or e.field.startswith("parameters.")
        ]
        if errors:
            raise errors[0]
    return effective


def _check_triggered_by(value) -> str:
    if value not in TRIGGERED_BY:
        raise SpecError(
            "options.triggered_by",
            f"triggered_by must be one of {', '.join(TRIGGERED_BY)}",
        )
    return value


def check_upstream(value) -> list[dict]:
    """``upstream``: a list of at most 10 ``{"job_id", "run_id"}`` (nothing else)."""
    if not isinstance(value, list) or len(value) > MAX_UPSTREAM:
        raise SpecError(
            "options.upstream",
            f"upstream must be a list of at most {MAX_UPSTREAM} {{job_id, run_id}} objects",
        )
    for i, item in enumerate(value):
        where = f"options.upstream.{i}"
        if not isinstance(item, dict) or set(item) != {"job_id", "run_id"}:
            raise SpecError(where, "each upstream run is an object with job_id and run_id only")
        if not isinstance(item["job_id"], str) or not is_job_id(item["job_id"]):
            raise SpecError(f"{where}.job_id", "not a job id")
        run_id = item["run_id"]
        if not isinstance(run_id, str) or not 0 < len(run_id) <= MAX_RUN_ID:
            raise SpecError(f"{where}.run_id", f"a run id is a string of 1-{MAX_RUN_ID} characters")
    return value


def _check_snapshot(spec: dict, notebook) -> dict:
    """Reproduce's ``notebook``: ``<folder of the spec's snapshot>/<sha256>.ipynb``."""
    field = "options.notebook"
    if not isinstance(notebook, dict) or set(notebook) != {"uri", "sha256"}:
        raise SpecError(field, "the notebook option is an object with uri and sha256 only")
    uri, digest = notebook["uri"], notebook["sha256"]
    if not isinstance(digest, str) or not _SHA256.match(digest):
        raise SpecError(f"{field}.sha256", "sha256 must be 64 lowercase hexadecimal digits")
    own = (spec.get("notebook") or {}).get("uri")
    if not isinstance(own, str) or "/" not in own:
        raise SpecError(field, "the job's spec names no notebook snapshot to compare with")
    folder = own.rsplit("/", 1)[0]
    # Built, not parsed: the only acceptable uri is this exact string, so no "..", no other
    # bucket and no other owner's folder can slip through.
    expected = f"{folder}/{digest}.ipynb"
    if uri != expected:
        raise SpecError(
            f"{field}.uri",
            f"a run can only reproduce a snapshot of this job's notebook ({folder}/<sha256>.ipynb); "
            f"{uri!r} is not one",
        )
    return {"uri": uri, "sha256": digest}


def triggered_by(request_or_manifest: dict) -> str:
    """Why a run ran: its recorded ``triggered_by``, else what its request's options say, else
    derived the way the UIs derive it for runs recorded before it existed: ``scheduled__…`` run
    ids -> schedule, ``asset_triggered__…`` -> upstream, a try after the first -> retry, else
    run_now.

    A later try takes its options' word only for ``retry`` (Airflow hands a retry the first
    try's ``dag_run.conf``, which would call it a rerun or an upstream run again).
    """
    doc = request_or_manifest if isinstance(request_or_manifest, dict) else {}
    try_number = doc.get("try_number")
    retry = type(try_number) is int and try_number > 1
    if doc.get("triggered_by") in TRIGGERED_BY:
        return doc["triggered_by"]
    options = doc.get("options") if isinstance(doc.get("options"), dict) else {}
    requested = options.get("triggered_by")
    if requested in TRIGGERED_BY and (requested == "retry" or not retry):
        return requested
    run_id = doc.get("run_id") if isinstance(doc.get("run_id"), str) else ""
    if run_id.startswith("scheduled__"):
        return "schedule"
    if run_id.startswith("asset_triggered__") or (options.get("upstream") and not retry):
        return "upstream"
    if retry:
        return "retry"
    return "run_now"
