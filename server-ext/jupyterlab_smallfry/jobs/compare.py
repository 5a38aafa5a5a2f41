"""Compare two runs of a job, or a run and the job's notebook, with nbdime.

The answer is what nbdime's own ``/api/diff`` answers (``{"base": <notebook>, "diff": <diff
of base → remote>}``), so the front end hands it to nbdime's web components
(``NotebookDiffModel(base, diff)``) as nbdime's own tools do, plus the two runs' parameters
and manifests for the table above the diff.

Notebooks are read by key from the runs' own folders (never from a URI a manifest names,
which a run could have written), at most :data:`MAX_NOTEBOOK_BYTES` each: a diff holds both
in memory and sends the base to the browser. Blocking (reads and the diff itself): callers
run it in an executor.
"""

from __future__ import annotations

from .history import run_manifest
from .service import JobError
from .store import Storage

#: Largest output notebook compared (plots and big tables make notebooks large).
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
#: ``remote=notebook``: the job's current notebook snapshot instead of a second run.
CURRENT_NOTEBOOK = "notebook"


def compare(storage: Storage, spec: dict, base: str, remote: str) -> dict:
    """``{"base", "diff", "parameters", "manifests"}`` for run ``base`` against run ``remote``
    (or the job's notebook when ``remote`` is ``"notebook"``)."""
    from nbdime import diff_notebooks

    base_manifest = run_manifest(storage, spec, base)
    base_nb = _notebook(storage, base_manifest["output_uri"], f"the output of run {base!r}")
    if remote == CURRENT_NOTEBOOK:
        remote_manifest = None
        remote_parameters = spec.get("parameters") or {}
        remote_nb = _notebook(storage, spec["notebook"]["uri"], "the job's notebook")
    else:
        remote_manifest = run_manifest(storage, spec, remote)
        remote_parameters = remote_manifest.get("parameters") or {}
        remote_nb = _notebook(
            storage, remote_manifest["output_uri"], f"the output of run {remote!r}"
        )
    return {
        "base": base_nb,
        "diff": diff_notebooks(base_nb, remote_nb),
        "parameters": {"base": base_manifest.get("parameters") or {}, "remote": remote_parameters},
        "manifests": {"base": base_manifest, "remote": remote_manifest},
    }


def _notebook(storage: Storage, uri: str, what: str) -> dict:
    import nbformat

    data = storage.read(uri, max_bytes=MAX_NOTEBOOK_BYTES)
    if data is None:
        raise JobError(404, f"There is no {what} ({uri}): the run may not have started yet")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise JobError(
            413,
            f"{what.capitalize()} is larger than {MAX_NOTEBOOK_BYTES // (1024 * 1024)} MiB, "
            "too large to compare here; download both notebooks and run nbdiff locally",
        )
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as err:  # noqa: BLE001 - any unreadable notebook is the same answer
        raise JobError(
            422, f"{what.capitalize()} is not a notebook nbdime can read: {err}"
        ) from None
