"""A real place for notifications to land: an HTTP receiver and an SMTP server (aiosmtpd).

Both listen on 127.0.0.1 and record what arrives, in order:

- HTTP: ``{"kind": "http", "method", "path", "headers", "body"}`` (``body`` is the parsed
  JSON, or the text when it is not JSON). Any path answers 200, except ``/status/<code>/…``,
  which answers ``<code>`` (a receiver that fails, for the error paths), and ``/redirect/…``,
  which redirects (302) to ``/redirected``.
- SMTP: ``{"kind": "smtp", "from", "to", "subject", "body", "headers", "login", "tls"}``
  (``login``: who authenticated, or None; ``tls``: whether the session was encrypted). With
  ``tls="starttls"`` or ``tls="ssl"`` and a ``cert`` (certificate and key files) the server
  requires STARTTLS or speaks TLS from the start; with ``logins`` it requires one of them.

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
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from .processes import free_port

_MAX_BODY = 1024 * 1024


class NotifyReceiver:
    """An HTTP receiver and an SMTP server on free (or given) 127.0.0.1 ports."""

    def __init__(
        self,
        http_port: int = 0,
        smtp_port: int = 0,
        out: str | None = None,
        *,
        tls: str | None = None,
        cert: tuple[str, str] | None = None,
        logins: dict[str, str] | None = None,
    ):
        if tls not in (None, "starttls", "ssl") or (tls and not cert):
            raise ValueError("tls is None, 'starttls' or 'ssl', and TLS needs a cert")
        self._tls, self._cert, self._logins = tls, cert, logins
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
        options: dict = {}
        if self._tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self._cert)
            if self._tls == "ssl":
                options["ssl_context"] = context
            else:
                options.update(tls_context=context, require_starttls=True)
        if self._logins is not None:
            options.update(
                authenticator=self._authenticate,
                auth_required=True,
                # aiosmtpd counts only STARTTLS as TLS; a TLS-from-the-start session is too.
                auth_require_tls=self._tls == "starttls",
            )
        self._smtp = Controller(
            _SmtpHandler(self), hostname="127.0.0.1", port=self.smtp_port, **options
        )
        self._smtp.start()
        return self

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            if self._logins.get(login) == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

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
            if parts[1:2] == ["redirect"]:
                code = 302
            self.send_response(code)
            if code == 302:
                self.send_header("Location", "/redirected")
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
                "login": session.auth_data if isinstance(session.auth_data, str) else None,
                # STARTTLS sets session.ssl; TLS from the start shows on the transport.
                "tls": session.ssl is not None
                or server.transport.get_extra_info("sslcontext") is not None,
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
