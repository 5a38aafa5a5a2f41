"""First page of a huge prefix: gateway vs boto3 straight to S3, and 1,000 vs 100,000 keys.

    python server-ext/benchmarks/bench_listing.py [--keys 100000]

The S3 browser asks for one page (Delimiter='/', MaxKeys=1000) however large the prefix is,
so the first-page time must not grow with the prefix, and the gateway must add little.
"""

from __future__ import annotations

import argparse

from common import (
    direct_client,
    fill_prefix,
    gateway_client,
    jupyter_server,
    moto_server,
    report,
    timed_pair,
)

BUCKET = "bench-listing"


def first_page(s3, prefix: str):
    return lambda: s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix, Delimiter="/", MaxKeys=1000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=100_000)
    args = parser.parse_args()
    with moto_server() as moto_url, jupyter_server(f"--SmallFry.endpoint_url={moto_url}") as server:
        direct = direct_client(moto_url)
        direct.create_bucket(Bucket=BUCKET)
        fill_prefix(direct, BUCKET, "small/", 1_000)
        fill_prefix(direct, BUCKET, "huge/", args.keys)
        gateway = gateway_client(server)
        assert len(first_page(gateway, "huge/")()["Contents"]) == 1000

        direct_huge, gateway_huge = timed_pair(
            first_page(direct, "huge/"), first_page(gateway, "huge/")
        )
        direct_small, gateway_small = timed_pair(
            first_page(direct, "small/"), first_page(gateway, "small/")
        )
    report(
        "First page (1,000 entries) of a prefix, median of 15",
        [
            (f"boto3 direct, {args.keys:,} keys", f"{direct_huge * 1000:.1f} ms"),
            (f"gateway, {args.keys:,} keys", f"{gateway_huge * 1000:.1f} ms"),
            ("gateway / direct", f"{gateway_huge / direct_huge:.2f}x  (target <= 1.5x)"),
            ("boto3 direct, 1,000 keys", f"{direct_small * 1000:.1f} ms"),
            ("gateway, 1,000 keys", f"{gateway_small * 1000:.1f} ms"),
            (
                f"gateway {args.keys:,} / 1,000 keys",
                f"{gateway_huge / gateway_small:.2f}x  (flat = 1x)",
            ),
        ],
    )


if __name__ == "__main__":
    main()
