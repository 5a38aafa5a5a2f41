"""Jupyter server configuration for the Galata UI tests.

Galata's settings (port 8888, no token, XSRF check off, a throw-away root folder, the
in-page test helper extension) plus Small Fry's embedded demo: a local moto S3 server
seeded with the `smallfry-demo` bucket, so the tests need no cloud account.

Never use this configuration outside tests: it turns off the server's protections.
"""

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # noqa: F821 - provided by the config loader

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
