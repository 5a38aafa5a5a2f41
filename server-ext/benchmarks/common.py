"""Shared set-up of the benchmarks: real moto and Jupyter processes, timing, reporting."""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyterlab_smallfry.tests.processes import (
    TEST_ACCESS_KEY,
    TEST_SECRET_KEY,
    gateway_client,
    jupyter_server,
    moto_server,
)

__all__ = [
    "direct_client",
    "fill_prefix",
    "gateway_client",
    "jupyter_server",
    "moto_server",
    "percentile",
    "report",
    "timed",
    "timed_pair",
]


def direct_client(moto_url: str, service: str = "s3"):
    """The baseline: boto3 straight to the S3 server, no gateway."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=TEST_ACCESS_KEY,
        aws_secret_access_key=TEST_SECRET_KEY,
    )


def timed(fn, repeat: int = 15, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in seconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def timed_pair(a, b, repeat: int = 15, warmup: int = 2) -> tuple[float, float]:
    """Median times of ``a()`` and ``b()``, run alternately so drift on the machine hits both."""
    for _ in range(warmup):
        a(), b()
    times_a, times_b = [], []
    for _ in range(repeat):
        for fn, samples in ((a, times_a), (b, times_b)):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b)


def fill_prefix(s3, bucket: str, prefix: str, count: int, workers: int = 16) -> None:
    """Put ``count`` tiny objects under ``prefix`` (in parallel: this is set-up, not measured)."""

    def put(i: int) -> None:
        s3.put_object(Bucket=bucket, Key=f"{prefix}{i:07d}.json", Body=b"{}")

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, range(count)))


def percentile(samples: list[float], fraction: float) -> float:
    """The sample below which ``fraction`` of ``samples`` lie (nearest rank; 1.0 is the max)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def report(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
