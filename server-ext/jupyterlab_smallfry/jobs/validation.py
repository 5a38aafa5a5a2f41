"""Check a job spec: the JSON Schema first, then what a schema cannot say.

Used by the server before a spec is written and by the Airflow factory before a DAG is built,
so both sides refuse the same specs with the same messages. Needs only ``jsonschema`` (an
Airflow dependency too); nothing here imports Jupyter.

Every reader of a stored spec parses it with :func:`parse_spec`: bounded in size and depth,
standard JSON only (no ``NaN``/``Infinity``, no number that overflows to infinity, no key
twice), so the bytes the Hub service signed mean the same thing to every reader.
"""

from __future__ import annotations

import calendar
import functools
import json
import math
import os
import re
import stat
import string
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from ..contract import CRON_PRESETS

API_VERSION = "smallfry/v1"
SCHEMA_PATH = Path(__file__).with_name("jobspec.schema.json")

#: The largest job spec, in bytes of its stored JSON, that any reader accepts.
MAX_SPEC_BYTES = 256 * 1024
#: The deepest nesting of arrays and objects a spec may have (parameters included).
MAX_SPEC_DEPTH = 32

#: Airflow's cron presets that we accept, as the 5-field cron they stand for (the contract's:
#: the form's preset choices are written with them).
PRESETS = CRON_PRESETS

#: Placeholders an output template may use; anything else in braces is refused.
OUTPUT_PLACEHOLDERS = ("owner", "job_id", "run_id")

_JOB_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
# (name, low, high, names)
_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


