"""JSON-safe rendering of Arrow values, for a grid that shows text.

JSON has no timestamps, decimals, bytes, NaN or 64-bit integers, and a grid cell shows one
line: temporal values become ISO 8601 (with the zone when the column has one), decimals and
integers beyond 2**53 strings (so JavaScript loses no digit), nested values (lists, maps,
structs) their JSON text, bytes hex (or their length when long), nulls ``null``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math

#: Integers JavaScript's numbers hold exactly.
_SAFE_INT = 2**53
#: Binary values up to this many bytes are shown as hex; longer ones by their length.
_HEX_BYTES = 32


def render_column(column) -> list:
    """One Arrow array or chunked array -> a list of JSON-safe cell values."""
    try:
        values = column.to_pylist()
    except (ValueError, OverflowError, ArithmeticError):
        # A value Python's types cannot hold (a timestamp past year 9999, say): Arrow's own
        # text of it is still right.
        import pyarrow as pa

        try:
            values = column.cast(pa.string()).to_pylist()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return ["(unreadable)"] * len(column)
    return [cell(value) for value in values]


def cell(value):
    """A top-level value as a grid cell: a scalar, or the JSON text of a nested value."""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(nested(value), ensure_ascii=False, separators=(", ", ": "))
    return nested(value)


def nested(value):
    """A value inside JSON: scalars made JSON-safe, maps (lists of pairs) as objects."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if -_SAFE_INT <= value <= _SAFE_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)) or hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return data.hex() if len(data) <= _HEX_BYTES else f"({len(data)} bytes)"
    if isinstance(value, dict):
        return {str(k): nested(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        # pyarrow gives a map as a list of (key, value) tuples: an object when keys are text.
        if value and all(isinstance(p, tuple) and len(p) == 2 for p in value):
            if all(isinstance(k, str) for k, _ in value):
                return {k: nested(v) for k, v in value}
            return [[nested(k), nested(v)] for k, v in value]
        return [nested(v) for v in value]
    return str(value)
