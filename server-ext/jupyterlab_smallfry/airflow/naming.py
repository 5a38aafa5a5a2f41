"""How a job maps to an Airflow dag_id and its owner to an Airflow role; shared by the factory,
the Hub service and the Jupyter server."""

from __future__ import annotations

from ..safe_names import owner_slug

PREFIX = "smallfry"


def dag_id_for(owner: str, job_id: str) -> str:
    """``smallfry__<owner>__<job_id>``: Airflow allows ``[A-Za-z0-9_.-]``, at most 250 chars.

    Job ids are 1-63 of ``[a-z0-9_-]`` (the spec's rule) and the owner part never holds ``__``,
    so different (owner, job) pairs never share a dag_id.
    """
    return f"{PREFIX}__{owner_slug(owner)}__{job_id}"


def owner_role(owner: str) -> str:
    """The Airflow (FAB) role that may see and trigger ``owner``'s DAGs; FAB allows 64 chars."""
    return f"{PREFIX}-user-{owner_slug(owner, 64 - len(PREFIX) - 6)}"
