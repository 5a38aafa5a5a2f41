"""A real place for notifications to land: an HTTP receiver and an SMTP server (aiosmtpd).

Both listen on 127.0.0.1 and record what arrives, in order:

- HTTP: ``{"kind": "http", "method", "path", "headers", "body"}`` (``body`` is the parsed
  JSON, or the text when it is not JSON). Any path answers 200, except ``/status/<code>/…``,
  which answers ``<code>`` (a receiver that fails, for the error paths).
- SMTP: ``{"kind": "smtp", "from", "to", "subject", "body", "headers"}``.

In pytest: ``with NotifyReceiver() as rx:`` then ``rx.http_url``, ``rx.smtp_port`` and
``rx.wait_for(1)``. As a program, for the Galata and Airflow tests::

    python -m jupyterlab_smallfry.tests.notify_receiver --http-port P --smtp-port Q --out FILE

appends one JSON line per message to FILE and prints one ready line
(``{"ready": true, "http": "http://127.0.0.1:P", "smtp_port": Q}``) once both listen; it
stops on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from .processes import free_port

_MAX_BODY = 1024 * 1024


class NotifyReceiver:
    """An HTTP receiver and an SMTP server on free (or given) 127.0.0.1 ports."""

    def __init__(self, http_port: int = 0, smtp_port: int = 0, out: str | None = None):
        self._http_port = http_port
        self.smtp_port = smtp_port or free_port()
        self._out = out
        self._cond = threading.Condition()
        self.messages: list[dict] = []
        self._http: ThreadingHTTPServer | None = None
        self._smtp = None

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:<port>`` (append any path)."""
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def record(self, message: dict) -> None:
        with self._cond:
            self.messages.append(message)
            if self._out:
                with open(self._out, "a", encoding="utf-8") as out:
                    out.write(json.dumps(message) + "\n")
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 30, kind: str | None = None) -> list[dict]:
        """The messages (of ``kind``, if given) once there are at least ``count``; raises
        TimeoutError with what did arrive otherwise."""

        def matching():
            return [m for m in self.messages if kind is None or m["kind"] == kind]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                raise TimeoutError(f"{len(matching())} of {count} messages arrived")
            return matching()

    def start(self) -> NotifyReceiver:
        from aiosmtpd.controller import Controller

        self._http = ThreadingHTTPServer(("127.0.0.1", self._http_port), _handler_for(self))
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        self._smtp = Controller(_SmtpHandler(self), hostname="127.0.0.1", port=self.smtp_port)
        self._smtp.start()
        return self

    def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _handler_for(receiver: NotifyReceiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
            raw = self.rfile.read(length).decode("utf-8", "replace")
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
            receiver.record(
                {
                    "kind": "http",
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
            parts = self.path.split("/")
            code = (
                int(parts[2])
                if len(parts) > 2 and parts[1] == "status" and parts[2].isdigit()
                else 200
            )
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_PUT = do_POST

        def log_message(self, *args):  # quiet: the tests read the records instead
            pass

    return Handler


class _SmtpHandler:
    def __init__(self, receiver: NotifyReceiver):
        self._receiver = receiver

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        part = parsed.get_body(preferencelist=("plain",)) if parsed.is_multipart() else parsed
        self._receiver.record(
            {
                "kind": "smtp",
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "subject": str(parsed.get("Subject", "")),
                "body": (part.get_content() if part is not None else "").replace("\r\n", "\n"),
                "headers": {k.lower(): str(v) for k, v in parsed.items()},
            }
        )
        return "250 Message accepted for delivery"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--smtp-port", type=int, default=0)
    parser.add_argument("--out", required=True, help="append one JSON line per message here")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with NotifyReceiver(args.http_port, args.smtp_port, args.out) as receiver:
        ready = {"ready": True, "http": receiver.http_url, "smtp_port": receiver.smtp_port}
        print(json.dumps(ready), flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
