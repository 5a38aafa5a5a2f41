"""A single user's "Run now" through Airflow's REST API (``/api/v2``), when
``SmallFry.airflow_api_url`` is set. (A team's runs are started by the Hub service.)

Credentials for Airflow: ``user:password@`` in the URL (exchanged for a JWT at
``/auth/token``), else a bearer token in ``$SMALLFRY_AIRFLOW_TOKEN``, else none.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp

from .service import JobError, blocking, dag_id_for
from .store import Storage, dumps, join, output_folder


class AirflowTrigger:
    """Starts a run of a job's DAG and writes its "queued" manifest at once."""

    def __init__(
        self, api_url: str, http: aiohttp.ClientSession, storage: Callable[[], Awaitable[Storage]]
    ):
        parts = urlsplit(api_url)
        netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self._base = base.removesuffix("/api/v2")  # either form
        self._username = unquote(parts.username) if parts.username else ""
        self._password = unquote(parts.password or "")
        self._http = http
        self._storage = storage

    async def start(self, spec: dict, owner: str, options: dict | None = None) -> dict:
        """Trigger the job's DAG with ``options`` in the run's ``conf`` (the Airflow task hands
        them to the runner), and write the run's "queued" manifest at once."""
        dag_id = dag_id_for(spec["owner"], spec["id"])
        try:
            run_id = await self._trigger(dag_id, f"Run now from Jupyter by {owner}", options)
        except aiohttp.ClientError as err:
            raise JobError(
                502, f"Airflow at {self._base} is unreachable: {type(err).__name__}"
            ) from None
        folder = output_folder(spec["output"]["uri_template"], spec["owner"], spec["id"], run_id)
        manifest = queued_manifest(spec, run_id, options)
        storage = await self._storage()
        await blocking(storage.write, join(folder, "run.json"), dumps(manifest))
        return {
            "run_id": run_id,
            "dag_id": dag_id,
            "airflow": True,
            "run_uri": join(folder, "run.json"),
            "output_uri": join(folder, "output.ipynb"),
        }

    async def _headers(self) -> dict:
        headers = {"Content-Type": "application/json"}
        if self._username:
            async with self._http.post(
                f"{self._base}/auth/token",
                json={"username": self._username, "password": self._password},
            ) as answer:
                if answer.status not in (200, 201):
                    raise JobError(
                        502,
                        f"Airflow at {self._base} refused the Small Fry login "
                        f"({answer.status}); check SmallFry.airflow_api_url",
                    )
                headers["Authorization"] = f"Bearer {(await answer.json())['access_token']}"
        elif os.environ.get("SMALLFRY_AIRFLOW_TOKEN"):
            headers["Authorization"] = f"Bearer {os.environ['SMALLFRY_AIRFLOW_TOKEN']}"
        return headers

    async def _trigger(self, dag_id: str, note: str, options: dict | None) -> str:
        conf = {"options": options} if options else {}
        async with self._http.post(
            f"{self._base}/api/v2/dags/{dag_id}/dagRuns",
            headers=await self._headers(),
            json={"logical_date": None, "conf": conf, "note": note},
        ) as answer:
            if answer.status == 404:
                raise JobError(
                    409,
                    f"Airflow does not have the DAG {dag_id} yet: the spec "
                    "reaches Airflow with the next sync and parse; try again shortly",
                )
            if answer.status not in (200, 201):
                raise JobError(502, f"Airflow refused to start {dag_id} ({answer.status})")
            return (await answer.json())["dag_run_id"]


def queued_manifest(spec: dict, run_id: str, options: dict | None) -> dict:
    """The run.json of a run Airflow has accepted but not started: what the run will use
    (its options applied), so the panel shows the right parameters before it starts."""
    from .run_options import apply_run_options
    from .runner import start_manifest

    effective = apply_run_options(spec, options)
    manifest = start_manifest(effective, run_id, "airflow", options=options)
    return {**manifest, "status": "queued", "start": None}