@dataclass(frozen=True)
class SpecError(ValueError):
    """One problem with a spec: ``field`` is a dotted path (``schedule.cron``) for the UI."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def parse_spec(data: bytes | str, *, max_bytes: int = MAX_SPEC_BYTES) -> object:
    """Parse a stored job spec strictly, or raise :class:`SpecError` (field ``""``).

    Refuses more than ``max_bytes`` (counted in UTF-8 bytes), anything that is not standard
    JSON (including the ``NaN``/``Infinity``/``-Infinity`` that :func:`json.loads` accepts by
    default and numbers too large for a float), a key given twice in one object (two readers
    could pick different ones) and nesting deeper than :data:`MAX_SPEC_DEPTH`. The result is
    not checked against the schema: that is :func:`validate_spec`.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise SpecError(
            "", f"the spec is larger than {max_bytes} bytes ({max_bytes // 1024} KiB), the limit"
        )
    try:
        doc = json.loads(
            raw,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except SpecError:
        raise
    except RecursionError:
        raise SpecError("", _too_deep()) from None
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError, over-long integers
        raise SpecError("", f"not valid JSON: {err}") from None
    if _depth(doc) > MAX_SPEC_DEPTH:
        raise SpecError("", _too_deep())
    return doc


def read_spec_file(path: str | os.PathLike, *, max_bytes: int = MAX_SPEC_BYTES) -> object:
    """:func:`parse_spec` of a local file, reading at most ``max_bytes + 1`` bytes of it.

    Refuses anything but a regular file without waiting on it (a FIFO named ``x.json`` must
    not hang Airflow's parser).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        os.close(fd)
        raise
    if not regular:
        os.close(fd)
        raise SpecError("", "not a regular file")
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(max_bytes + 1)
    return parse_spec(data, max_bytes=max_bytes)


def _refuse_constant(name: str):
    raise SpecError("", f"not valid JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise SpecError("", f"not valid JSON: the number {text[:40]} is too large")
    return value


def _unique_keys(pairs: list) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise SpecError(
                "", f"not valid JSON: the key {key[:100]!r} appears twice in one object"
            )
        out[key] = value
    return out


def _depth(doc) -> int:
    """Nesting depth of arrays/objects, without recursion."""
    deepest, todo = 0, [(doc, 1)]
    while todo:
        node, level = todo.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_SPEC_DEPTH:
            break
        todo.extend((child, level + 1) for child in children)
    return deepest


def _too_deep() -> str:
    return f"the spec nests arrays and objects deeper than {MAX_SPEC_DEPTH} levels, the limit"


@functools.lru_cache(maxsize=1)
def load_schema() -> dict:
    """The job spec JSON Schema shipped beside this module."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator():
    import jsonschema

    cls = jsonschema.validators.validator_for(load_schema())
    return cls(load_schema())


def validate_spec(spec, *, every_field: bool = False) -> list[SpecError]:
    """Every problem found in ``spec`` (empty list: valid). Schema problems come first.

    By default the rules beyond the schema run only on a schema-valid spec (what a writer
    needs: valid or not). ``every_field``: also run them on the fields the schema did not
    fault, so a form can show a bad cron next to a bad retry count at once.
    """
    if not isinstance(spec, dict):
        return [SpecError("", "a job spec must be a JSON object")]
    errors = []
    for err in sorted(_validator().iter_errors(spec), key=lambda e: list(e.absolute_path)):
        errors.append(SpecError(_field(err), _schema_message(err)))
    if not errors:
        return _semantic_errors(spec)
    if every_field:
        faulty = {e.field for e in errors}
        errors += [e for e in _semantic_errors(spec, lenient=True) if e.field not in faulty]
    return errors


def check_spec(spec) -> dict:
    """Return ``spec`` if it is valid, else raise the first :class:`SpecError`."""
    errors = validate_spec(spec)
    if errors:
        raise errors[0]
    return spec


def _field(err) -> str:
    path = [str(p) for p in err.absolute_path]
    # A missing property is reported on its parent; name the property itself.
    if err.validator == "required" and isinstance(err.message, str):
        missing = re.match(r"'([^']+)' is a required property", err.message)
        if missing:
            path.append(missing.group(1))
    if _is_property_name_error(err):
        path.append(str(err.instance))
    return ".".join(path)


def _is_property_name_error(err) -> bool:
    # jsonschema reports a bad key as the failing sub-check, with the key as the instance.
    return "propertyNames" in err.absolute_schema_path and isinstance(err.instance, str)


def _schema_message(err) -> str:
    v = err.validator
    if v == "required":
        return "is required"
    if v == "additionalProperties":
        extra = re.findall(r"'([^']+)'", err.message)
        return f"unknown field {', '.join(extra)}" if extra else "unknown field"
    if _is_property_name_error(err):
        return f"{err.instance!r} is not a valid parameter name (letters, digits, _; not starting with a digit)"
    if v == "pattern" and err.absolute_path and err.absolute_path[-1] == "id":
        return "must be 1-63 characters: lower-case letters, digits, '-' and '_', starting with a letter or digit"
    if v == "const" and list(err.absolute_path) == ["apiVersion"]:
        return f"must be {API_VERSION!r} (this server does not know {err.instance!r})"
    if "notifications" in err.absolute_path and _holds_url(err.instance):
        # Said without repeating the value: a webhook URL is a credential.
        return (
            "a webhook URL is a secret and never goes in a job spec: put it in an Airflow "
            "connection named smallfry_notify_… or a Secrets Manager secret, and name that here"
        )
    # jsonschema's own messages quote the value, which is fine to show to the author.
    msg = err.message
    return msg if len(msg) <= 300 else msg[:297] + "..."


def _holds_url(value) -> bool:
    """Whether a notification destination (or part of one) is written as a URL."""
    if isinstance(value, dict):
        return any(_holds_url(v) for v in value.values())
    return isinstance(value, str) and bool(
        re.search(r"^[a-z][a-z0-9+.-]*://|^hooks\.", value, re.IGNORECASE)
    )


def _semantic_errors(spec: dict, lenient: bool = False) -> list[SpecError]:
    """The rules a schema cannot express. ``lenient``: ``spec`` may be schema-invalid, so
    check only the values that have the type the schema asks for."""
    errors: list[SpecError] = []
    parameters = spec.get("parameters", {})
    for name in parameters if isinstance(parameters, dict) else ():
        if not _IDENTIFIER.fullmatch(name) or _is_keyword(name):
            errors.append(
                SpecError(f"parameters.{name}", f"{name!r} is not a valid Python identifier")
            )
    schedule = spec.get("schedule") if lenient else spec["schedule"]
    if isinstance(schedule, dict) and schedule.get("type") == "cron":
        for field, check, key in (
            ("schedule.cron", check_cron, "cron"),
            ("schedule.timezone", check_timezone, "timezone"),
            ("schedule.start_date", check_start_date, "start_date"),
        ):
            value = schedule.get(key) if lenient else schedule[key]
            if not isinstance(value, str):
                continue
            try:
                check(value)
            except ValueError as err:
                errors.append(SpecError(field, str(err)))
    output = spec.get("output", {})
    template = output.get("uri_template") if isinstance(output, dict) else None
    if isinstance(template, str):
        try:
            check_output_template(template)
        except ValueError as err:
            errors.append(SpecError("output.uri_template", str(err)))
    return errors


def _is_keyword(name: str) -> bool:
    import keyword

    return keyword.iskeyword(name)


def check_cron(expr: str) -> str:
    """Accept 5-field cron or one of :data:`PRESETS`; return the 5-field form or raise ValueError.

    Stricter than croniter on purpose: only what both Airflow and the browser preview read the
    same way (no seconds, no ``? L W H #``), with ranges checked per field.
    """
    text = expr.strip()
    if text.startswith("@"):
        if text not in PRESETS:
            raise ValueError(
                f"unknown preset {text!r}; use one of {', '.join(p for p in PRESETS if p != '@annually')}"
            )
        return PRESETS[text]
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(
            f"needs 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}"
        )
    sets = [_parse_field(part, *spec) for part, spec in zip(parts, _FIELDS)]
    dom, months, dow_star = sets[2], sets[3], parts[4] == "*"
    # Day-of-month alone (weekday '*') that no chosen month has: croniter would fail later.
    if dow_star and parts[2] != "*" and min(dom) > max(_month_days(m) for m in months):
        raise ValueError(
            "the day of month never occurs in the chosen months, so it would never run"
        )
    return " ".join(parts)


def _month_days(month: int) -> int:
    return 29 if month == 2 else calendar.monthrange(2001, month)[1]


def _parse_field(part: str, name: str, low: int, high: int, names: dict) -> set[int]:
    values: set[int] = set()
    for item in part.split(","):
        if not item:
            raise ValueError(f"{name}: empty list item in {part!r}")
        rng, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{name}: step {step_text!r} must be a positive number")
            step = int(step_text)
        if rng == "*":
            start, end = low, high
        else:
            first, dash, last = rng.partition("-")
            start = _value(first, name, low, high, names)
            end = _value(last, name, low, high, names) if dash else (high if step_text else start)
            if end < start:
                raise ValueError(f"{name}: range {rng!r} runs backwards")
        values.update(range(start, end + 1, step))
    return values


def _value(text: str, name: str, low: int, high: int, names: dict) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ValueError(f"{name}: {text!r} is not a number" + (" or a name" if names else ""))
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{name}: {value} is outside {low}-{high}")
    return value


@functools.lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(name: str) -> str:
    """Accept an IANA zone name known to this machine's tz database."""
    if name not in _zones() and name != "UTC":
        raise ValueError(f"{name!r} is not an IANA time zone (for example Europe/Amsterdam)")
    return name


def check_start_date(text: str) -> str:
    import datetime as dt

    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    return text


def check_output_template(template: str) -> str:
    """An output folder template: ``s3://bucket/...`` or an absolute path, ending in ``{run_id}/``."""
    if not template.startswith(("s3://", "/")):
        raise ValueError("must start with s3:// or be an absolute folder path")
    if "{{" in template or "}}" in template:
        raise ValueError("braces are only for the placeholders {owner}, {job_id} and {run_id}")
    used = []
    for _literal, field, spec, conv in string.Formatter().parse(template):
        if field is None:
            continue
        if field not in OUTPUT_PLACEHOLDERS or spec or conv:
            raise ValueError(
                f"unknown placeholder {{{field}}}; use {', '.join(f'{{{p}}}' for p in OUTPUT_PLACEHOLDERS)}"
            )
        used.append(field)
    if not template.endswith("{run_id}/"):
        raise ValueError("must end with {run_id}/ so every run gets its own folder")
    for needed in ("owner", "job_id"):
        if needed not in used[:-1]:
            raise ValueError(
                f"must contain {{{needed}}} before {{run_id}}, so jobs never share a folder"
            )
    if ".." in template.split("/"):
        raise ValueError("must not contain '..'")
    return template


def is_job_id(value: str) -> bool:
    """True if ``value`` can be a job id (also what makes it safe as a file name)."""
    # fullmatch: with match, "$" also accepts a trailing newline ("daily\n").
    return bool(_JOB_ID.fullmatch(value))
