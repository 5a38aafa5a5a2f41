"""Spec signatures: what the Small Fry service signs is exactly what Airflow will run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jupyterlab_smallfry.jobs.signing import (
    KEY_ENV,
    KEY_FILE_ENV,
    SigningKeyError,
    canonical_bytes,
    load_key,
    sign_spec,
    verify_spec,
)
from jupyterlab_smallfry.jobs.validation import SpecError, parse_spec, validate_spec

FIXTURES = Path(__file__).resolve().parents[1] / "jobs" / "fixtures"
KEY = b"k" * 32
FULL = json.loads((FIXTURES / "valid" / "full.json").read_text())


def test_a_signed_spec_verifies_and_still_validates():
    signed = sign_spec(FULL, KEY, key_id="2026-11")
    assert signed["signature"]["alg"] == "hmac-sha256"
    assert signed["signature"]["key_id"] == "2026-11"
    assert len(signed["signature"]["value"]) == 64
    assert "signature" not in FULL  # a copy; the caller's spec is untouched
    verify_spec(signed, KEY)
    assert validate_spec(signed) == []


def test_the_signature_survives_storage_formatting():
    """The store writes indented, non-ASCII JSON; the factory reads it back and checks it."""
    spec = {**FULL, "title": "Umsätze — täglich", "owner": "zoë"}
    signed = sign_spec(spec, KEY)
    stored = json.dumps(signed, indent=2, ensure_ascii=False).encode("utf-8")
    verify_spec(parse_spec(stored), KEY)


def test_unsigned_spec_is_refused_saying_who_must_write_it():
    with pytest.raises(SpecError) as err:
        verify_spec(dict(FULL), KEY)
    assert err.value.field == "signature"
    assert "unsigned: this spec was not written by the Small Fry service" in str(err.value)


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(owner="bob"),  # moved to another user
        lambda s: s["run_as"].update(role_arn="arn:aws:iam::123456789012:role/admin"),
        lambda s: s["parameters"].update(days=2),
        lambda s: s.update(extra=1),
        lambda s: s["parameters"].update(days=1.0),  # 1 and 1.0 are different specs
    ],
    ids=["owner", "run_as", "parameter", "added-field", "int-to-float"],
)
def test_any_change_after_signing_is_tampering(change):
    signed = json.loads(json.dumps(sign_spec(FULL, KEY)))
    change(signed)
    with pytest.raises(SpecError, match="tampered: the spec changed after the Small Fry service"):
        verify_spec(signed, KEY)


def test_another_key_is_tampering_too():
    with pytest.raises(SpecError, match="tampered"):
        verify_spec(sign_spec(FULL, b"x" * 32), KEY)


@pytest.mark.parametrize(
    "signature,words",
    [
        ({"alg": "none", "value": "0" * 64}, "unsupported algorithm 'none'"),
        ({"alg": "HMAC-SHA256", "value": "0" * 64}, "unsupported algorithm"),
        ({"value": "0" * 64}, "unsupported algorithm None"),
        ({"alg": "hmac-sha256", "value": "ZZ"}, "malformed"),
        ({"alg": "hmac-sha256", "value": "é" * 64}, "malformed"),
        ("0" * 64, "malformed"),
    ],
)
def test_malformed_signatures_are_refused_clearly(signature, words):
    spec = {**FULL, "signature": signature}
    with pytest.raises(SpecError, match=words):
        verify_spec(spec, KEY)


def test_canonical_form_ignores_layout_and_signature_but_not_content():
    a = {"b": [1, 2], "a": "ü", "signature": {"alg": "x"}}
    b = {"a": "ü", "b": [1, 2]}
    assert canonical_bytes(a) == canonical_bytes(b) == b'{"a":"\\u00fc","b":[1,2]}'
    with pytest.raises(ValueError):
        canonical_bytes({"x": float("nan")})


def test_schema_accepts_the_signature_but_nothing_else_new():
    signed = sign_spec(FULL, KEY)
    signed["signature"]["by"] = "me"
    assert [e.field for e in validate_spec(signed)] == ["signature"]
    assert validate_spec({**sign_spec(FULL, KEY), "signed": True})[0].field == ""


# --- the key -------------------------------------------------------------------------------


def test_no_key_configured_means_none():
    assert load_key({}) is None


def test_key_from_the_environment():
    assert load_key({KEY_ENV: "s" * 40 + "\n"}) == b"s" * 40


def test_key_from_a_private_file(tmp_path):
    path = tmp_path / "spec.key"
    path.write_bytes(b"f" * 64 + b"\n")
    os.chmod(path, 0o640)  # the airflow group may read it
    assert load_key({KEY_FILE_ENV: str(path)}) == b"f" * 64


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o602])
def test_a_key_file_others_can_read_or_write_is_refused(tmp_path, mode):
    path = tmp_path / "spec.key"
    path.write_bytes(b"f" * 64)
    os.chmod(path, mode)
    with pytest.raises(SigningKeyError, match="other users.*chmod 600") as err:
        load_key({KEY_FILE_ENV: str(path)})
    assert "f" * 10 not in str(err.value)  # never the key itself


@pytest.mark.parametrize(
    "environ,words",
    [
        ({KEY_ENV: "short"}, "at least 32"),
        ({KEY_ENV: ""}, "at least 32"),  # empty is a mistake, not "no key"
        ({KEY_FILE_ENV: ""}, "set but empty"),
        ({KEY_FILE_ENV: "/nonexistent/spec.key"}, "cannot open the key file"),
        ({KEY_FILE_ENV: "/tmp", KEY_ENV: "k" * 32}, "only one"),
    ],
)
def test_half_configured_keys_refuse_instead_of_turning_checks_off(environ, words):
    with pytest.raises(SigningKeyError, match=words):
        load_key(environ)


def test_a_directory_is_not_a_key_file(tmp_path):
    os.chmod(tmp_path, 0o700)
    with pytest.raises(SigningKeyError, match="not a regular file"):
        load_key({KEY_FILE_ENV: str(tmp_path)})


def test_the_signed_fixture_verifies_with_its_documented_key():
    signed = parse_spec((FIXTURES / "valid" / "signed.json").read_bytes())
    verify_spec(signed, b"fixture-key-not-secret-0123456789abcdef")
    assert signed["signature"]["key_id"] == "fixtures"
