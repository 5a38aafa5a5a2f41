"""``sf.sql`` over a partitioned Parquet dataset in S3 vs the same query after downloading it.

    python server-ext/benchmarks/bench_lake_sql.py [--rows 200000] [--partitions 24]

The dataset is ``year=Y/month=M/part.parquet`` in moto, each part with a wide ``payload``
column the query does not need. ``sf.sql`` reads through pyarrow's S3 filesystem: DuckDB
skips the partitions the filter excludes and, in the rest, fetches only the footers and the
column chunks of ``region`` and ``amount`` by ranged GETs. The baseline is what users do
without it: download the whole dataset (boto3, 8 threads), then run DuckDB on local files.
Both run in the same process against the same server, alternately, median of ``--repeat``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from common import direct_client, moto_server, report, timed_pair
from jupyterlab_smallfry.tests.lake_support import kernel_environment, parquet_bytes

BUCKET = "bench-lake"
PREFIX = "sales/"
QUERY = (
    "SELECT region, sum(amount) AS total, count(*) AS n FROM read_parquet('{root}*/*/*.parquet', "
    "hive_partitioning = true) {where} GROUP BY region ORDER BY region"
)


def part(rows: int, seed: int) -> pa.Table:
    ids = pa.array(range(seed * rows, (seed + 1) * rows), pa.int64())
    return pa.table(
        {
            "order_id": ids,
            "amount": pc.cast(pc.divide(pc.cast(ids, pa.float64()), 1000.0), pa.float64()),
            "region": pc.choose(
                pc.cast(pc.bit_wise_and(ids, 3), pa.int8()),
                *[pa.scalar(r) for r in ("north", "south", "east", "west")],
            ),
            # A wide column the query never needs (distinct digits per row: compresses poorly).
            "payload": pc.binary_join_element_wise(
                pc.cast(ids, pa.string()), pc.cast(pc.multiply(ids, 7919), pa.string()), "-x" * 20
            ),
        }
    )


def seed(s3, rows: int, partitions: int) -> tuple[list[str], int]:
    keys = [
        f"{PREFIX}year={2024 + i // 12}/month={i % 12 + 1}/part-0.parquet"
        for i in range(partitions)
    ]

    def put(i: int) -> int:
        body = parquet_bytes(part(rows, i))
        s3.put_object(Bucket=BUCKET, Key=keys[i], Body=body)
        return len(body)

    with ThreadPoolExecutor(4) as pool:
        sizes = list(pool.map(put, range(partitions)))
    return keys, sum(sizes)


class ByteCount:
    """Counts the bytes DuckDB reads through fsspec's file objects (while in the block)."""

    def __enter__(self):
        from fsspec.implementations.arrow import ArrowFile

        # fsspec mirrors ``read``/``readinto`` from the pyarrow stream as properties.
        self.total, self._saved = 0, (ArrowFile.read, ArrowFile.readinto)

        def reader(file):
            def read(*args):
                data = file.stream.read(*args)
                self.total += len(data)
                return data

            return read

        def filler(file):
            def readinto(buffer):
                n = file.stream.readinto(buffer)
                self.total += n or 0
                return n

            return readinto

        ArrowFile.read, ArrowFile.readinto = property(reader), property(filler)
        return self

    def __exit__(self, *exc):
        from fsspec.implementations.arrow import ArrowFile

        ArrowFile.read, ArrowFile.readinto = self._saved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000, help="rows per partition")
    parser.add_argument("--partitions", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import duckdb

    import smallfry as sf

    with moto_server() as moto_url, kernel_environment(moto_url):
        s3 = direct_client(moto_url)
        s3.create_bucket(Bucket=BUCKET)
        keys, total_bytes = seed(s3, args.rows, args.partitions)
        results, read_bytes = {}, {}
        for label, where in (("all partitions", ""), ("WHERE year = 2025", "WHERE year = 2025")):
            remote_sql = QUERY.format(root=f"s3://{BUCKET}/{PREFIX}", where=where)

            def remote(sql=remote_sql):
                return sf.sql(sql)

            def downloaded(where=where):
                folder = tempfile.mkdtemp(prefix="bench-lake-")
                try:

                    def fetch(key: str) -> None:
                        path = os.path.join(folder, key)
                        os.makedirs(os.path.dirname(path), exist_ok=True)
                        s3.download_file(BUCKET, key, path)

                    with ThreadPoolExecutor(8) as pool:
                        list(pool.map(fetch, keys))
                    local = QUERY.format(root=os.path.join(folder, PREFIX), where=where)
                    return duckdb.sql(local).df()
                finally:
                    shutil.rmtree(folder)

            with ByteCount() as counted:
                a = remote()
            pd.testing.assert_frame_equal(a, downloaded())  # the same answer both ways
            read_bytes[label] = counted.total
            results[label] = timed_pair(remote, downloaded, repeat=args.repeat, warmup=1)

    rows = [
        (
            "dataset",
            f"{args.partitions} partitions x {args.rows:,} rows, {total_bytes / 2**20:.1f} MiB",
        ),
    ]
    for label, (remote_s, download_s) in results.items():
        rows += [
            (f"sf.sql, {label}", f"{remote_s:.2f} s"),
            (f"download + DuckDB, {label}", f"{download_s:.2f} s"),
            (f"sf.sql / download, {label}", f"{remote_s / download_s:.2f}x  (< 1 is faster)"),
            (
                f"bytes sf.sql read, {label}",
                f"{read_bytes[label] / 2**20:.1f} MiB "
                + f"({read_bytes[label] / total_bytes:.1%} of what the download fetches)",
            ),
        ]
    report(
        f"Aggregate over a partitioned Parquet dataset in S3 (moto), median of {args.repeat}", rows
    )


if __name__ == "__main__":
    main()
