"""Airflow side of Small Fry: a DAG factory for job specs. Importable without Jupyter.

Put the factory's files in Airflow's DAG folder: ``smallfry-airflow dag-files DAG_FOLDER
--jobs-dir /path/to/jobs`` writes one file per shard (:func:`dag_folder_files`), each the same
two lines (:func:`dag_folder_file`); the file's name says which owners' jobs it builds.
"""

from __future__ import annotations

from .naming import DEFAULT_SHARDS, dag_id_for, is_factory_file, shard_file_name


def build_dags(namespace=None, jobs_dir=None, shard=None, shards=None):
    """See :func:`jupyterlab_smallfry.airflow.factory.build_dags`."""
    from .factory import build_dags as _build

    return _build(namespace, jobs_dir, shard, shards)


def dag_folder_file(jobs_dir: str | None = None) -> str:
    """The two lines of every factory file in the DAG folder. Airflow's file parser only looks
    at files that mention both "airflow" and "dag", which these lines do. The shard comes from
    the name the file is saved under (:func:`dag_folder_files`), so one text serves every
    shard (a Helm ConfigMap holds it once)."""
    where = repr(str(jobs_dir)) if jobs_dir else "None  # from $SMALLFRY_JOBS_DIR"
    return (
        "from jupyterlab_smallfry.airflow import build_dags  # airflow dag factory\n"
        f"build_dags(globals(), jobs_dir={where})\n"
    )


def dag_folder_files(jobs_dir: str | None = None, shards: int = DEFAULT_SHARDS) -> dict[str, str]:
    """``{file name: text}`` of the DAG-folder files for ``shards`` shards."""
    text = dag_folder_file(jobs_dir)
    return {shard_file_name(i, shards): text for i in range(shards)}


def write_dag_files(dag_folder, jobs_dir: str | None = None, shards: int = DEFAULT_SHARDS):
    """Write the shard files into ``dag_folder``, then remove any other factory file there
    (the single-file layout's ``smallfry_jobs.py``, another shard count's files): two files
    building the same DAG would make Airflow report duplicate dag_ids. Returns the removed
    paths. Each file is written beside as a dot file (Airflow skips those) and renamed, so
    the DAG processor never parses half a file."""
    from pathlib import Path

    folder = Path(dag_folder)
    wanted = dag_folder_files(jobs_dir, shards)
    for name, text in wanted.items():
        target = folder / name
        if not target.is_file() or target.read_text() != text:
            tmp = folder / f".{name}.tmp"
            tmp.write_text(text)
            tmp.replace(target)
    removed = []
    for stale in sorted(folder.iterdir()):
        if is_factory_file(stale.name) and stale.name not in wanted:
            stale.unlink()
            removed.append(stale)
    return removed


__all__ = ["build_dags", "dag_folder_file", "dag_folder_files", "dag_id_for", "write_dag_files"]
