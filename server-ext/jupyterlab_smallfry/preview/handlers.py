"""``GET /smallfry/preview?uri=s3://bucket/key`` (or ``?path=<local path>``) ``&rows=1000``.

Thin: parse the query, open the source (the S3 object with the user's keys, exactly as the
gateway reads it, or a file under the contents root), and read it in the preview's own small
thread pool, so pyarrow never blocks the event loop and at most a few previews hold memory
at once.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from concurrent.futures import ThreadPoolExecutor

import tornado.web
from jupyter_server.base.handlers import APIHandler

from .errors import PreviewError
from .readers import preview
from .sources import S3Reader, open_local, parse_s3_uri

DEFAULT_ROWS = 1000
MAX_ROWS = 10_000
#: Previews read at the same time; more wait their turn (each holds at most a few MiB).
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="smallfry-preview")


class PreviewHandler(APIHandler):
    """The schema, metadata and first rows of one tabular object, as JSON."""

    @tornado.web.authenticated
    async def get(self):
        uri = self.get_query_argument("uri", "")
        path = self.get_query_argument("path", "")
        rows = _rows(self.get_query_argument("rows", str(DEFAULT_ROWS)))
        if bool(uri) == bool(path):
            raise PreviewError(400, "give either uri=s3://bucket/key or path=<local path>", "uri")
        if importlib.util.find_spec("pyarrow") is None:
            raise PreviewError(
                501,
                "The table preview needs pyarrow on the Jupyter server: "
                "pip install 'jupyterlab-smallfry[lake]'",
            )
        loop = asyncio.get_running_loop()
        if uri:
            target = parse_s3_uri(uri)
            reader = S3Reader(self.settings["smallfry"], loop)
            answer = await loop.run_in_executor(_POOL, _read, reader.open, target, target.key, rows)
            answer = {"uri": target.uri, "path": None, **answer}
        else:
            root = self.contents_manager.root_dir
            answer = await loop.run_in_executor(
                _POOL, _read, lambda p: open_local(root, p), path, path, rows
            )
            answer = {"uri": None, "path": path, **answer}
        self.finish(json.dumps(answer, allow_nan=False))

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, PreviewError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(exc.to_json()))
            return
        super().write_error(status_code, **kwargs)

    def send_error(self, status_code=500, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, PreviewError):
            status_code = exc.status
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ, value, tb):
        if isinstance(value, PreviewError):
            self.log.info("Small Fry preview: %s %s", value.status, value)
            return
        super().log_exception(typ, value, tb)


def _read(open_source, target, name: str, rows: int) -> dict:
    source = open_source(target)
    try:
        return preview(source, name, rows)
    finally:
        source.close()


def _rows(text: str) -> int:
    try:
        rows = int(text)
    except ValueError:
        rows = -1
    if not 0 <= rows <= MAX_ROWS:
        raise PreviewError(400, f"rows must be a whole number from 0 to {MAX_ROWS}", "rows")
    return rows
