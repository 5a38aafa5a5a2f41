"""Small Fry: S3 browsing, notebook scheduling and single sign-on to AWS for JupyterLab."""

from __future__ import annotations

import json
import os

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0.dev0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyterlab-smallfry"}]


def _jupyter_server_extension_points():
    return [{"module": "jupyterlab_smallfry"}]


def _load_jupyter_server_extension(server_app):
    """Build the shared services once and register the routes."""
    from . import kernel_env, notebook_uri
    from .config import SmallFry
    from .credentials.cache import static_fetcher
    from .handlers import setup_handlers
    from .services import Services

    config = SmallFry(parent=server_app)
    fixed_keys = None
    if config.embedded:
        from .embedded import EmbeddedS3, catalog_seed
        from .embedded.server import DEMO_ACCESS_KEY, DEMO_BUCKET, DEMO_SECRET_KEY

        embedded = EmbeddedS3()
        embedded.seed()
        catalog_seed.seed_demo_catalog(embedded.url)  # the Catalog panel's demo database
        config.endpoint_url = config.sts_endpoint_url = embedded.url
        if not config.roots:
            config.roots = [{"bucket": DEMO_BUCKET, "name": "Demo bucket"}]
        fixed_keys = static_fetcher(DEMO_ACCESS_KEY, DEMO_SECRET_KEY, "embedded")
        # Kernels and terminals of the demo reach the local S3 server with boto3, pandas or
        # the AWS CLI. These keys only open the local fake server; they are not AWS keys.
        os.environ.update(
            AWS_ENDPOINT_URL=embedded.url,
            AWS_ACCESS_KEY_ID=DEMO_ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=DEMO_SECRET_KEY,
            AWS_DEFAULT_REGION="us-east-1",
        )
        server_app.web_app.settings["smallfry_embedded"] = embedded
    if config.connections:
        # Kernels and terminals inherit this; sf.connect() reads the definitions (no secret).
        os.environ[kernel_env.CONNECTIONS] = json.dumps(config.connections)
    services = Services(config, fixed_keys)
    server_app.web_app.settings["smallfry"] = services
    if config.credentials_mode != "ambient":
        _install_kernel_profile(server_app, services)
    notebook_uri.install(server_app.session_manager, config)
    # After the profile: its kernel secret decides whether the kernel helper's route exists.
    setup_handlers(server_app.web_app)
    server_app.log.info(
        "Small Fry %s: S3 endpoint %s, region %s%s",
        __version__,
        services.endpoints.s3_base.geturl(),
        services.region,
        " (embedded demo)" if config.embedded else "",
    )


def _install_kernel_profile(server_app, services) -> None:
    """Kernels and terminals get a managed AWS profile that asks this server for keys."""
    from .credentials.kernels import KernelProfile

    profile = KernelProfile(server_app.runtime_dir)
    url = os.environ.get("JUPYTERHUB_SERVICE_URL") or (
        f"{'https' if server_app.certfile else 'http'}://127.0.0.1:{server_app.port}"
        f"{server_app.base_url}"
    )
    endpoints = services.endpoints
    s3_endpoint = endpoints.s3_base.geturl() if endpoints.s3_custom else ""
    profile.install(url, services.region, s3_endpoint)
    services.credentials.profile = profile
    if services.credentials.static_env_keys:
        server_app.log.warning(
            "Small Fry: AWS_ACCESS_KEY_ID is set in the server environment; kernels will use "
            "those static keys instead of the per-user credentials of the managed profile."
        )


# jupyter_server < 2 looks for this name
load_jupyter_server_extension = _load_jupyter_server_extension
