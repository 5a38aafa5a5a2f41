"""Opening a 20 MB notebook: through the gateway (what the S3 drive does) vs a direct GET.

    python server-ext/benchmarks/bench_open_notebook.py [--mb 20]

The drive opens a notebook with one GET through the gateway and parses the JSON; its
"changed on disk" check before a save is one HEAD. Both are timed against boto3 straight
to the S3 server, parsing the same JSON.
"""

from __future__ import annotations

import argparse
import json

import nbformat

from common import direct_client, gateway_client, jupyter_server, moto_server, report, timed_pair

BUCKET = "bench-notebook"
KEY = "reports/big notebook.ipynb"


def big_notebook(megabytes: int) -> bytes:
    nb = nbformat.v4.new_notebook()
    line = "x" * 99 + "\n"
    for i in range(megabytes * 10):
        cell = nbformat.v4.new_code_cell(f"print('cell {i}')")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=line * 1000)]
        nb.cells.append(cell)
    return nbformat.writes(nb).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=20)
    args = parser.parse_args()
    body = big_notebook(args.mb)
    with moto_server() as moto_url, jupyter_server(f"--SmallFry.endpoint_url={moto_url}") as server:
        direct = direct_client(moto_url)
        direct.create_bucket(Bucket=BUCKET)
        direct.put_object(Bucket=BUCKET, Key=KEY, Body=body)
        gateway = gateway_client(server)

        def open_with(s3):
            return lambda: json.loads(s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read())

        def head_with(s3):
            return lambda: s3.head_object(Bucket=BUCKET, Key=KEY)

        direct_open, gateway_open = timed_pair(open_with(direct), open_with(gateway), repeat=9)
        direct_head, gateway_head = timed_pair(head_with(direct), head_with(gateway))
    report(
        f"Open a {len(body) / 1e6:.0f} MB notebook (GET + JSON parse), median",
        [
            ("boto3 direct", f"{direct_open * 1000:.0f} ms"),
            ("through the gateway", f"{gateway_open * 1000:.0f} ms"),
            ("gateway / direct", f"{gateway_open / direct_open:.2f}x"),
            ("HEAD before save: direct", f"{direct_head * 1000:.1f} ms"),
            ("HEAD before save: gateway", f"{gateway_head * 1000:.1f} ms"),
            ("HEAD gateway / direct", f"{gateway_head / direct_head:.2f}x"),
        ],
    )


if __name__ == "__main__":
    main()
