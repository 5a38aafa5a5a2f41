"""Table preview of a 2 GB Parquet object vs ``pandas.read_parquet`` of the whole object.

    python server-ext/benchmarks/bench_preview.py [--gb 2] [--repeat 5]

The object is made cheaply and cached (``~/.cache/smallfry-bench/``): one row group of
1 Mi rows of incompressible numbers and text, written again and again (pyarrow's default
row-group size, 1 MiB pages), so its layout is what Spark or pandas would write. It is put
into moto once per run. The preview goes through the Jupyter server's ``smallfry/preview``
endpoint as the browser calls it; the baseline is ``pandas.read_parquet`` of the same
object through pyarrow's S3 filesystem, in the same run. Prints bytes read (the endpoint's
own count, from the file object pyarrow reads), their share of the object, median times,
the ratio, and the Jupyter server's memory growth during the previews.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import requests

from common import (
    TEST_ACCESS_KEY,
    TEST_SECRET_KEY,
    direct_client,
    jupyter_server,
    moto_server,
    report,
)

BUCKET = "bench-preview"
KEY = "big/events.parquet"
ROWS_PER_GROUP = 1 << 20
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "smallfry-bench"


def big_parquet(gb: float) -> Path:
    """The cached object: repeated row groups until it is ``gb`` GB (10**9 bytes; made once).

    moto fails to complete a multipart upload of 2**31 bytes or more, so "2 GB" is decimal.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = CACHE / f"preview-{gb:g}gb.parquet"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    n = ROWS_PER_GROUP
    group = pa.table(
        {
            "event_id": pa.array(np.arange(n, dtype=np.int64)),
            "at": pa.array(
                np.datetime64("2025-01-01T00:00:00") + rng.integers(0, 10**9, n).astype("m8[s]"),
                pa.timestamp("s", tz="UTC"),
            ),
            "value": pa.array(rng.random(n)),
            "user": pa.array(rng.integers(0, 2**62, n, dtype=np.int64)),
            "token": pa.array([os.urandom(12).hex() for _ in range(n)]),
        }
    )
    target = gb * 10**9
    partial = path.with_suffix(".partial")
    with pq.ParquetWriter(partial, group.schema) as writer:
        # The writer streams each row group to the file, so its size on disk grows as we go.
        while not partial.exists() or partial.stat().st_size < target:
            writer.write_table(group, row_group_size=n)
    partial.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import pandas as pd
    import pyarrow.parquet as pq
    from pyarrow import fs as pafs

    started = time.perf_counter()
    path = big_parquet(args.gb)
    size = path.stat().st_size
    groups = pq.ParquetFile(path).metadata.num_row_groups
    print(
        f"object: {size / 1e9:.2f} GB, {groups} row groups ({time.perf_counter() - started:.0f}s)"
    )

    with moto_server() as moto_url:
        s3 = direct_client(moto_url)
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(str(path), BUCKET, KEY)
        with jupyter_server(
            f"--SmallFry.endpoint_url={moto_url}", f"--SmallFry.sts_endpoint_url={moto_url}"
        ) as srv:
            http = requests.Session()
            http.headers["Authorization"] = f"token {srv.token}"
            server = psutil.Process(srv.proc.pid)

            def preview() -> dict:
                answer = http.get(
                    f"{srv.url}smallfry/preview",
                    params={"uri": f"s3://{BUCKET}/{KEY}", "rows": 1000},
                    timeout=600,
                )
                answer.raise_for_status()
                return answer.json()

            first = preview()
            rss_before = server.memory_info().rss
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                body = preview()
                times.append(time.perf_counter() - start)
            rss_growth = server.memory_info().rss - rss_before
            preview_s = statistics.median(times)

        print(
            f"preview: {first['bytes_read']:,} bytes in {first['requests']} reads, "
            f"median {preview_s * 1000:.0f} ms; server RSS {rss_growth / 2**20:+.1f} MiB",
            flush=True,
        )
        endpoint = urlsplit(moto_url)
        s3fs = pafs.S3FileSystem(
            access_key=TEST_ACCESS_KEY,
            secret_key=TEST_SECRET_KEY,
            region="us-east-1",
            scheme=endpoint.scheme,
            endpoint_override=endpoint.netloc,
            # moto serves one big GET slowly on a busy machine: do not give up after 3 s.
            request_timeout=600,
            connect_timeout=30,
        )
        start = time.perf_counter()
        frame = pd.read_parquet(f"{BUCKET}/{KEY}", filesystem=s3fs)
        pandas_s = time.perf_counter() - start
        rows = len(frame)
        del frame

    assert body["num_rows"] == rows and len(body["rows"]) == 1000
    report(
        f"Table preview of a {size / 1e9:.2f} GB Parquet object (moto, 1,000 rows)",
        [
            ("object", f"{size:,} bytes, {rows:,} rows, {groups} row groups"),
            (
                "preview read",
                (
                    f"{first['bytes_read']:,} bytes in {first['requests']} ranged reads "
                    f"({100 * first['bytes_read'] / size:.3f} % of the object)"
                ),
            ),
            ("preview (median)", f"{preview_s * 1000:.0f} ms over {args.repeat} runs"),
            ("pandas.read_parquet", f"{pandas_s:.1f} s (whole object)"),
            ("ratio", f"preview is {pandas_s / preview_s:.0f}x faster"),
            ("server RSS growth", f"{rss_growth / 2**20:+.1f} MiB over the repeated previews"),
        ],
    )


if __name__ == "__main__":
    main()
