"""Check a draft job spec for the schedule form, without writing anything.

The form sends what the user typed; the answer lists every problem on its field (the same
schema and rules a save applies, :mod:`.validation`) and, for a cron schedule, the next runs
as Airflow will fire them (:mod:`.preview`). So no rule is written again in the browser.

Pure: no storage, no notebook read, no Airflow. A user's server answers it itself in a team
deployment too, with the same code the Hub service saves with; for a draft that runs after
other jobs, the caller passes the owner's jobs so the chain is judged too.
"""

from __future__ import annotations

import datetime as dt

from .preview import preview
from .service import SERVER_FIELDS
from .validation import API_VERSION, SpecError, validate_spec

#: How many next runs the form shows.
PREVIEW_COUNT = 5

# Stands in for the snapshot the save will take, so the schema judges the rest of the spec.
_SNAPSHOT = {"uri": f"/snapshots/{'0' * 64}.ipynb", "sha256": "0" * 64, "kernel": "python3"}


def check_draft(
    draft: object,
    owner: str,
    now: dt.datetime | None = None,
    owner_specs: dict[str, dict] | None = None,
) -> dict:
    """``{"errors": [{"field", "message"}], "schedule": None | {...}}`` for ``draft``.

    ``owner`` is the signed-in user (a draft naming someone else is a problem on ``owner``);
    ``now`` the instant the preview starts from (default: this server's clock);
    ``owner_specs`` the owner's jobs ``{id: spec}``, when the caller read them for a draft
    with ``after`` (see :func:`needs_owner_specs`): its chain is then judged as a save would.
    """
    if not isinstance(draft, dict):
        return _answer([SpecError("", "a job spec must be a JSON object")], None)
    problems: list[SpecError] = []
    claimed = draft.get("owner")
    if claimed is not None and claimed != owner:
        problems.append(
            SpecError("owner", f"jobs are always owned by the signed-in user ({owner})")
        )
    spec = {k: v for k, v in draft.items() if k not in SERVER_FIELDS}
    spec = {"apiVersion": API_VERSION, "kind": "NotebookJob", **spec, "owner": owner}
    spec["notebook"], notebook_problems = _notebook(spec.get("notebook"))
    problems += notebook_problems
    problems += validate_spec(spec, every_field=True)
    if owner_specs is not None:
        from .chain import check_after

        problems += check_after(spec, owner_specs)

    schedule = None
    sched = spec.get("schedule")
    faulty = any(p.field == "schedule" or p.field.startswith("schedule.") for p in problems)
    if isinstance(sched, dict) and sched.get("type") == "cron" and not faulty:
        now = now or dt.datetime.now(dt.timezone.utc)
        try:
            schedule = preview(sched, now, PREVIEW_COUNT)
        except (ValueError, KeyError, OverflowError) as err:
            # The checks above accept only what croniter reads; say so if that ever slips.
            problems.append(SpecError("schedule.cron", f"cannot compute the next runs: {err}"))
    return _answer(problems, schedule)


def needs_owner_specs(draft: object) -> bool:
    """Whether judging ``draft`` needs its owner's other jobs (it runs after some)."""
    from .chain import upstream_ids

    return isinstance(draft, dict) and bool(upstream_ids(draft))


def _notebook(asked) -> tuple[dict, list[SpecError]]:
    """The draft's notebook as the schema will see it once saved.

    A draft names the notebook to snapshot (``source``), or keeps the job's snapshot
    (``uri``…, or no notebook at all when an edit keeps it): the save judges the snapshot,
    so here only the source's form is checked.
    """
    if not isinstance(asked, dict):
        if asked is None:
            return dict(_SNAPSHOT), []
        return dict(_SNAPSHOT), [SpecError("notebook", "must be an object")]
    if "source" not in asked:
        return asked, []
    source = asked["source"]
    kept = {**_SNAPSHOT, **({"kernel": asked["kernel"]} if "kernel" in asked else {})}
    if not isinstance(source, str) or not source.strip():
        return kept, [SpecError("notebook.source", "is required (the path or s3:// URI)")]
    if not source.endswith(".ipynb"):
        return kept, [
            SpecError("notebook.source", "must be the path or s3:// URI of an .ipynb file")
        ]
    return kept, []


def _answer(problems: list[SpecError], schedule: dict | None) -> dict:
    seen, errors = set(), []
    for p in problems:
        if (p.field, p.message) not in seen:
            seen.add((p.field, p.message))
            errors.append({"field": p.field, "message": p.message})
    return {"errors": errors, "schedule": schedule}
