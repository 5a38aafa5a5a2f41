"""Notebook jobs: the spec (schema + checks), where specs and runs are stored, and the runner.

Importable without Jupyter: the Airflow DAG factory uses the same modules. Only
``jobs.handlers`` needs jupyter_server.
"""
