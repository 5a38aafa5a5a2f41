"""Chained jobs: a job with ``after: [ids]`` runs once each of those jobs of the same owner has
succeeded since its own last run.

The rules are checked in one place, with no Jupyter or Airflow import, because three callers
need them: the service on create/update (a clear ``after`` error in the form), the Airflow DAG
factory (an invalid chain becomes a placeholder DAG instead of a job that never runs), and the
single-user server's own runner (:class:`.local_runs.LocalRuns`), which starts dependents
itself when there is no Airflow.

A job with ``after`` takes its times from its upstreams, so it may not have a cron schedule of
its own: two clocks for one job would make "why did it run now?" unanswerable.
"""

from __future__ import annotations

from ..airflow.naming import dag_id_for
from .validation import SpecError

FIELD = "after"


def upstream_ids(spec: dict) -> list[str]:
    """The job ids ``spec`` runs after (empty for an ordinary job)."""
    after = spec.get("after") or []
    return [a for a in after if isinstance(a, str)] if isinstance(after, list) else []


def check_after(spec: dict, owner_specs: dict[str, dict]) -> list[SpecError]:
    """Every problem with ``spec``'s ``after`` among its owner's jobs ``{id: spec}``.

    ``owner_specs`` may or may not already hold ``spec`` (on create it does not); ``spec``
    is taken as the current version of its job either way. All errors have field ``after``.
    """
    after = upstream_ids(spec)
    if not after:
        return []
    job_id = spec.get("id")
    errors: list[SpecError] = []
    schedule = spec.get("schedule")
    if isinstance(schedule, dict) and schedule.get("type") == "cron":
        errors.append(
            SpecError(
                FIELD,
                "a job that runs after others takes its times from them: set its schedule "
                "to manual or remove 'after'",
            )
        )
    if job_id in after:
        errors.append(SpecError(FIELD, f"a job cannot run after itself ({job_id!r})"))
    missing = [a for a in after if a != job_id and a not in owner_specs]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        errors.append(
            SpecError(FIELD, f"no job of yours is called {names}: create it first or remove it")
        )
    if job_id not in after:
        cycle = _cycle_through(job_id, {**owner_specs, job_id: spec})
        if cycle:
            errors.append(
                SpecError(
                    FIELD, f"these jobs would wait for each other forever: {' → '.join(cycle)}"
                )
            )
    return errors


def _cycle_through(start: str, graph_specs: dict[str, dict]) -> list[str] | None:
    """The shortest loop through ``start``, in the order runs would flow (``a → b``: b runs
    after a), or None.

    Breadth first along ``after`` (from a job to the jobs it waits for), so the message names
    the smallest loop the user has to break."""
    waiting_for_me: dict[str, str] = {}  # upstream -> the job that waits for it
    frontier = [start]
    seen = {start}
    while frontier:
        nxt = []
        for node in frontier:
            for up in upstream_ids(graph_specs.get(node) or {}):
                if up == start:
                    # start → node → (the job waiting for node) → … → start
                    loop = [start, node]
                    while loop[-1] != start:
                        loop.append(waiting_for_me[loop[-1]])
                    return loop
                if up not in seen:
                    seen.add(up)
                    waiting_for_me[up] = node
                    nxt.append(up)
        frontier = nxt
    return None


def dependents(owner_specs: dict[str, dict], job_id: str) -> list[dict]:
    """The owner's jobs that run after ``job_id`` (directly), sorted by id."""
    return [
        owner_specs[i]
        for i in sorted(owner_specs)
        if i != job_id and job_id in upstream_ids(owner_specs[i])
    ]


def asset_name(owner: str, job_id: str) -> str:
    """The Airflow asset that a successful run of ``owner``'s ``job_id`` updates.

    Derived from the job's dag_id, which is already unique per (owner, job) and uses only
    characters Airflow accepts in an asset name; no URI scheme, so no Airflow URI rules apply.
    """
    return f"{dag_id_for(owner, job_id)}__succeeded"
