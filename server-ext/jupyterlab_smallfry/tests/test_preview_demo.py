"""The embedded demo's tabular data previews: the seeded ``sales/year=…/`` Parquet dataset
and ``data/sales.csv``, as a newcomer double-clicking them in the S3 browser sees them."""

from __future__ import annotations

import requests

from ..embedded.sales_dataset import ROWS_PER_YEAR, YEARS
from .processes import jupyter_server


def test_demo_parquet_and_csv_preview():
    with jupyter_server(
        "--SmallFry.embedded=True", env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    ) as srv:
        http = requests.Session()
        http.headers["Authorization"] = f"token {srv.token}"
        url = f"{srv.url}smallfry/preview"
        for year in YEARS:
            uri = f"s3://smallfry-demo/sales/year={year}/part-0.parquet"
            answer = http.get(url, params={"uri": uri}, timeout=60)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["num_rows"] == ROWS_PER_YEAR
            assert body["row_groups"] == {"count": 2, "read": 2}
            types = {f["name"]: f["type"] for f in body["schema"]}
            assert types["ordered_at"] == "timestamp[ms, tz=UTC]"
            assert types["amount"] == "decimal128(10, 2)"
            assert body["rows"][0][0] == f"O-{year}-00000"
            assert body["statistics"]["discount"]["null_count"] == ROWS_PER_YEAR * 4 // 5

        csv = http.get(url, params={"uri": "s3://smallfry-demo/data/sales.csv"}, timeout=60)
        assert csv.status_code == 200, csv.text
        body = csv.json()
        assert [f["name"] for f in body["schema"]] == [
            "order_id",
            "date",
            "region",
            "product",
            "amount",
        ]
        assert body["num_rows"] == 240 and body["truncated"] is False
