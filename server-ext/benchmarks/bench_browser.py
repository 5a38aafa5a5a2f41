"""Speed a user feels, measured in Chromium, against baselines taken in the same run.

    python server-ext/benchmarks/bench_browser.py [--keys 100000] [--upload-mib 256]

Starts moto and a Jupyter server with Small Fry (and Galata's in-page helpers), seeds them,
runs the Playwright benchmark ui-tests/benchmarks/browser.bench.ts in Debian's Chromium
(`ui-tests/playwright.bench.config.js`; `cd ui-tests && npm ci` first) and prints:

- double-click on a 100,000-key folder → its first rows shown, vs boto3's first
  ``list_objects_v2`` page (1,000 keys) of the same folder on the same moto server;
- a 20 MB notebook opened from S3 vs the same notebook from the local file browser;
- the extension's JavaScript fetched on page load (files, raw and gzip bytes);
- a browser upload through JupyterLab's uploader vs boto3 ``upload_file`` of the same file,
  and the Jupyter server's memory growth while the browser uploads.

The Python baselines are taken before and after the browser run, so drift on a shared
machine hits both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import jupyterlab.galata
import psutil

from bench_open_notebook import big_notebook
from bench_upload import TRANSFER
from common import direct_client, fill_prefix, jupyter_server, moto_server, report, timed
from jupyterlab_smallfry.tests.streams import MiB

BUCKET = "bench-browser"
UI_TESTS = Path(__file__).resolve().parents[2] / "ui-tests"
#: What ``npm run build`` writes: the front end the benchmark measures by default.
TREE_BUILD = Path(__file__).resolve().parents[1] / "jupyterlab_smallfry" / "labextension"


class MemoryTimeline:
    """Samples a process's resident memory with wall-clock time stamps (ms, like
    JavaScript's ``Date.now()``), so a window the browser reports can be looked up."""

    def __init__(self, pid: int, interval: float = 0.02):
        self._proc = psutil.Process(pid)
        self._interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time() * 1000, self._proc.memory_info().rss))
            time.sleep(self._interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def growth(self, start_ms: float, end_ms: float) -> int:
        """Peak within [start, end] minus the last sample before start."""
        before = [rss for t, rss in self.samples if t <= start_ms]
        during = [rss for t, rss in self.samples if start_ms <= t <= end_ms]
        base = before[-1] if before else during[0]
        return max(during, default=base) - base


def seed(s3, keys: int, notebook: bytes, root: Path) -> None:
    s3.create_bucket(Bucket=BUCKET)
    fill_prefix(s3, BUCKET, "huge/", keys, workers=32)
    s3.put_object(Bucket=BUCKET, Key="notebooks/big.ipynb", Body=notebook)
    (root / "big.ipynb").write_bytes(notebook)


def notebook_bytes(megabytes: int) -> tuple[bytes, int]:
    """The benchmark notebook of bench_open_notebook.py, with a kernel named so that
    opening it starts one instead of asking which."""
    nb = json.loads(big_notebook(megabytes))
    nb["metadata"]["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return json.dumps(nb, indent=1).encode(), len(nb["cells"])


def upload_baseline(s3, path: str) -> tuple[float, str]:
    """Seconds of boto3's upload, and the object's ETag: a multipart ETag is the MD5 of the
    parts' MD5s, so the browser's object (same 8 MiB parts) has the same one only if every
    part holds the same bytes in the same place."""
    start = time.perf_counter()
    s3.upload_file(path, BUCKET, "direct.bin", Config=TRANSFER)
    seconds = time.perf_counter() - start
    etag = s3.head_object(Bucket=BUCKET, Key="direct.bin")["ETag"]
    s3.delete_object(Bucket=BUCKET, Key="direct.bin")
    return seconds, etag


def run_playwright(server, out: Path, env: dict, grep: str) -> None:
    cmd = ["npx", "playwright", "test", "-c", "playwright.bench.config.js"]
    if grep:
        cmd += ["--grep", grep]
    full_env = {**os.environ, **env, "SMALLFRY_BENCH_OUT": str(out)}
    full_env["SMALLFRY_BENCH_URL"] = server.url.rstrip("/")
    full_env["SMALLFRY_BENCH_TOKEN"] = server.token
    subprocess.run(cmd, cwd=UI_TESTS, env=full_env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--upload-mib", type=int, default=256)
    parser.add_argument("--notebook-mb", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each browser action")
    parser.add_argument("--grep", default="", help="run only the browser tests matching this")
    parser.add_argument(
        "--labextension",
        type=Path,
        default=TREE_BUILD,
        help="the built front end to measure (default: this tree's, from `npm run build`, "
        "rather than whatever copy is installed); e.g. another worktree's, to compare",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also take a CPU profile of the upload (slows it down; figures not comparable)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="smallfry-bench-browser-"))
    out = work / "out"
    upload_path = work / f"upload-{args.upload_mib}MiB.bin"
    with open(upload_path, "wb") as data:
        block = os.urandom(MiB)
        data.writelines(block for _ in range(args.upload_mib))
    notebook, cells = notebook_bytes(args.notebook_mb)

    # JupyterLab takes the first copy of an extension it finds, and extra paths come first.
    if not (args.labextension / "package.json").is_file():
        parser.error(f"{args.labextension} is not a built labextension (run `npm run build`)")
    measured = work / "labextensions"
    measured.mkdir()
    (measured / "jupyterlab-smallfry").symlink_to(args.labextension.resolve())

    server_args = [
        # Galata's test settings: no XSRF check, its in-page helpers. The token stays: the
        # browser sends it in a header (playwright.bench.config.js).
        "--ServerApp.disable_check_xsrf=True",
        f"--LabServerApp.extra_labextensions_path={measured}",
        f"--LabServerApp.extra_labextensions_path={Path(jupyterlab.galata.__file__).parent}",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={work / 'workspaces'}",
    ]
    try:
        with (
            moto_server() as moto_url,
            jupyter_server(f"--SmallFry.endpoint_url={moto_url}", *server_args) as server,
        ):
            s3 = direct_client(moto_url)
            # The helper's throw-away root folder is the server's working directory.
            root = Path(psutil.Process(server.proc.pid).cwd())
            started = time.perf_counter()
            seed(s3, args.keys, notebook, root)
            print(f"seeded {args.keys:,} keys in {time.perf_counter() - started:.0f} s")

            def first_page():
                return s3.list_objects_v2(
                    Bucket=BUCKET, Prefix="huge/", Delimiter="/", MaxKeys=1000
                )

            list_before = timed(first_page, repeat=15)
            upload_before = upload_baseline(s3, str(upload_path))
            with MemoryTimeline(server.proc.pid) as memory:
                run_playwright(
                    server,
                    out,
                    {
                        "SMALLFRY_BENCH_BUCKET": BUCKET,
                        "SMALLFRY_BENCH_REPEAT": str(args.repeat),
                        "SMALLFRY_BENCH_CELLS": str(cells),
                        "SMALLFRY_BENCH_UPLOAD": str(upload_path),
                        "SMALLFRY_BENCH_PROFILE": "1" if args.profile else "",
                    },
                    args.grep,
                )
            list_after = timed(first_page, repeat=15)
            upload_after = upload_baseline(s3, str(upload_path))
    finally:
        results = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1))

    boto_list_ms = statistics.mean([list_before, list_after]) * 1000
    boto_upload_s = statistics.mean([upload_before[0], upload_after[0]])
    rows = []
    if listing := results.get("listing"):
        rows += [
            (
                f"double-click → first rows, {args.keys:,}-key folder",
                f"{listing['median_ms']:.0f} ms  ({listing['rows']} rows shown)",
            ),
            ("boto3 first list_objects_v2 page (1,000 keys)", f"{boto_list_ms:.0f} ms"),
            ("browser / boto3", f"{listing['median_ms'] / boto_list_ms:.2f}x  (earlier 1.8x)"),
            (
                "  ... until the whole first page (1,000 rows) is shown",
                (
                    f"{listing['whole_page_median_ms']:.0f} ms  "
                    f"({listing['whole_page_median_ms'] / boto_list_ms:.2f}x boto3)"
                ),
            ),
        ]
    if nb := results.get("notebook"):
        mb = len(notebook) / 1e6
        rows += [
            (f"open {mb:.0f} MB notebook from S3: ready", f"{nb['s3_ready_ms']:.0f} ms"),
            ("  ... from the local browser: ready", f"{nb['local_ready_ms']:.0f} ms"),
            (
                "S3 / local, ready",
                f"{nb['s3_ready_ms'] / nb['local_ready_ms']:.2f}x  (earlier 1.14x)",
            ),
            (f"  S3: last of {cells} cells rendered", f"{nb['s3_last_cell_ms']:.0f} ms"),
            ("  local: last cell rendered", f"{nb['local_last_cell_ms']:.0f} ms"),
            ("S3 / local, last cell", f"{nb['s3_last_cell_ms'] / nb['local_last_cell_ms']:.2f}x"),
        ]
    if js := results.get("extension_js"):
        # `npm run build` is a development build (unminified, with source maps): its sizes
        # say nothing about the target, which is about what users download.
        development = any((args.labextension / "static").glob("*.js.map"))
        rows.append(
            (
                "extension JS on page load",
                f"{js['count']} files, {js['raw'] / 1024:.0f} KiB raw, {js['gzip'] / 1024:.0f} "
                + "KiB gzip  "
                + (
                    "(development build: use `npm run build:prod` to compare with the target)"
                    if development
                    else "(target <= 150 KiB gzip)"
                ),
            )
        )
    if up := results.get("upload"):
        size_mib = up["bytes"] / MiB
        growth = memory.growth(up["start_ms"], up["end_ms"])
        rows += [
            (
                f"browser upload of {size_mib:.0f} MiB",
                f"{up['mib_per_s']:.1f} MiB/s ({up['seconds']:.1f} s, {up['parts']} parts)",
            ),
            (
                "boto3 upload_file, same file",
                f"{size_mib / boto_upload_s:.1f} MiB/s ({boto_upload_s:.1f} s)",
            ),
            (
                "browser / boto3 throughput",
                f"{boto_upload_s / up['seconds']:.2f}x  (target >= 0.9x)",
            ),
            (
                "browser object = boto3's (multipart ETag)",
                "yes" if up.get("etag") == upload_before[1] else f"NO: {up.get('etag')}",
            ),
            (
                "server memory growth during the browser upload",
                f"{growth / MiB:.1f} MiB  (target < 32 MiB)",
            ),
        ]
    report("Small Fry in Chromium vs baselines taken in the same run (medians)", rows)


if __name__ == "__main__":
    main()
