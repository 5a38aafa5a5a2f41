"""Runs inside a scheduled notebook's kernel: records the S3 objects the notebook reads and
writes through botocore (boto3, s3transfer, s3fs/aiobotocore, anything built on botocore).

The runner sends this file's source to the kernel before the first cell, silently (see
:mod:`.engine`), so it needs nothing but the standard library and whatever botocore the
kernel has; it never imports Small Fry, which a kernel's Python may not have.

How: every botocore event emitter made from now on (each session's, and so each client's
copy of it, aiobotocore's subclass included) gets two handlers:

- ``before-parameter-build.s3``: keeps the request's bucket, key, copy source, upload id and
  body size in the call's ``context`` (the dict botocore hands to every event of one call);
- ``after-call.s3``: on a successful reply, appends one JSON line to the file named by
  ``$SMALLFRY_LINEAGE_FILE``: GetObject/SelectObjectContent are reads; PutObject,
  CompleteMultipartUpload are writes; CopyObject/UploadPartCopy read their source and (copy)
  write their destination. ETag and version id come from S3's reply.

Lines: ``{"op": "read"|"write", "bucket", "key", "etag", "version_id", "bytes"}``. The runner
treats them as the untrusted data they are (the notebook could write anything there).
A handler never raises: lineage must not break the user's S3 call.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from urllib.parse import unquote

#: The environment variable naming the file lineage lines go to (set by the runner).
ENV = "SMALLFRY_LINEAGE_FILE"
#: The kernel stops recording after this many lines (the runner keeps 1,000 objects anyway).
MAX_LINES = 20000

_READS = {"GetObject", "SelectObjectContent"}
_WRITES = {"PutObject", "CompleteMultipartUpload"}
_COPIES = {"CopyObject", "UploadPartCopy"}
_WATCHED = _READS | _WRITES | _COPIES | {"UploadPart"}
_CONTEXT_KEY = "smallfry_lineage"

_lock = threading.Lock()
_state = {"lines": 0}
#: Bytes uploaded so far per multipart upload id (summed into the completed object).
_parts: dict[str, int] = {}


def record(op: str, bucket, key, etag=None, version_id=None, size=None) -> None:
    """Append one line to the lineage file (nothing if ``$SMALLFRY_LINEAGE_FILE`` is unset)."""
    path = os.environ.get(ENV)
    if not path or not bucket or not key:
        return
    line = {
        "op": op,
        "bucket": str(bucket),
        "key": str(key),
        "etag": str(etag).strip('"') if etag else None,
        "version_id": str(version_id) if version_id else None,
        "bytes": size if isinstance(size, int) and size >= 0 else None,
    }
    data = (json.dumps(line, separators=(",", ":")) + "\n").encode("utf-8")
    with _lock:
        if _state["lines"] >= MAX_LINES:
            return
        _state["lines"] += 1
        # O_APPEND: lines from other writers (smallfry's own reads) never overlap ours.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def _size(body) -> int | None:
    """The size of a request body without reading it (bytes, str, sized or seekable)."""
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray)):
        return len(body)
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    try:
        return len(body)
    except TypeError:
        pass
    try:
        here = body.tell()
        end = body.seek(0, 2)
        body.seek(here)
        return end - here
    except Exception:  # noqa: BLE001 - an unsized stream: bytes unknown
        return None


def _copy_source(source) -> tuple:
    """``CopySource`` as ``(bucket, key, version_id)``: a dict, or ``bucket/key?versionId=``."""
    if isinstance(source, dict):
        return source.get("Bucket"), source.get("Key"), source.get("VersionId")
    if not isinstance(source, str):
        return None, None, None
    text, _, query = source.lstrip("/").partition("?versionId=")
    bucket, _, key = text.partition("/")
    return unquote(bucket), unquote(key), unquote(query) or None


def _remember(params=None, model=None, context=None, **_):
    try:
        name = getattr(model, "name", "")
        if name not in _WATCHED or not isinstance(context, dict) or not isinstance(params, dict):
            return
        context[_CONTEXT_KEY] = {
            "bucket": params.get("Bucket"),
            "key": params.get("Key"),
            "copy_source": params.get("CopySource"),
            "upload_id": params.get("UploadId"),
            "bytes": params.get("ContentLength")
            if isinstance(params.get("ContentLength"), int)
            else _size(params.get("Body")),
        }
    except Exception:  # noqa: BLE001, S110 - never break the user's call, nor tell it
        pass


def _record_reply(http_response=None, parsed=None, model=None, context=None, **_):
    try:
        name = getattr(model, "name", "")
        seen = context.get(_CONTEXT_KEY) if isinstance(context, dict) else None
        status = getattr(http_response, "status_code", 0)
        if name not in _WATCHED or not seen or not 200 <= status < 300:
            return
        parsed = parsed if isinstance(parsed, dict) else {}
        bucket, key = seen["bucket"], seen["key"]
        if name in _READS:
            record(
                "read", bucket, key, parsed.get("ETag"), parsed.get("VersionId"),
                parsed.get("ContentLength"),
            )  # fmt: skip
        elif name == "PutObject":
            record("write", bucket, key, parsed.get("ETag"), parsed.get("VersionId"), seen["bytes"])
        elif name == "UploadPart":
            upload = seen["upload_id"]
            if isinstance(upload, str) and isinstance(seen["bytes"], int):
                with _lock:
                    if upload in _parts or len(_parts) < 1000:
                        _parts[upload] = _parts.get(upload, 0) + seen["bytes"]
        elif name == "CompleteMultipartUpload":
            with _lock:
                size = _parts.pop(seen["upload_id"], None)
            record("write", bucket, key, parsed.get("ETag"), parsed.get("VersionId"), size)
        elif name in _COPIES:
            src_bucket, src_key, src_version = _copy_source(seen["copy_source"])
            record(
                "read", src_bucket, src_key, None, parsed.get("CopySourceVersionId") or src_version
            )
            if name == "CopyObject":
                result = parsed.get("CopyObjectResult") or {}
                record("write", bucket, key, result.get("ETag"), parsed.get("VersionId"))
    except Exception:  # noqa: BLE001, S110 - never break the user's call, nor tell it
        pass


def _register(emitter) -> None:
    # unique ids: an emitter copied from one that has them (each client's) keeps one set.
    emitter.register("before-parameter-build.s3", _remember, unique_id="smallfry-lineage-params")
    emitter.register("after-call.s3", _record_reply, unique_id="smallfry-lineage-reply")


def install() -> bool:
    """Hook every botocore event emitter made from now on; True if botocore is there.

    Idempotent. Emitters of sessions made before (a kernel startup file's) are hooked too
    where they can be found: boto3's default session.
    """
    if not os.environ.get(ENV):
        return False
    try:
        from botocore import hooks
    except ImportError:
        return False
    cls = hooks.HierarchicalEmitter
    if not getattr(cls, "_smallfry_lineage", False):
        original = cls.__init__

        def __init__(self, *args, **kwargs):
            original(self, *args, **kwargs)
            with contextlib.suppress(Exception):
                _register(self)

        cls.__init__ = __init__
        cls._smallfry_lineage = True
    import sys

    boto3 = sys.modules.get("boto3")
    default = getattr(boto3, "DEFAULT_SESSION", None) if boto3 else None
    if default is not None:
        _register(default._session.get_component("event_emitter"))
    return True
