"""The S3 browser's top level: how its folders (roots) are named, and drive paths → ``s3://``.

Drive paths look like ``S3:<root name>/<rest>``. Pinned roots (``c.SmallFry.roots``) are named
here, once, and the browser shows those names verbatim (``smallfry/config``). A bucket that
ListBuckets shows is named after the bucket, with the contract's collision suffix when a pinned
root holds that name (``contract.json``, ``roots``): that name depends only on the pinned names,
so the server maps any drive path back to its bucket without knowing what the browser listed.
The browser's ``RootMap`` (``src/s3/paths.ts``) follows the same contract; both run the cases
of ``contract_fixtures.json``.
"""

from __future__ import annotations

import re

from .contract import DRIVE_NAME, LISTED_BUCKET_RE, URI_SCHEME, free_name, split_suffix

#: What a pinned root's bucket may be called (S3's rules for new buckets).
BUCKET_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]$")
#: Joins the bucket and the prefix's folders in a pinned root's default name; a "/" would
#: make the name two path segments.
PREFIX_SEPARATOR = " \u203a "


def normalize_root(root) -> dict:
    """Turn one configured root into ``{"bucket", "prefix", "name"}``; raise ValueError if bad.

    The name is the configured one, else the bucket (and the prefix's folders, joined with
    " › "). Names are not yet unique: :func:`name_roots` does that for the whole list.
    """
    if isinstance(root, str):
        bucket, _, prefix = root.strip().strip("/").partition("/")
        root = {"bucket": bucket, "prefix": prefix}
    bucket = str(root.get("bucket", "")).strip()
    if not BUCKET_NAME_RE.match(bucket):
        raise ValueError(f"SmallFry.roots: {bucket!r} is not a valid bucket name")
    prefix = str(root.get("prefix") or "").lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    given = str(root.get("name") or "").strip()
    if "/" in given:
        raise ValueError(f"SmallFry.roots: display name {given!r} must not contain '/'")
    if given in (".", ".."):
        raise ValueError(f"SmallFry.roots: display name {given!r} is not a folder name")
    folders = [bucket, *prefix.rstrip("/").split("/")] if prefix else [bucket]
    return {"bucket": bucket, "prefix": prefix, "name": given or PREFIX_SEPARATOR.join(folders)}


def name_roots(roots) -> list[dict]:
    """Normalize every configured root and make the names unique, in configuration order:
    a repeated name gets the contract's collision suffix (``Data``, ``Data (2)``)."""
    named: list[dict] = []
    taken: set[str] = set()
    for root in roots:
        root = normalize_root(root)
        root["name"] = free_name(root["name"], taken)
        taken.add(root["name"])
        named.append(root)
    return named


def listed_root_name(bucket: str, roots: list[dict]) -> str | None:
    """The name the browser gives ``bucket`` when ListBuckets shows it, given the named
    pinned roots; None when a pinned root already shows the whole bucket."""
    if any(r["bucket"] == bucket and not r["prefix"] for r in roots):
        return None
    return free_name(bucket, {r["name"] for r in roots})


def listed_bucket(name: str, roots: list[dict]) -> str | None:
    """The bucket a listed root named ``name`` shows, or None if no listed root has that name.

    No bucket name holds a space or parentheses, so "logs (2)" can only be bucket "logs" with
    a suffix; it is that bucket only if the browser would name it so.
    """
    for bucket in (name, split_suffix(name)):
        if (
            bucket
            and LISTED_BUCKET_RE.fullmatch(bucket)
            and listed_root_name(bucket, roots) == name
        ):
            return bucket
    return None


def s3_uri_of(path: str | None, roots: list[dict], list_all_buckets: bool) -> str | None:
    """The ``s3://`` URI of the object at an S3 drive path (``S3:<root>/<rest>``).

    None for anything else: another drive, the drive's top level, a root itself (a folder,
    not an object), or a root the browser cannot show.
    """
    if not path or not path.startswith(DRIVE_NAME + ":"):
        return None
    name, _, rest = path[len(DRIVE_NAME) + 1 :].strip("/").partition("/")
    if not rest:
        return None
    for root in roots:
        if root["name"] == name:
            return f"{URI_SCHEME}{root['bucket']}/{root['prefix']}{rest}"
    bucket = listed_bucket(name, roots) if list_all_buckets else None
    return f"{URI_SCHEME}{bucket}/{rest}" if bucket else None
