"""All Small Fry settings: one traitlets ``Configurable``, read as ``c.SmallFry.*``."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from traitlets import Bool, Dict, Enum, Integer, List, Unicode, Union, validate
from traitlets.config import Configurable

# Naming the roots is the drive's rule, kept with its inverse (drive path -> s3:// URI).
from .drive_roots import BUCKET_NAME_RE, name_roots, normalize_root

__all__ = ["BUCKET_NAME_RE", "SmallFry", "normalize_root"]

_CONNECTION_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SmallFry(Configurable):
    """Settings of the Small Fry server extension."""

    endpoint_url = Unicode(
        "",
        config=True,
        help="S3 endpoint URL, e.g. http://minio:9000. Empty: AWS (or botocore's "
        "AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL when set).",
    )
    sts_endpoint_url = Unicode(
        "",
        config=True,
        help="STS endpoint URL. Empty: the regional AWS STS endpoint (or botocore's "
        "AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL when set).",
    )
    glue_endpoint_url = Unicode(
        "",
        config=True,
        help="AWS Glue Data Catalog endpoint URL (the Catalog panel). Empty: the regional AWS "
        "Glue endpoint (or botocore's AWS_ENDPOINT_URL_GLUE / AWS_ENDPOINT_URL when set).",
    )
    region = Unicode(
        "",
        config=True,
        help="AWS region used for signing and for AWS endpoints. Empty: botocore's "
        "configured region (AWS_REGION, AWS_DEFAULT_REGION, profile), else us-east-1.",
    )
    addressing_style = Enum(
        ["auto", "path", "virtual"],
        default_value="auto",
        config=True,
        help="How the gateway addresses buckets upstream. 'auto': virtual-hosted on AWS for "
        "DNS-compatible bucket names, path style on a custom endpoint.",
    )
    ca_bundle = Unicode(
        "",
        config=True,
        help="Path to a PEM bundle of CA certificates to trust for the S3/STS endpoints "
        "(e.g. a company proxy or a private MinIO). Empty: the system/certifi store.",
    )
    verify_tls = Bool(
        True, config=True, help="Verify TLS certificates of the endpoints. Never disable on AWS."
    )
    roots = List(
        Union([Unicode(), Dict()]),
        default_value=[],
        config=True,
        help="Pinned roots shown at the top of the S3 browser: 'bucket', 'bucket/prefix/' or "
        "{'bucket': ..., 'prefix': ..., 'name': 'Display name'}. Unnamed roots are named "
        "'bucket' or 'bucket › prefix'; a repeated name gets ' (2)', ' (3)'...",
    )
    list_all_buckets = Bool(
        True,
        config=True,
        help="Also show every bucket ListBuckets returns. Fine to leave on without "
        "s3:ListAllMyBuckets: a denied ListBuckets just shows the pinned roots.",
    )
    page_size = Integer(
        1000,
        config=True,
        help="How many entries one S3 listing page shows before the browser offers 'load more'.",
    )
    refresh_interval = Integer(
        300,
        config=True,
        help="Seconds between automatic refreshes of the open S3 folder, 0-300 (JupyterLab's "
        "file browser allows at most 300; 0 = only on user action). Each refresh is one LIST "
        "request. Users can override it in Settings.",
    )
    embedded = Bool(
        False,
        config=True,
        help="Start a local S3-compatible server (moto) with a seeded demo bucket, for demos, "
        "Binder and tests. Needs the 'embedded' extra.",
    )
    credentials_mode = Enum(
        ["ambient", "web-identity", "broker"],
        default_value="ambient",
        config=True,
        help="Where AWS keys come from. 'ambient': botocore's default chain on the server. "
        "'web-identity': the Hub user's OIDC id_token (auth_state) exchanged with STS "
        "AssumeRoleWithWebIdentity. 'broker': the Small Fry broker service on the Hub "
        "assumes a role for the user (recommended for production).",
    )
    role_arn = Unicode(
        "",
        config=True,
        help="IAM role to assume in 'web-identity' mode when role_map gives none.",
    )
    role_map = Dict(
        default_value={},
        config=True,
        help="Group name (from the id_token's groups claim) -> IAM role ARN. A user in "
        "several mapped groups may switch between those roles.",
    )
    session_duration = Integer(
        3600,
        config=True,
        help="Requested lifetime of assumed-role sessions, in seconds (900-43200, and at "
        "most the role's MaxSessionDuration).",
    )
    broker_url = Unicode(
        "",
        config=True,
        help="URL of the Small Fry broker service ('broker' mode). Empty: the Hub service "
        "URL from JUPYTERHUB_SERVICE_URL conventions (/services/smallfry-broker/).",
    )
    jobs_uri = Unicode(
        "",
        config=True,
        help="Where job specs are written: 's3://bucket/prefix/' (synced to Airflow) or a "
        "local folder. Empty: ~/.local/share/smallfry/jobs (the embedded demo uses that).",
    )
    runs_uri = Unicode(
        "",
        config=True,
        help="Where runs write output.ipynb and run.json: 's3://bucket/prefix/' or a local "
        "folder, laid out as runs/<owner>/<job>/<run_id>/. Empty: beside jobs_uri.",
    )
    airflow_api_url = Unicode(
        "",
        config=True,
        help="Airflow REST API base URL. When set, 'Run now' triggers the DAG there instead "
        "of running papermill on the Jupyter server.",
    )
    sts_actions = List(
        Unicode(),
        default_value=["GetCallerIdentity"],
        config=True,
        help="STS actions the browser may call through the gateway. The credentials widget "
        "needs only GetCallerIdentity; actions that return keys (GetSessionToken, AssumeRole, "
        "GetFederationToken) must never reach browser JavaScript. Others get a 403.",
    )
    glue_actions = List(
        Unicode(),
        default_value=[
            "GetDatabases",
            "GetDatabase",
            "GetTables",
            "GetTable",
            "GetPartitions",
            "CreateDatabase",
            "CreateTable",
            "BatchCreatePartition",
        ],
        config=True,
        help="Glue actions the browser may call through the gateway. The Catalog panel reads "
        "with GetDatabases, GetDatabase, GetTables, GetTable and GetPartitions; 'Register as "
        "table' adds with CreateTable, BatchCreatePartition and CreateDatabase (a team's first "
        "database). Nothing that changes or deletes what exists; the user's IAM policy still "
        "decides. Remove the Create* actions for a read-only catalog. Others get a 403.",
    )
    jobs_service_url = Unicode(
        "",
        config=True,
        help="URL of the Small Fry Hub service that writes job specs and snapshots and talks to "
        "Airflow (team deployments, e.g. http://127.0.0.1:8765/services/smallfry/). When set, "
        "this server sends the user's jobs there with its Hub token and never writes the jobs, "
        "snapshots or runs locations itself, nor holds Airflow credentials.",
    )
    connections = Dict(
        default_value={},
        config=True,
        help="Named database connections for sf.connect() in kernels: name -> {'url': a "
        "SQLAlchemy URL without a password, 'password_secret': the ARN of a Secrets Manager "
        "secret holding the password (a string, or JSON with 'password' and optionally "
        "'username')}. Kernels get the definitions, never a secret, in $SMALLFRY_CONNECTIONS; "
        "each user fetches the password with their own keys.",
    )
    max_upload_bytes = Integer(
        5 * 1024**4,
        config=True,
        help="Largest request body the gateway streams upstream (bytes). Default 5 TiB, the S3 "
        "object limit; the gateway never buffers bodies, so this is not a memory setting.",
    )

    @validate("connections")
    def _valid_connections(self, proposal):
        found = {}
        for name, spec in proposal["value"].items():
            if not _CONNECTION_NAME_RE.fullmatch(str(name)):
                raise ValueError(f"SmallFry.connections: {name!r} is not a plain name")
            if not isinstance(spec, dict) or not isinstance(spec.get("url"), str):
                raise TypeError(f"SmallFry.connections[{name!r}] needs a 'url'")
            # Kernels and the browser may see the definitions: a password must not be there.
            if urlsplit(spec["url"]).password:
                raise ValueError(
                    f"SmallFry.connections[{name!r}]: no password in the URL; put it in Secrets "
                    "Manager and name the secret in 'password_secret'"
                )
            found[str(name)] = dict(spec)
        return found

    @validate("page_size")
    def _valid_page_size(self, proposal):
        value = proposal["value"]
        if not 1 <= value <= 1000:
            raise ValueError("SmallFry.page_size must be between 1 and 1000 (the S3 maximum)")
        return value

    @validate("refresh_interval")
    def _valid_refresh(self, proposal):
        value = proposal["value"]
        if not 0 <= value <= 300:
            raise ValueError("SmallFry.refresh_interval must be between 0 and 300 seconds")
        return value

    @validate("roots")
    def _valid_roots(self, proposal):
        # The final, unique names: the browser shows them as they are.
        return name_roots(proposal["value"])
