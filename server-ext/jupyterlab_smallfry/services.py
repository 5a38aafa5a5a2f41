"""The shared services of one Jupyter server, built once at extension load."""

from __future__ import annotations

import os
import ssl

import aiohttp
import botocore.exceptions
import botocore.session

from .config import SmallFry
from .contract import server_path
from .credentials import CredentialCache
from .credentials.cache import Fetcher
from .credentials.service import CredentialService
from .gateway.endpoints import SERVICES, Endpoints


class Services:
    """What handlers reach through ``self.settings["smallfry"]``."""

    def __init__(self, config: SmallFry, fixed_keys: Fetcher | None = None):
        self.config = config
        self.region = config.region or _botocore_region() or "us-east-1"
        self.endpoints = Endpoints(
            config.endpoint_url,
            config.sts_endpoint_url,
            self.region,
            config.addressing_style,
            glue_url=config.glue_endpoint_url,
        )
        # ``fixed_keys`` given: the embedded demo's keys, shown as the 'ambient' mode.
        self.credentials = CredentialService.build(config, self.region, ambient=fixed_keys)
        #: The single-flight cache of this server's AWS keys: the gateway's and the jobs'.
        self.credential_cache: CredentialCache = self.credentials.cache
        self._http: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        """One pooled HTTP client for all upstream calls (keep-alive, reused TLS sessions)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64, ssl=self._ssl()),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300),
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            )
        return self._http

    def _ssl(self) -> ssl.SSLContext | bool:
        if not self.config.verify_tls:
            return False
        ca = self.config.ca_bundle or os.environ.get("AWS_CA_BUNDLE") or None
        return ssl.create_default_context(cafile=ca) if ca else True

    def public_config(self) -> dict:
        """What the front end needs; never anything secret."""
        from . import __version__

        return {
            "version": __version__,
            "roots": self.config.roots,
            "list_all_buckets": self.config.list_all_buckets,
            "page_size": self.config.page_size,
            "refresh_interval": self.config.refresh_interval,
            "region": self.region,
            "embedded": self.config.embedded,
            "gateway": {service: server_path("gateway", service) for service in SERVICES},
            # Names only, for the Catalog panel's shortcuts: never the URLs or secret ARNs.
            "connections": sorted(self.config.connections),
        }

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


def _botocore_region() -> str | None:
    try:
        return botocore.session.Session().get_config_variable("region")
    except botocore.exceptions.ProfileNotFound:  # AWS_PROFILE names a profile kernels know
        return None
