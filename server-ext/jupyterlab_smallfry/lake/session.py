"""AWS access for the kernel library: the kernel's own AWS configuration, resolved by botocore.

A kernel of a Small Fry server has the managed profile ``smallfry`` (``AWS_PROFILE`` and
``AWS_CONFIG_FILE``), whose ``credential_process`` asks the server for the user's current keys;
the embedded demo sets ``AWS_ENDPOINT_URL`` instead. Everything here goes through one botocore
session built from that environment, so ``smallfry`` reads with exactly the keys, region and
endpoints that ``boto3`` in the same kernel uses, and never with keys of its own.

pyarrow's S3 filesystem cannot call a ``credential_process``: it gets the session's current
(frozen) keys each time one is built. Every public call builds a fresh one, so a call uses
keys botocore has just refreshed when needed; only a single call longer than the keys' last
minutes could outlive them.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import AccessDenied, LakeError

#: Error codes by which AWS services say "not allowed".
DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"}


class AwsAccess:
    """One botocore session (the kernel's configuration) and what is derived from it."""

    def __init__(self, session: botocore.session.Session | None = None):
        self.session = session or botocore.session.Session()
        self._clients: dict[str, object] = {}
        self._endpoints: dict[str, str] = {}
        self._principal = ""
        self._lock = threading.Lock()

    @property
    def region(self) -> str:
        return self.session.get_config_variable("region") or "us-east-1"

    def client(self, service: str):
        """A botocore client for ``service``, made once per kernel (clients are thread-safe)."""
        with self._lock:
            if service not in self._clients:
                config = Config(retries={"mode": "standard"})
                if service == "s3" and self.endpoint("s3"):
                    config = config.merge(Config(s3={"addressing_style": "path"}))
                self._clients[service] = self.session.create_client(
                    service, region_name=self.region, config=config
                )
            return self._clients[service]

    def endpoint(self, service: str) -> str:
        """The custom endpoint configured for ``service`` (``AWS_ENDPOINT_URL_<SERVICE>``,
        ``AWS_ENDPOINT_URL``, the profile's ``services`` section), or ``""`` for AWS's own.

        botocore decides: a client that ignores configured endpoints is compared with one that
        honours them, so the rules stay botocore's (and its precedence order with them).
        """
        if service not in self._endpoints:
            honoured = self.session.create_client(service, region_name=self.region)
            plain = self.session.create_client(
                service,
                region_name=self.region,
                config=Config(ignore_configured_endpoint_urls=True),
            )
            configured = honoured.meta.endpoint_url
            self._endpoints[service] = "" if configured == plain.meta.endpoint_url else configured
        return self._endpoints[service]

    def credentials(self):
        """The current keys (refreshed by botocore when they are about to expire)."""
        try:
            creds = self.session.get_credentials()
        except BotoCoreError as err:
            raise LakeError(
                f"This kernel could not get AWS keys: {err}. In JupyterLab, the credentials "
                "widget in the status bar says why; restart the kernel after fixing it."
            ) from None
        if creds is None:
            raise LakeError(
                "This kernel has no AWS credentials: no managed 'smallfry' profile and no keys "
                "in its environment. Start the kernel from a Small Fry server (or set "
                "AWS_PROFILE to a profile that has keys)."
            )
        return creds.get_frozen_credentials()

    def filesystem(self):
        """A pyarrow S3 filesystem with the current keys, region, endpoint and CA bundle."""
        from pyarrow import fs as pafs

        keys = self.credentials()
        options: dict = {
            "access_key": keys.access_key,
            "secret_key": keys.secret_key,
            "session_token": keys.token,
            "region": self.region,
        }
        endpoint = self.endpoint("s3")
        if endpoint:
            parts = urlsplit(endpoint)
            options["scheme"] = parts.scheme or "https"
            options["endpoint_override"] = parts.netloc + parts.path.rstrip("/")
        ca_bundle = self.session.get_config_variable("ca_bundle")
        if ca_bundle:
            options["tls_ca_file_path"] = ca_bundle
        fs = pafs.S3FileSystem(**options)
        from . import lineage

        # In a scheduled run that records lineage, note the objects read and written.
        return lineage.recording(fs, self) if lineage.enabled() else fs

    def principal(self) -> str:
        """Who the keys belong to (an ARN), for error messages; asked once, only when needed."""
        if not self._principal:
            try:
                self._principal = self.client("sts").get_caller_identity()["Arn"]
            except (BotoCoreError, ClientError, LakeError):
                return "your AWS identity"
        return self._principal

    def account(self) -> str:
        arn = self.principal()
        parts = arn.split(":")
        return parts[4] if len(parts) > 4 and parts[4].isdigit() else "*"

    def denied(self, action: str, resource: str, detail: str = "") -> AccessDenied:
        return AccessDenied(self.principal(), action, resource, detail)

    def check(self, err: ClientError, action: str, resource: str) -> None:
        """Raise :class:`AccessDenied` for an AWS "not allowed" answer; otherwise return."""
        error = err.response.get("Error", {})
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if error.get("Code") in DENIED_CODES or status == 403:
            raise self.denied(action, resource, error.get("Message", "")) from None


_current: AwsAccess | None = None
_current_lock = threading.Lock()


def aws() -> AwsAccess:
    """The kernel's :class:`AwsAccess`, made on first use."""
    global _current
    with _current_lock:
        if _current is None:
            _current = AwsAccess()
        return _current


def reset() -> None:
    """Forget the session (after changing ``AWS_PROFILE`` or the endpoint in this kernel)."""
    global _current
    with _current_lock:
        _current = None
