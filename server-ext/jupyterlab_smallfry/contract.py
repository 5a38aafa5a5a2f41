"""What the server and the front end agree on, read from ``contract.json`` beside this module.

The front end bundles the same file (``src/contract.ts``), so a constant both sides need is
written once, there. The job spec itself lives in ``jobs/jobspec.schema.json``. The cases both
test suites run against their own code are in ``contract_fixtures.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

CONTRACT: dict = json.loads((Path(__file__).with_name("contract.json")).read_text("utf-8"))

#: The S3 browser's drive name: paths look like ``S3:<root>/<key>``.
DRIVE_NAME: str = CONTRACT["drive"]["name"]
#: What an S3 location's URI starts with (``s3://``).
URI_SCHEME: str = CONTRACT["drive"]["uri_scheme"]
#: Cron presets a spec may use, as the 5-field cron each stands for.
CRON_PRESETS: dict[str, str] = dict(CONTRACT["cron_presets"])
#: Every credential state, in the order the widget documents them.
CREDENTIAL_STATES: tuple[str, ...] = tuple(CONTRACT["credential_states"])

_ROOTS = CONTRACT["roots"]
#: A name no bucket can have: what a listed bucket may be called, before any suffix.
LISTED_BUCKET_RE = re.compile(_ROOTS["listed_bucket_pattern"])
_SUFFIX_BEFORE, _, _SUFFIX_AFTER = _ROOTS["collision_suffix"].partition("{n}")
_FIRST: int = _ROOTS["collision_first"]
# "<base> (<n>)" read back: the base and the number, n >= the first suffix number.
_SUFFIXED_RE = re.compile(
    "^(?P<base>.*)"
    + re.escape(_SUFFIX_BEFORE)
    + r"(?P<n>[1-9][0-9]*)"
    + re.escape(_SUFFIX_AFTER)
    + "$",
    re.DOTALL,
)


def free_name(base: str, taken) -> str:
    """``base``, or ``base`` with the first collision suffix that ``taken`` does not hold."""
    name, n = base, _FIRST
    while name in taken:
        name = f"{base}{_SUFFIX_BEFORE}{n}{_SUFFIX_AFTER}"
        n += 1
    return name


def split_suffix(name: str) -> str | None:
    """The base of a name that ends with a collision suffix, else None."""
    match = _SUFFIXED_RE.fullmatch(name)  # fullmatch: Python's "$" also matches before "\n"
    if match is None or int(match["n"]) < _FIRST:
        return None
    return match["base"]


def server_path(name: str, *more: str) -> str:
    """A route of the server extension relative to the base URL, e.g. ``smallfry/config``;
    ``more`` adds segments (``server_path("gateway", "s3")`` is ``smallfry/aws/s3``)."""
    paths = CONTRACT["server_paths"]
    if name.startswith("$") or name == "namespace":
        raise KeyError(name)
    return "/".join([paths["namespace"], paths[name], *more])
