"""The demo's partitioned Parquet dataset ``sales/year=…/part-0.parquet``, made at seed time.

Written with pyarrow when it is installed (the ``lake`` extra, part of ``embedded``), so the
demo has a Parquet dataset to preview, register and query without committing binary files.
The rows are computed, not random: every start seeds the same data. Without pyarrow the demo
starts without it (the CSV in ``data/`` is still there).
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib.util
import io

#: Years of the dataset, one partition folder each, and rows per year.
YEARS = (2024, 2025, 2026)
ROWS_PER_YEAR = 120
_REGIONS = ("AMER", "EMEA", "APAC")
_PRODUCTS = ("widget", "gadget", "gizmo", "doohickey")


def sales_objects(prefix: str = "sales/") -> dict[str, bytes]:
    """Key -> Parquet bytes of each partition; empty when pyarrow is not installed."""
    if importlib.util.find_spec("pyarrow") is None:
        return {}
    import pyarrow as pa
    import pyarrow.parquet as pq

    objects = {}
    for year in YEARS:
        rows = range(ROWS_PER_YEAR)
        start = dt.datetime(year, 1, 1, 9, 0, tzinfo=dt.timezone.utc)
        table = pa.table(
            {
                "order_id": pa.array([f"O-{year}-{i:05d}" for i in rows]),
                "ordered_at": pa.array(
                    [start + dt.timedelta(days=3 * i, minutes=37 * i) for i in rows],
                    pa.timestamp("ms", tz="UTC"),
                ),
                "region": pa.array([_REGIONS[i % 3] for i in rows]),
                "product": pa.array([_PRODUCTS[(i * 7) % 4] for i in rows]),
                "quantity": pa.array([1 + (i * 13) % 9 for i in rows], pa.int32()),
                "amount": pa.array(
                    [decimal.Decimal((i * 7919 + year) % 90000 + 1000) / 100 for i in rows],
                    pa.decimal128(10, 2),
                ),
                "discount": pa.array(
                    [None if i % 5 else decimal.Decimal("0.10") for i in rows],
                    pa.decimal128(4, 2),
                ),
            }
        )
        out = io.BytesIO()
        # Two row groups per file, so the preview shows "1 of 2 row groups read".
        pq.write_table(table, out, row_group_size=ROWS_PER_YEAR // 2)
        objects[f"{prefix}year={year}/part-0.parquet"] = out.getvalue()
    return objects
