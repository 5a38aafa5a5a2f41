"""Airflow side of Small Fry: a DAG factory for job specs. Importable without Jupyter.

Put the two lines of :func:`dag_folder_file` in Airflow's DAG folder (print them with
``python -m jupyterlab_smallfry.airflow dag-file --jobs-dir /path/to/jobs``).
"""

from __future__ import annotations

from .naming import dag_id_for


def build_dags(namespace=None, jobs_dir=None):
    """See :func:`jupyterlab_smallfry.airflow.factory.build_dags`."""
    from .factory import build_dags as _build

    return _build(namespace, jobs_dir)


def dag_folder_file(jobs_dir: str | None = None) -> str:
    """The file to drop into Airflow's DAG folder. Airflow's file parser only looks at files
    that mention both "airflow" and "dag", which these lines do."""
    where = repr(str(jobs_dir)) if jobs_dir else "None  # from $SMALLFRY_JOBS_DIR"
    return (
        "from jupyterlab_smallfry.airflow import build_dags  # airflow dag factory\n"
        f"build_dags(globals(), jobs_dir={where})\n"
    )


__all__ = ["build_dags", "dag_folder_file", "dag_id_for"]
