"""A user's server in a team deployment: jobs go to the Small Fry Hub service, not to storage.

The server holds no right to write the jobs, snapshots or runs locations and no Airflow
credentials. It sends what the user asked, plus the notebook's bytes (read with the user's
own keys, so a user can only schedule what they can read), with its Hub API token; the
service asks the Hub who that is. The methods mirror :class:`.service.JobService`, so the
handlers do not care which one they talk to.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlencode

import aiohttp

from .service import JobError, check_id


class RemoteJobs:
    """The Hub service's ``/jobs`` API, called with this server's Hub token."""

    def __init__(self, url: str, token: str, http: aiohttp.ClientSession):
        self._base = url.rstrip("/") + "/jobs"
        self._token = token
        self._http = http
        self._runs_uri = ""

    async def list(self, owner: str) -> list[dict]:
        reply = await self._call("GET", "")
        self._runs_uri = reply.get("runs_uri", "")
        return reply["jobs"]

    async def owner_specs(self, owner: str) -> dict[str, dict]:
        """The owner's jobs ``{id: spec}``, as the service lists them."""
        return {job["spec"]["id"]: job["spec"] for job in await self.list(owner)}

    def where(self) -> dict:
        """Runs go where the service says; its jobs folder is none of the user's business."""
        return {"jobs_uri": "", "runs_uri": self._runs_uri}

    async def get(self, owner: str, job_id: str) -> dict:
        return await self._call("GET", _path(job_id))

    async def create(self, owner: str, body: dict, notebook: bytes | None) -> dict:
        return await self._call("POST", "", _with_content(body, notebook))

    async def update(
        self, owner: str, job_id: str, body: dict, notebook: bytes | None, if_match=None
    ) -> tuple[dict, bool]:
        job = await self._call("PUT", _path(job_id), _with_content(body, notebook), if_match)
        return job, bool(job.pop("created", False))

    async def set_paused(self, owner: str, job_id: str, paused: bool, if_match=None) -> dict:
        action = "pause" if paused else "resume"
        return await self._call("POST", _path(job_id) + "/" + action, None, if_match)

    async def delete(self, owner: str, job_id: str) -> None:
        await self._call("DELETE", _path(job_id))

    async def run_now(self, owner: str, job_id: str, request: dict | None = None) -> dict:
        return await self._call("POST", _path(job_id) + "/run", request or None)

    async def runs(self, owner: str, job_id: str, limit=None, status=None, before=None) -> dict:
        query = {k: v for k, v in (("limit", limit), ("status", status), ("before", before)) if v}
        return await self._call("GET", _path(job_id) + "/runs" + _query(query))

    async def run(self, owner: str, job_id: str, run_id: str) -> dict:
        return await self._call("GET", _path(job_id) + "/runs/" + _segment(run_id))

    async def inputs(self, owner: str, job_id: str, run_id: str) -> dict:
        return await self._call("GET", _path(job_id) + "/runs/" + _segment(run_id) + "/inputs")

    async def compare(self, owner: str, job_id: str, base: str, remote: str) -> dict:
        return await self._call(
            "GET", _path(job_id) + "/compare" + _query({"base": base, "remote": remote})
        )

    async def _call(self, method: str, path: str, body=None, if_match=None) -> dict:
        if not self._token:
            raise JobError(
                503, "This server has no Hub API token, so it cannot reach the jobs service"
            )
        headers = {"Authorization": f"token {self._token}"}
        if if_match:
            headers["If-Match"] = if_match
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, allow_nan=False)
        try:
            async with self._http.request(
                method, self._base + path, headers=headers, data=data, allow_redirects=False
            ) as answer:
                text = await answer.text()
                status = answer.status
        except (aiohttp.ClientError, OSError) as err:
            raise JobError(
                502,
                f"The Small Fry jobs service is unreachable ({type(err).__name__}); "
                "check SmallFry.jobs_service_url or ask your admin",
            ) from None
        try:
            reply = json.loads(text) if text else {}
        except ValueError:
            reply = {"message": text[:300]}
        if status >= 400:
            if not isinstance(reply, dict):
                reply = {}
            message = reply.get("message") or f"the jobs service answered HTTP {status}"
            raise JobError(status, str(message), _field_errors(reply.get("errors")))
        return reply


def _field_errors(errors) -> list[dict]:
    """The service's problems by field, relayed as they came (each message whole); anything
    that is not a ``{"field", "message"}`` pair is dropped rather than passed to the form."""
    if not isinstance(errors, list):
        return []
    return [
        {"field": e["field"], "message": e["message"]}
        for e in errors
        if isinstance(e, dict)
        and isinstance(e.get("field"), str)
        and isinstance(e.get("message"), str)
    ]


def _path(job_id: str) -> str:
    return "/" + quote(check_id(job_id), safe="")


def _segment(run_id: str) -> str:
    """A run id as one path segment (checked here too: the service checks it again)."""
    from .history import check_run_id

    check_run_id(run_id)
    return quote(run_id, safe="")


def _query(params: dict) -> str:
    return "?" + urlencode(params) if params else ""


def _with_content(body: dict, notebook: bytes | None) -> dict:
    if notebook is None:
        return body
    asked = body.get("notebook") if isinstance(body.get("notebook"), dict) else {}
    content = base64.b64encode(notebook).decode("ascii")
    return {**body, "notebook": {**asked, "content": content}}
