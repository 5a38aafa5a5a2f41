"""Job specs signed by the Small Fry service, so Airflow runs only what the service wrote.

In a team deployment the Hub service is the only writer of job specs: it stamps the owner
from the Hub, checks ``run_as`` against the owner's groups, and signs the result. Airflow's
DAG factory and the runner hold the same key and trust a spec only if its signature checks
out, so a user who can drop a file into ``<jobs>/bob/`` still cannot run code as bob, and a
spec cannot be moved to another owner or given another role without the service.

The signature is HMAC-SHA256 over a canonical form of the spec without its ``signature``
member (sorted keys, no spaces, ASCII only, no NaN): two readers of the same parsed spec get
the same bytes however the file was formatted. Specs are parsed with
:func:`~jupyterlab_smallfry.jobs.validation.parse_spec`, which refuses duplicate keys and
non-standard numbers, so every reader parses the signed bytes to the same document.

The key comes from ``SMALLFRY_SPEC_KEY_FILE`` (preferred; a file no "other" user can read) or
``SMALLFRY_SPEC_KEY``; with neither, there is nothing to check against (single-user installs).
No Jupyter or Airflow imports: the Hub service, the factory and the runner all use this.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import re
import stat
from collections.abc import Mapping

from .validation import SpecError

ALG = "hmac-sha256"
#: Environment variable naming a file that holds the key (only its owner and group may read it).
KEY_FILE_ENV = "SMALLFRY_SPEC_KEY_FILE"
#: Environment variable holding the key itself (when a file is not practical).
KEY_ENV = "SMALLFRY_SPEC_KEY"
#: Shortest key accepted, in bytes (``openssl rand -hex 32`` makes 64).
MIN_KEY_BYTES = 32
_MAX_KEY_FILE_BYTES = 4096
_HEX_MAC = re.compile(r"^[0-9a-f]{64}$")

UNSIGNED = "unsigned: this spec was not written by the Small Fry service"
TAMPERED = "tampered: the spec changed after the Small Fry service signed it"


class SigningKeyError(RuntimeError):
    """The configured signing key cannot be used; the message says what to fix (never the key)."""


def load_key(environ: Mapping[str, str] = os.environ) -> bytes | None:
    """The spec-signing key, or None when none is configured.

    ``SMALLFRY_SPEC_KEY_FILE`` names a file whose content (surrounding whitespace removed) is
    the key; it is refused if "other" users may read or write it. Else ``SMALLFRY_SPEC_KEY``
    holds the key. A key shorter than :data:`MIN_KEY_BYTES`, an empty setting or both settings
    at once raise :class:`SigningKeyError`: a half-configured key must not quietly turn the
    checks off.
    """
    path = environ.get(KEY_FILE_ENV)
    inline = environ.get(KEY_ENV)
    if path is not None and inline is not None:
        raise SigningKeyError(f"set only one of {KEY_FILE_ENV} and {KEY_ENV}, not both")
    if path is not None:
        key = _read_key_file(path)
        source = f"the key file {path}"
    elif inline is not None:
        key = inline.strip().encode("utf-8")
        source = KEY_ENV
    else:
        return None
    if len(key) < MIN_KEY_BYTES:
        raise SigningKeyError(
            f"{source} holds {len(key)} bytes; a spec-signing key needs at least "
            f"{MIN_KEY_BYTES} (make one with: openssl rand -hex 32)"
        )
    return key


def _read_key_file(path: str) -> bytes:
    if not path:
        raise SigningKeyError(f"{KEY_FILE_ENV} is set but empty")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise SigningKeyError(
            f"cannot open the key file {path} ({KEY_FILE_ENV}): {err.strerror}"
        ) from None
    try:
        info = os.fstat(fd)  # of the file opened, so a swap after the check is moot
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise SigningKeyError(f"the key file {path} ({KEY_FILE_ENV}) is not a regular file")
    with os.fdopen(fd, "rb") as fh:
        if info.st_mode & (stat.S_IROTH | stat.S_IWOTH):
            raise SigningKeyError(
                f"the key file {path} ({KEY_FILE_ENV}) can be read or written by other users "
                f"(mode {stat.S_IMODE(info.st_mode):o}); make it private: chmod 600 {path}"
            )
        data = fh.read(_MAX_KEY_FILE_BYTES + 1)
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise SigningKeyError(f"the key file {path} is larger than {_MAX_KEY_FILE_BYTES} bytes")
    return data.strip()


def canonical_bytes(spec: Mapping) -> bytes:
    """What is signed: the spec without ``signature``, as canonical ASCII JSON."""
    body = {k: v for k, v in spec.items() if k != "signature"}
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def _mac(spec: Mapping, key: bytes) -> str:
    return hmac.new(key, canonical_bytes(spec), hashlib.sha256).hexdigest()


def sign_spec(spec: dict, key: bytes, key_id: str = "") -> dict:
    """A copy of ``spec`` with ``"signature": {"alg", "value", "key_id"}`` (any old one replaced).

    ``key_id`` names the key for rotation; it is informational and not covered by the MAC.
    """
    if not key:
        raise SigningKeyError("cannot sign with an empty key")
    signed = copy.deepcopy({k: v for k, v in spec.items() if k != "signature"})
    signed["signature"] = {"alg": ALG, "value": _mac(signed, key), "key_id": key_id}
    return signed


def verify_spec(spec: dict, key: bytes) -> None:
    """Return if the Small Fry service signed exactly this spec with ``key``; else raise
    :class:`SpecError` on field ``signature`` saying why (unsigned, tampered, ...)."""
    if not key:
        raise SigningKeyError("cannot verify with an empty key")
    if not isinstance(spec, Mapping):
        raise SpecError("signature", "a job spec must be a JSON object to be checked")
    if "signature" not in spec:
        raise SpecError("signature", UNSIGNED)
    sig = spec["signature"]
    if not isinstance(sig, Mapping):
        raise SpecError("signature", "malformed: must be an object with alg and value")
    alg = sig.get("alg")
    if alg != ALG:
        shown = alg[:40] if isinstance(alg, str) else alg
        raise SpecError("signature", f"unsupported algorithm {shown!r}: only {ALG!r} is accepted")
    value = sig.get("value")
    if not isinstance(value, str) or not _HEX_MAC.match(value):
        raise SpecError("signature", "malformed: value must be 64 lower-case hex digits")
    try:
        expected = _mac(spec, key)
    except (TypeError, ValueError) as err:
        raise SpecError("signature", f"cannot be checked: {err}") from None
    if not hmac.compare_digest(expected.encode("ascii"), value.encode("ascii")):
        raise SpecError("signature", TAMPERED)
