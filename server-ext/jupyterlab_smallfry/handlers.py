"""REST routes of the server extension."""

from __future__ import annotations

import json

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .contract import server_path
from .credentials.handlers import credential_routes
from .gateway.handler import GatewayHandler
from .jobs.handlers import job_routes
from .preview.handlers import PreviewHandler


class ConfigHandler(APIHandler):
    """``GET /smallfry/config``: the settings the front end needs (nothing secret)."""

    @tornado.web.authenticated
    def get(self):
        self.finish(json.dumps(self.settings["smallfry"].public_config()))


def setup_handlers(web_app) -> None:
    """Register the routes. Call after the kernel profile is installed (or not): the kernel
    helper's endpoint exists only with that profile's secret."""
    base = web_app.settings["base_url"]
    profile = web_app.settings["smallfry"].credentials.profile
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, server_path("config")), ConfigHandler),
            (url_path_join(base, server_path("gateway", "([a-z0-9-]+)(?:/.*)?")), GatewayHandler),
            (url_path_join(base, server_path("preview")), PreviewHandler),
            *job_routes(base),
            *credential_routes(base, profile.secret if profile is not None else None),
        ],
    )
