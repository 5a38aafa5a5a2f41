"""What the server and the front end agree on, read from ``contract.json`` beside this module.

The front end bundles the same file (``src/contract.ts``), so a constant both sides need is
written once, there. The job spec itself lives in ``jobs/jobspec.schema.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

CONTRACT: dict = json.loads((Path(__file__).with_name("contract.json")).read_text("utf-8"))

#: The S3 browser's drive name: paths look like ``S3:<root>/<key>``.
DRIVE_NAME: str = CONTRACT["drive"]["name"]
#: Cron presets a spec may use, as the 5-field cron each stands for.
CRON_PRESETS: dict[str, str] = dict(CONTRACT["cron_presets"])
