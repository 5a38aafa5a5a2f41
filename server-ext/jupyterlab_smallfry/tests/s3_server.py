"""Start one S3 server for a test run in another language, and say where it is.

The jest harness (and anyone who wants a throwaway S3 by hand) runs::

    python -m jupyterlab_smallfry.tests.s3_server --kind moto|ceph

and reads ONE line of JSON on stdout once the server answers::

    {"endpoint_url": "http://127.0.0.1:PORT", "access_key": "...", "secret_key": "...",
     "region": "us-east-1", "kind": "moto"}

The server runs until this process gets SIGTERM, SIGINT or SIGHUP, or until the process that
started it goes away (so a crashed test runner leaves no S3 server behind); then everything it
started is stopped and its files removed. Failures to start go to stderr with exit status 1,
and nothing is printed on stdout.

pytest starts its servers with the same ``start`` (see conftest's ``s3_backend``), so the
Python and the TypeScript suites test against identically configured servers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator

from .ceph_rgw import ceph_rgw
from .processes import S3Endpoint, moto_endpoint, moto_server

#: The kinds of S3 server the suites run against: moto (a fast fake that accepts any
#: signature) and Ceph's radosgw (real storage that checks them; see ceph_rgw.py).
KINDS = ("moto", "ceph")

#: How often to check that the parent is still there, in seconds.
PARENT_CHECK_INTERVAL = 1.0


@contextlib.contextmanager
def start(kind: str) -> Iterator[S3Endpoint]:
    """A private S3 server of ``kind`` on 127.0.0.1, stopped when the block ends."""
    if kind == "moto":
        with moto_server() as url:
            yield moto_endpoint(url)
    elif kind == "ceph":
        with ceph_rgw() as endpoint:
            yield endpoint
    else:
        raise ValueError(f"unknown S3 server kind {kind!r}: choose one of {', '.join(KINDS)}")


class _Stopped(Exception):
    """A stop signal arrived while the server was still starting."""


class _StopSignals:
    """SIGTERM, SIGINT and SIGHUP stop the launcher in an orderly way, whenever they come.

    While the server starts, a signal raises ``_Stopped`` so the ``with`` block unwinds and
    stops what was already started (a Ceph cluster is three daemons); once it is ready, the
    signal only wakes ``wait``.
    """

    def __init__(self) -> None:
        self.ready = False
        self.reason = ""
        self._event = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, _frame) -> None:
        self.reason = self.reason or signal.Signals(signum).name
        self._event.set()
        if not self.ready:
            raise _Stopped(self.reason)

    def wait(self, parent: int) -> str:
        """Block until a stop signal arrives or ``parent`` is gone; say which."""
        self.ready = True
        while not self._event.wait(PARENT_CHECK_INTERVAL):
            # Re-parented (to init or a subreaper): whoever wanted this server has exited.
            if os.getppid() != parent:
                return "parent exited"
        return self.reason


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jupyterlab_smallfry.tests.s3_server",
        description="Start a private S3 server on 127.0.0.1; print its endpoint and keys as "
        "one JSON line; stop it on SIGTERM or SIGINT.",
    )
    parser.add_argument("--kind", choices=sorted(KINDS), default="moto", help="default: moto")
    args = parser.parse_args(argv)
    parent = os.getppid()
    signals = _StopSignals()
    try:
        with start(args.kind) as endpoint:
            print(json.dumps(endpoint.as_json()), flush=True)
            why = signals.wait(parent)
            print(f"s3_server: stopping {args.kind} ({why})", file=sys.stderr, flush=True)
    except _Stopped as stopped:
        print(f"s3_server: stopped while starting {args.kind} ({stopped})", file=sys.stderr)
        return 1
    except (OSError, RuntimeError) as err:  # a server that would not start: say why
        print(f"s3_server: could not start {args.kind}: {err}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
