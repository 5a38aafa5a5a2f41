"""The logger of the server extension's modules.

A child of Jupyter's ``ServerApp`` logger, so messages appear in the server's log with its
format and level (a plain module logger would propagate to an unconfigured root and be lost).
"""

import logging

log = logging.getLogger("ServerApp").getChild("smallfry")
