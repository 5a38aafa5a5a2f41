"""A stand-in for the JupyterHub REST API, for server tests that need one Hub state at a time.

It implements the documented contract Small Fry relies on (and which the real-Hub end-to-end
test checks against JupyterHub itself): ``GET /hub/api/users/<name>`` answers the owner's
token with ``auth_state`` when the token holds ``admin:auth_state!user``; without the scope
the key is missing; a user without stored state gets ``null``; another user's name is 404.
Switching between those states needs a Hub restart with another config, which is why the
error-state tests use this instead. ``id_tokens`` is a queue: each read hands out the next
token (the last one stays), as a Hub does when its refresh hook renews the id_token.
"""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeHub:
    def __init__(self, owner: str, token: str):
        self.owner = owner
        self.token = token
        self.mode = "ok"  # ok | no-scope | null | no-id-token | refuse | down
        self.id_tokens: list[str] = []
        self.extra_state: dict = {}
        self.reads = 0
        self.url = ""

    @property
    def api_url(self) -> str:
        return f"{self.url}/hub/api"

    def answer(self, path: str, auth: str) -> tuple[int, dict]:
        if auth != f"token {self.token}":
            return 403, {"status": 403, "message": "Missing or invalid credentials"}
        if path != f"/hub/api/users/{self.owner}":
            return 404, {"status": 404, "message": "No such user"}
        self.reads += 1
        if self.mode == "refuse":
            return 401, {"status": 401, "message": "Invalid token"}
        model = {"kind": "user", "name": self.owner, "groups": [], "admin": False}
        if self.mode == "no-scope":
            return 200, model
        if self.mode == "null":
            return 200, {**model, "auth_state": None}
        token = self.id_tokens[0] if len(self.id_tokens) == 1 else self.id_tokens.pop(0)
        state = {
            "access_token": "opaque-access-token",
            "refresh_token": "REFRESH-TOKEN-must-never-leak",
            "id_token": token,
            "scope": ["openid", "profile"],
            **self.extra_state,
        }
        if self.mode == "no-id-token":
            del state["id_token"]
        return 200, {**model, "auth_state": state}


@contextlib.contextmanager
def fake_hub(owner: str, token: str):
    hub = FakeHub(owner, token)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if hub.mode == "down":
                self.connection.close()  # like a Hub that is restarting
                return
            status, body = hub.answer(self.path, self.headers.get("Authorization", ""))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hub.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
