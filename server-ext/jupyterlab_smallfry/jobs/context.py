"""Where a user's Jupyter server keeps jobs and how it reaches them, built once per server.

A single user's server writes specs into its own jobs folder (:class:`.service.JobService`,
starting runs itself or through Airflow); a team member's server forwards everything to the
Small Fry Hub service (:class:`.remote.RemoteJobs`). Either way the handlers talk to
``backend`` and do not care which one it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from .service import JobService, Locations
from .snapshot import snapshots_uri_for
from .store import Storage, is_s3, join

_DEMO_RUNS_URI = "s3://smallfry-demo/runs/"


class JobsContext:
    """Where this server keeps jobs and runs, and an S3 client with the user's current keys."""

    def __init__(self, services):
        self.services = services
        cfg = services.config
        self.jobs_uri = cfg.jobs_uri or str(Path.home() / ".local/share/smallfry/jobs")
        if cfg.runs_uri:
            self.runs_uri = cfg.runs_uri
        elif cfg.embedded:
            # The Jobs panel opens outputs with the S3 browser, which shows the demo bucket.
            self.runs_uri = _DEMO_RUNS_URI
        else:
            self.runs_uri = join(self.jobs_uri.rstrip("/").rsplit("/", 1)[0], "runs") + "/"
        if not is_s3(self.jobs_uri):
            self.jobs_uri = os.path.abspath(os.path.expanduser(self.jobs_uri))
        if not is_s3(self.runs_uri):
            self.runs_uri = os.path.abspath(os.path.expanduser(self.runs_uri)) + "/"
        self.snapshots_uri = snapshots_uri_for(self.runs_uri)
        self.remote = bool(cfg.jobs_service_url)
        if self.remote:
            from .remote import RemoteJobs

            token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
            self.backend = RemoteJobs(cfg.jobs_service_url, token, services.http)
        else:
            from .signing import load_key

            locations = Locations(self.jobs_uri, self.runs_uri, self.snapshots_uri)
            self.backend = JobService(
                locations, self.storage, signing_key=load_key(), runs=self._run_starter()
            )

    def _run_starter(self):
        """Run now: through Airflow when this server knows one, else in a child process."""
        if self.services.config.airflow_api_url:
            from .airflow_trigger import AirflowTrigger

            return AirflowTrigger(
                self.services.config.airflow_api_url, self.services.http, self.storage
            )
        from .local_runs import LocalRuns

        # With the jobs location, so a run that succeeds starts the jobs that run after it.
        return LocalRuns(self.storage, self.s3_request, jobs_uri=self.jobs_uri)

    async def s3_request(self) -> dict:
        """Endpoint, region and the cached current keys, for boto3 here or in a runner process."""
        creds = await self.services.credential_cache.get()
        endpoint = (
            self.services.endpoints.s3_base.geturl() if self.services.endpoints.s3_custom else ""
        )
        return {
            "endpoint_url": endpoint,
            "region": self.services.region,
            "access_key": creds.access_key,
            "secret_key": creds.secret_key,
            "token": creds.token,
        }

    async def storage(self) -> Storage:
        s3 = await self.s3_request()

        def client():
            import boto3
            from botocore.config import Config

            return boto3.client(
                "s3",
                endpoint_url=s3["endpoint_url"] or None,
                region_name=s3["region"],
                aws_access_key_id=s3["access_key"],
                aws_secret_access_key=s3["secret_key"],
                aws_session_token=s3["token"],
                config=Config(
                    s3={"addressing_style": "path" if s3["endpoint_url"] else "auto"},
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )

        return Storage(client)
