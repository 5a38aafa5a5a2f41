"""The S3 launcher the jest harness starts: one JSON line when ready, nothing left on stop.

``python -m jupyterlab_smallfry.tests.s3_server --kind moto|ceph`` is how the TypeScript
suites get their S3 server, so what they rely on is checked here with the real processes:
the line names a server that accepts the keys it gives (and, for Ceph, refuses others), and
SIGTERM, SIGINT or the death of the runner that started it stops every process it started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import botocore.exceptions
import psutil
import pytest

from .processes import S3Endpoint

#: Ceph's cluster start is a few seconds on a quiet machine; leave room for a busy one.
READY_TIMEOUT = 180


def launch(kind: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "jupyterlab_smallfry.tests.s3_server", "--kind", kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **(env or {})},
    )


def ready_line(proc: subprocess.Popen) -> dict:
    """The launcher's one stdout line (readline blocks until it comes or the process ends)."""
    line = proc.stdout.readline()
    assert line, f"no JSON line; exit {proc.wait()}; stderr:\n{proc.stderr.read()[-3000:]}"
    return json.loads(line)


def stop_and_check_nothing_left(proc: subprocess.Popen, signum: int) -> tuple[str, str]:
    """Send ``signum``; the launcher must exit 0 and take all its processes with it.

    Returns what it wrote after the JSON line: (the rest of stdout, stderr)."""
    started = psutil.Process(proc.pid).children(recursive=True)
    assert started, "the launcher started no server process"
    proc.send_signal(signum)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    _gone, alive = psutil.wait_procs(started, timeout=30)
    assert not alive, [p.cmdline() for p in alive]
    return rest, err


@pytest.mark.parametrize(
    "kind, signum", [("moto", signal.SIGTERM), ("ceph", signal.SIGINT)], ids=["moto", "ceph"]
)
def test_the_line_names_a_working_server_and_a_signal_stops_all_of_it(kind, signum):
    proc = launch(kind)
    try:
        line = ready_line(proc)
        assert set(line) == {"endpoint_url", "access_key", "secret_key", "region", "kind"}
        assert line["kind"] == kind and line["endpoint_url"].startswith("http://127.0.0.1:")
        s3 = S3Endpoint(**line).client()
        s3.create_bucket(Bucket="launcher-check")
        s3.put_object(Bucket="launcher-check", Key="a b.txt", Body=b"hello")
        assert s3.get_object(Bucket="launcher-check", Key="a b.txt")["Body"].read() == b"hello"
        if kind == "ceph":  # a real server: the keys it printed are the only ones it takes
            wrong = S3Endpoint(**{**line, "secret_key": "not-the-secret"}).client()
            with pytest.raises(botocore.exceptions.ClientError, match="SignatureDoesNotMatch"):
                wrong.list_objects_v2(Bucket="launcher-check")
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    rest, err = stop_and_check_nothing_left(proc, signum)
    assert rest == ""  # the JSON line is all stdout ever gets
    assert f"stopping {kind} ({signal.Signals(signum).name})" in err


def test_the_server_stops_when_the_runner_that_started_it_dies():
    # A shell stands for jest: it starts the launcher, then is killed without any cleanup.
    runner = subprocess.Popen(
        [
            "bash",
            "-c",
            f"{sys.executable} -m jupyterlab_smallfry.tests.s3_server --kind moto & wait",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        json.loads(runner.stdout.readline())
        started = psutil.Process(runner.pid).children(recursive=True)
        assert len(started) >= 2  # the launcher and moto
    finally:
        runner.kill()
        runner.wait()
    _gone, alive = psutil.wait_procs(started, timeout=30)
    assert not alive, [p.cmdline() for p in alive]


def test_without_cephs_programs_the_launcher_says_what_to_install(tmp_path):
    # A PATH with only Python on it: none of Ceph's programs can be found.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    began = time.monotonic()
    proc = launch("ceph", env={"PATH": str(bin_dir)})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and out == ""
    assert "radosgw" in err and "apt-get install" in err, err
    assert time.monotonic() - began < 30  # it says so at once rather than timing out
