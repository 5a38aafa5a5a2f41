"""A token endpoint having a bad day: a real HTTP server process that answers every request
with an HTTP error status, or accepts the connection and never answers.

It stands in for an identity provider during an outage (a 503 from its load balancer, a 429
when it sheds load, a hang), which the real provider process cannot be made to do.

    python -m jupyterlab_smallfry.tests.oidc_provider_broken -p 9400 --status 503
    python -m jupyterlab_smallfry.tests.oidc_provider_broken -p 9400 --hang
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .processes import _stop, free_port, wait_for_url

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _serve_status(port: int, status: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            if self.path == "/ready":
                self.send_response(200)
                self.end_headers()
                return
            body = b"<html><body>Service Unavailable</body></html>"
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            if status in (429, 503):
                self.send_header("Retry-After", "30")
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def _serve_hang(port: int) -> None:
    # Accept and read, never answer; "/ready" alone is answered so the fixture can wait for it.
    listener = socket.create_server(("127.0.0.1", port))
    held = []

    def handle(conn):
        request = conn.recv(65536)
        if request.startswith(b"GET /ready "):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            conn.close()
        else:
            held.append(conn)

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


@contextlib.contextmanager
def broken_token_endpoint(status: int | None = None, hang: bool = False):
    """Start the process on 127.0.0.1; yields its token URL."""
    port = free_port()
    mode = ["--hang"] if hang else ["--status", str(status)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SOURCE, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab_smallfry.tests.oidc_provider_broken",
            "-p",
            str(port),
            *mode,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_url(f"{url}/ready", proc)
        yield f"{url}/oauth2/token"
    finally:
        _stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--status", type=int, default=503)
    parser.add_argument("--hang", action="store_true")
    args = parser.parse_args()
    if args.hang:
        _serve_hang(args.port)
    else:
        _serve_status(args.port, args.status)


if __name__ == "__main__":
    main()
