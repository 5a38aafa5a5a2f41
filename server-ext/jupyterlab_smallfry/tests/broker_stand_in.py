"""A stand-in for the Small Fry broker's ``POST /credentials``, for tests of broker mode.

It answers every POST with the JSON an ``answer()`` callable returns (keys, expiry, identity),
so a test decides the keys (fixed ones, or a real AssumeRole at moto) without a Hub service.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextlib.contextmanager
def broker_answering(answer: Callable[[], dict], seen: list | None = None) -> Iterator[str]:
    """Serve on 127.0.0.1; yield the base URL. ``seen`` collects each request's Authorization."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if seen is not None:
                seen.append(self.headers.get("Authorization"))
            body = json.dumps(answer()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
