"""The server keeps the contract the front end keeps: the same cases, run on both sides.

``contract_fixtures.json`` is also run by ``src/core/__tests__/contract.spec.ts`` against the
browser's ``RootMap``. Here: the server names the pinned roots as the browser will show them,
knows the name the browser gives each listed bucket, and maps every drive path the browser
makes back to the object's ``s3://`` URI (the kernel's ``SMALLFRY_NOTEBOOK_URI``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .. import contract
from ..config import SmallFry
from ..drive_roots import listed_root_name
from ..notebook_uri import s3_uri_of

FIXTURES = json.loads(
    (Path(contract.__file__).with_name("contract_fixtures.json")).read_text("utf-8")
)
CASES = FIXTURES["drive_roots"]


@pytest.mark.parametrize("case", CASES, ids=[c["title"] for c in CASES])
def test_pinned_roots_get_their_final_names_on_the_server(case):
    assert SmallFry(roots=case["roots"]).roots == case["pinned"]


@pytest.mark.parametrize("case", CASES, ids=[c["title"] for c in CASES])
def test_listed_buckets_get_the_names_the_browser_shows(case):
    pinned = SmallFry(roots=case["roots"]).roots
    listed = case["listed_buckets"] if case["list_all_buckets"] else []
    names = [r["name"] for r in pinned] + [
        name for name in (listed_root_name(b, pinned) for b in listed) if name is not None
    ]
    assert names == case["names"]


@pytest.mark.parametrize(
    "case, path",
    [(case, path) for case in CASES for path in case["uris"]],
    ids=[f"{c['title'][:40]}: {p}" for c in CASES for p in c["uris"]],
)
def test_drive_paths_map_to_the_uri_the_browser_shows(case, path):
    roots = SmallFry(roots=case["roots"]).roots
    assert s3_uri_of(path, roots, case["list_all_buckets"]) == case["uris"][path]


def test_the_fixtures_cover_the_odd_cases():
    """Guards the fixtures against losing the cases that once broke."""
    paths = [p for case in CASES for p in case["uris"]]
    assert "S3:logs (2)/a b/c.ipynb" in paths  # a listed bucket behind a pinned name
    assert any("%" in p and "ü" in p for p in paths)
    assert "S3:" in paths
    assert any(not p.startswith(contract.DRIVE_NAME + ":") for p in paths)


def test_the_contract_names_every_route_the_server_registers():
    assert contract.server_path("config") == "smallfry/config"
    assert contract.server_path("gateway", "s3") == "smallfry/aws/s3"
    for name in ("nope", "namespace", "$comment"):
        with pytest.raises(KeyError):
            contract.server_path(name)


@pytest.mark.parametrize(
    "taken, expected",
    [(set(), "logs"), ({"logs"}, "logs (2)"), ({"logs", "logs (2)"}, "logs (3)")],
)
def test_collision_suffix_is_the_contracts(taken, expected):
    assert contract.free_name("logs", taken) == expected
    if expected != "logs":
        assert contract.split_suffix(expected) == "logs"
