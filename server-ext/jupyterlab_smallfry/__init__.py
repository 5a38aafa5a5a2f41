"""Small Fry: S3 browsing, notebook scheduling and single sign-on to AWS for JupyterLab."""

from __future__ import annotations

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
    from .config import SmallFry
    from .credentials import CredentialBroker
    from .credentials.broker import static_fetcher
    from .handlers import setup_handlers
    from .services import Services

    config = SmallFry(parent=server_app)
    broker = None
    if config.embedded:
        from .embedded import EmbeddedS3
        from .embedded.server import DEMO_ACCESS_KEY, DEMO_BUCKET, DEMO_SECRET_KEY

        embedded = EmbeddedS3()
        embedded.seed()
        config.endpoint_url = config.sts_endpoint_url = embedded.url
        if not config.roots:
            config.roots = [{"bucket": DEMO_BUCKET, "name": "Demo bucket"}]
        broker = CredentialBroker(static_fetcher(DEMO_ACCESS_KEY, DEMO_SECRET_KEY, "embedded"))
        # Kernels and terminals of the demo reach the local S3 server with boto3, pandas or
        # the AWS CLI. These keys only open the local fake server; they are not AWS keys.
        os.environ.update(
            AWS_ENDPOINT_URL=embedded.url,
            AWS_ACCESS_KEY_ID=DEMO_ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=DEMO_SECRET_KEY,
            AWS_DEFAULT_REGION="us-east-1",
        )
        server_app.web_app.settings["smallfry_embedded"] = embedded
    services = Services(config, broker)
    server_app.web_app.settings["smallfry"] = services
    setup_handlers(server_app.web_app)
    server_app.log.info(
        "Small Fry %s: S3 endpoint %s, region %s%s",
        __version__,
        services.endpoints.s3_base.geturl(),
        services.region,
        " (embedded demo)" if config.embedded else "",
    )


# jupyter_server < 2 looks for this name
load_jupyter_server_extension = _load_jupyter_server_extension
