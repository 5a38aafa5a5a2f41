"""Starts and stops the embedded S3 server process and seeds its demo bucket."""

from __future__ import annotations

import atexit
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ..logs import log
from .sales_dataset import sales_objects

DEMO_BUCKET = "smallfry-demo"
#: moto accepts any key; these are not secrets and never leave this machine.
DEMO_ACCESS_KEY = "smallfry-embedded"
DEMO_SECRET_KEY = "smallfry-embedded-secret"
DEMO_FILES = Path(__file__).with_name("demo")


class EmbeddedS3:
    """A moto server on a free 127.0.0.1 port, alive as long as this process."""

    def __init__(self, startup_timeout: float = 60):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab_smallfry.embedded.child", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        atexit.register(self.stop)
        self._wait_ready(startup_timeout)
        log.info("Small Fry: embedded S3 server at %s", self.url)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    "The embedded S3 server exited at start-up (is moto[server] installed?)"
                )
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=2).read()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"The embedded S3 server did not answer on {self.url} within {timeout:.0f}s"
        )

    def seed(self, bucket: str = DEMO_BUCKET) -> None:
        """Create the demo bucket and upload the demo notebooks and data files, and the
        partitioned Parquet dataset ``sales/`` (see :mod:`.sales_dataset`)."""
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=DEMO_ACCESS_KEY,
            aws_secret_access_key=DEMO_SECRET_KEY,
        )
        s3.create_bucket(Bucket=bucket)
        for path in sorted(DEMO_FILES.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                s3.upload_file(str(path), bucket, path.relative_to(DEMO_FILES).as_posix())
        for key, data in sales_objects().items():
            s3.put_object(Bucket=bucket, Key=key, Body=data)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
