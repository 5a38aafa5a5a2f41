"""The one-machine team platform: the processes a small team runs beside JupyterLab.

Each module starts and stops one part as real local processes on 127.0.0.1 (a private
PostgreSQL cluster, Airflow with single sign-on and per-user DAG access, ...), so the
``smallfry-platform`` command and the end-to-end tests bring up the same thing.
"""
