"""Jupyter server configuration for the Galata UI tests.

Galata's settings (port 8888, no token, XSRF check off, a throw-away root folder, the
in-page test helper extension) plus Small Fry's embedded demo: a local moto S3 server
seeded with the `smallfry-demo` bucket, so the tests need no cloud account.

- The port is `SMALLFRY_UI_PORT` when set (playwright.config.js sets it; default 8888).
- The extension is this tree's build (`server-ext/jupyterlab_smallfry/labextension`, from
  `npm run build`) when there is one: JupyterLab reads `extra_labextensions_path` first, so
  a copy installed earlier in the environment cannot shadow the code under test.
- Job notifications of the jobs history spec go to the local receiver playwright.config.js
  starts (`SMALLFRY_UI_NOTIFY_HTTP_PORT`, default 8885), through the Airflow connection
  `smallfry_notify_galata`, defined here as an `AIRFLOW_CONN_*` variable that the server's
  runs inherit: the webhook's URL is in no job spec and never reaches the browser.

Never use this configuration outside tests: it turns off the server's protections.
"""

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # noqa: F821 - provided by the config loader


def _as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value or [])


configure_jupyter_server(c)

c.ServerApp.ip = "127.0.0.1"
# CI containers run as root.
c.ServerApp.allow_root = True
# The package installs a config file that enables the server extension; say it here too so
# the tests also run against a source tree put on PYTHONPATH.
c.ServerApp.jpserver_extensions = {"jupyterlab_smallfry": True}
c.SmallFry.embedded = True
# Keep the test log readable: server errors and tracebacks still show.
c.ServerApp.log_level = "ERROR"

port = os.environ.get("SMALLFRY_UI_PORT")
if port:
    c.ServerApp.port = int(port)

tree_build = Path(__file__).resolve().parent.parent / "server-ext/jupyterlab_smallfry/labextension"
if (tree_build / "package.json").is_file():
    # JupyterLab serves an extension from a folder named like its package: link one.
    linked = Path(tempfile.mkdtemp(prefix="smallfry-ui-labextensions-"))
    (linked / "jupyterlab-smallfry").symlink_to(tree_build, target_is_directory=True)
    atexit.register(shutil.rmtree, linked, ignore_errors=True)
    c.LabServerApp.extra_labextensions_path = [
        *_as_list(c.LabServerApp.extra_labextensions_path),  # Galata's in-page helpers
        str(linked),
    ]

notify_port = os.environ.get("SMALLFRY_UI_NOTIFY_HTTP_PORT", "8885")
os.environ["AIRFLOW_CONN_SMALLFRY_NOTIFY_GALATA"] = json.dumps(
    {"conn_type": "http", "host": f"http://127.0.0.1:{notify_port}/hooks/galata"}
)
