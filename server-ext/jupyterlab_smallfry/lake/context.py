"""Where the kernel runs: its notebook's S3 folder (``here``) and a scheduled run's parameters.

The server starts a notebook's kernel with ``$SMALLFRY_NOTEBOOK_URI`` (see
``jupyterlab_smallfry.notebook_uri``); a scheduled run's kernel gets the job's parameters as
JSON in ``$SMALLFRY_PARAMETERS`` (the same values papermill injects into the notebook).
"""

from __future__ import annotations

import json
import os

from .. import kernel_env
from .errors import LakeError, NotOnS3

NOTEBOOK_ENV = kernel_env.NOTEBOOK_URI
PARAMETERS_ENV = kernel_env.PARAMETERS


def here(environ=os.environ) -> str:
    """The ``s3://bucket/folder/`` of the running notebook, for data kept beside it.

    ``sf.read(sf.here() + "sales.csv")``. Raises :class:`NotOnS3` when the notebook is not
    stored on S3 (a local notebook, a console) or the kernel started before it moved there.
    """
    uri = environ.get(NOTEBOOK_ENV, "")
    if not uri.startswith("s3://"):
        raise NotOnS3(
            "This notebook is not stored on S3, so it has no s3:// folder: open it from the "
            "S3 browser (kernels learn their notebook's location when they start; after a "
            "move or rename, restart the kernel)."
        )
    return uri.rpartition("/")[0] + "/"


def params(environ=os.environ) -> dict:
    """The parameters of the scheduled run this kernel executes; ``{}`` interactively."""
    raw = environ.get(PARAMETERS_ENV, "")
    if not raw:
        return {}
    try:
        found = json.loads(raw)
    except json.JSONDecodeError as err:
        raise LakeError(f"${PARAMETERS_ENV} is not valid JSON: {err}") from None
    if not isinstance(found, dict):
        raise LakeError(f"${PARAMETERS_ENV} must be a JSON object")
    return found
