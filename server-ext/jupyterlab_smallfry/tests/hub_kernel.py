"""Run code in a real kernel of a Jupyter server, over its REST API and kernel websocket;
and ask for keys the way the kernels' ``credential_process`` helper does.

What a notebook cell does, minus the browser: the kernel is started by the server, so it gets
exactly the environment the server gives kernels (the managed AWS profile included).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shlex
import uuid
from pathlib import Path

import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


async def run_in_kernel(
    base_url: str, token: str, code: str, timeout: float = 120, notebook: str | None = None
) -> dict:
    """Start a python3 kernel, run ``code``, shut it down; returns ``{"stdout", "error"}``.

    ``notebook``: start the kernel the way JupyterLab 4 does for a notebook at that contents
    path (a session at "<folder>/<random id>" named after the notebook), not a bare kernel.
    """
    headers = {"Authorization": f"token {token}"}
    if notebook is None:
        kernel = await asyncio.to_thread(
            requests.post,
            f"{base_url}api/kernels",
            json={"name": "python3"},
            headers=headers,
            timeout=60,
        )
        kernel.raise_for_status()
        kernel_id = kernel.json()["id"]
    else:
        session = await asyncio.to_thread(
            requests.post,
            f"{base_url}api/sessions",
            json={
                "path": f"{notebook.rpartition('/')[0]}/{uuid.uuid4()}",
                "name": notebook.rpartition("/")[2],
                "type": "notebook",
                "kernel": {"name": "python3"},
            },
            headers=headers,
            timeout=60,
        )
        session.raise_for_status()
        kernel_id = session.json()["kernel"]["id"]
    session = uuid.uuid4().hex
    ws_url = (
        base_url.replace("http", "ws", 1) + f"api/kernels/{kernel_id}/channels?session_id={session}"
    )
    try:
        conn = await websocket_connect(
            HTTPRequest(ws_url, headers=headers, request_timeout=timeout)
        )
        msg_id = uuid.uuid4().hex
        conn.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": "test",
                        "session": session,
                        "msg_type": "execute_request",
                        "version": "5.3",
                        "date": dt.datetime.now(dt.timezone.utc).isoformat(),
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        stdout, error = [], None
        deadline = dt.datetime.now() + dt.timedelta(seconds=timeout)
        while dt.datetime.now() < deadline:
            raw = await conn.read_message()
            if raw is None:
                break
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                stdout.append(msg["content"]["text"])
            elif kind == "error":
                error = f"{msg['content']['ename']}: {msg['content']['evalue']}"
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                break
        conn.close()
        return {"stdout": "".join(stdout), "error": error}
    finally:
        await asyncio.to_thread(
            requests.delete, f"{base_url}api/kernels/{kernel_id}", headers=headers, timeout=30
        )


#: The header in which the helper presents the kernel secret (the wire contract, spelled out
#: here so the tests do not take it from the code they check).
KERNEL_SECRET_HEADER = "X-Smallfry-Kernel-Secret"


def server_info_path(profile: dict) -> Path:
    """The ``server.json`` named by the managed profile (``profile`` as in the status JSON)."""
    line = next(x for x in profile["snippet"].splitlines() if x.startswith("credential_process"))
    command = shlex.split(line.partition("=")[2])
    return Path(command[command.index("--server-info") + 1])


def ask_as_kernel_helper(info: Path, secret: str | None = None, **kwargs) -> requests.Response:
    """``GET /smallfry/credentials/process`` as the helper does: the URL and kernel secret
    from ``server.json`` (or ``secret`` instead), nothing else."""
    saved = json.loads(Path(info).read_text())
    return requests.get(
        saved["url"].rstrip("/") + "/smallfry/credentials/process",
        headers={KERNEL_SECRET_HEADER: saved["secret"] if secret is None else secret},
        timeout=60,
        **kwargs,
    )


def helper_env() -> dict:
    """An environment for running the helper by hand: no AWS or JupyterHub variables, and
    this source tree's package."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTERHUB_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env
