"""A 1 GiB multipart upload through the gateway vs boto3's upload_file straight to S3.

    python server-ext/benchmarks/bench_upload.py [--mib 1024]

Reports the throughput ratio and how much the Jupyter server's memory grew while the
gateway streamed the parts (it must not buffer them).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from boto3.s3.transfer import TransferConfig

from common import direct_client, gateway_client, jupyter_server, moto_server, report
from jupyterlab_smallfry.tests.streams import MiB, PeakMemory

BUCKET = "bench-upload"
#: What the browser drive uses too: 8 MiB parts, a few in flight.
TRANSFER = TransferConfig(
    multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4
)


def upload(s3, path: str, key: str) -> float:
    start = time.perf_counter()
    s3.upload_file(path, BUCKET, key, Config=TRANSFER)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    args = parser.parse_args()
    size = args.mib * MiB
    with tempfile.NamedTemporaryFile(prefix="smallfry-bench-") as data:
        block = os.urandom(MiB)
        for _ in range(args.mib):
            data.write(block)
        data.flush()
        with (
            moto_server() as moto_url,
            jupyter_server(f"--SmallFry.endpoint_url={moto_url}") as server,
        ):
            direct = direct_client(moto_url)
            direct.create_bucket(Bucket=BUCKET)
            gateway = gateway_client(server)
            upload(gateway, data.name, "warmup")  # first connections, imports
            direct_s = upload(direct, data.name, "direct.bin")
            with PeakMemory(server.proc.pid) as memory:
                gateway_s = upload(gateway, data.name, "gateway.bin")
            assert direct.head_object(Bucket=BUCKET, Key="gateway.bin")["ContentLength"] == size
    report(
        f"Upload of {args.mib} MiB (8 MiB parts, 4 in flight)",
        [
            ("boto3 direct", f"{size / MiB / direct_s:.0f} MiB/s"),
            ("through the gateway", f"{size / MiB / gateway_s:.0f} MiB/s"),
            ("gateway / direct throughput", f"{direct_s / gateway_s:.2f}x  (target >= 0.7x)"),
            ("server memory growth", f"{memory.growth / MiB:.1f} MiB  (target < 64 MiB)"),
        ],
    )


if __name__ == "__main__":
    main()
