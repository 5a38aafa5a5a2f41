"""Real processes the tests and benchmarks talk to: moto's server and a Jupyter server.

Both bind 127.0.0.1 on a free port and are stopped when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore
from botocore.config import Config

#: Distinctive fake keys, so a test can prove they never show up where they must not.
TEST_ACCESS_KEY = "AKIASMALLFRYTEST0001"
TEST_SECRET_KEY = "smallfry/TEST/secret+Never-Log-Me-0123456789"
TEST_SESSION_TOKEN = "IQoJb3JpZ2luX2VjESMALLFRYSESSIONTOKEN" + "x" * 40

AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY,
    "AWS_SESSION_TOKEN": TEST_SESSION_TOKEN,
    "AWS_DEFAULT_REGION": "us-east-1",
    # Never fall through to the instance-metadata address when a test has no keys.
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_url(
    url: str, proc: subprocess.Popen, timeout: float = 90, headers=None, log=None
) -> None:
    """Wait until ``url`` answers 2xx; fail early if ``proc`` exits. ``log()`` returns the
    process's output, whose end goes into the error."""
    tail = (lambda: ":\n" + log()[-4000:]) if log else (lambda: "")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}{tail()}")
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s{tail()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def moto_server(enforce_iam_after: int | None = None):
    """moto's S3/STS/IAM server; yields its URL. With ``enforce_iam_after=N`` it enforces IAM
    policies after the first N calls (the ones that create an admin to seed it with)."""
    port = free_port()
    env = dict(os.environ)
    if enforce_iam_after is not None:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(enforce_iam_after)
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_url(f"{url}/moto-api/data.json", proc)
        yield url
    finally:
        _stop(proc)


@dataclass(frozen=True)
class S3Endpoint:
    """Where an S3 server answers and the keys it accepts, as every test client needs them."""

    kind: str  # "moto" or "ceph"
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def as_json(self) -> dict[str, str]:
        return {
            "endpoint_url": self.endpoint_url,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "region": self.region,
            "kind": self.kind,
        }

    def client(self, service: str = "s3", secret_key: str | None = None):
        """boto3 straight to this server, signed with its keys (or with ``secret_key``)."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(s3={"addressing_style": "path"}),
        )


def moto_endpoint(url: str) -> S3Endpoint:
    """A running moto server as an S3Endpoint: it accepts any keys, so the tests' own."""
    return S3Endpoint("moto", url, TEST_ACCESS_KEY, TEST_SECRET_KEY)


@dataclass
class JupyterServer:
    url: str  # base URL, ends with "/"
    token: str
    proc: subprocess.Popen
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def jupyter_server(*smallfry_args: str, env: dict | None = None, debug: bool = False):
    """A real ``jupyter server`` with Small Fry enabled; extra ``--SmallFry.x=y`` args as given."""
    port = free_port()
    token = secrets.token_hex(16)
    root = tempfile.mkdtemp(prefix="smallfry-root-")
    log_path = Path(tempfile.mkdtemp(prefix="smallfry-log-")) / "server.log"
    server_env = {**os.environ, **AWS_TEST_ENV, **(env or {})}
    server_env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), server_env.get("PYTHONPATH", "")]
    )
    args = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.jpserver_extensions={'jupyterlab_smallfry': True}",
        "--allow-root",
        *(["--debug"] if debug else []),
        *smallfry_args,
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            args, env=server_env, stdout=log, stderr=subprocess.STDOUT, cwd=root
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        try:
            wait_for_url(f"{url}api/status", proc, headers={"Authorization": f"token {token}"})
        except (RuntimeError, TimeoutError) as err:
            raise RuntimeError(f"{err}; server log:\n{log_path.read_text()[-3000:]}") from None
        yield JupyterServer(url, token, proc, log_path)
    finally:
        _stop(proc)


def gateway_client(server, service: str = "s3", token: str | None = None):
    """A boto3 client whose requests go through the gateway, authenticated with the Jupyter token.

    It sends no AWS signature (the gateway signs); the token header is what a logged-in user has.
    """
    client = boto3.client(
        service,
        endpoint_url=f"{server.url}smallfry/aws/{service}",
        region_name="us-east-1",
        config=Config(
            signature_version=botocore.UNSIGNED,
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
        ),
    )
    auth = token if token is not None else server.token

    def add_token(request, **_):
        if auth:
            request.headers["Authorization"] = f"token {auth}"

    client.meta.events.register("before-send", add_token)
    return client
