"""``progress.json`` beside a run's ``run.json``: which cell runs, for how long, its last output.

The Jobs panel polls it while a run is ``running`` (one GET by key, never a LIST), so a run
shows *cell i of n*, the elapsed time and the last lines of output on any executor (the
server's child, an Airflow worker, a pod): the runner writes it itself, from papermill's
per-cell hooks (:mod:`.engine`).

Writes go through the run's :class:`~.store.Storage` on a background thread, so the notebook
never waits on S3: one at each cell start, at most one every :data:`THROTTLE_SECONDS` while
output arrives, and a last one with ``state: done`` from :meth:`Progress.finish`. A failed
write is logged and forgotten: progress is a courtesy, the run must not fail for it.

The same thread tells the owner once when a run goes on longer than the spec's
``notifications.on_duration_over.seconds`` (:mod:`.notify`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time

from .store import Storage, dumps

log = logging.getLogger(__name__)

#: At most one write per this many seconds while output arrives.
THROTTLE_SECONDS = 2.0
#: Lines of output kept for the panel.
TAIL_LINES = 20
#: One line of output or of source is cut here (a progress bar can be one huge line).
MAX_LINE = 400
#: progress.json stays under this size (the panel polls it).
MAX_BYTES = 16 * 1024

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _line(text: str) -> str:
    text = _ANSI.sub("", text)
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def output_text(output) -> str:
    """The text a panel shows of one notebook output: streams, ``text/plain`` results,
    errors (their traceback, as the notebook shows it). Other outputs (images, HTML) none."""
    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
    elif kind == "execute_result":
        text = (output.get("data") or {}).get("text/plain", "")
    elif kind == "error":
        lines = output.get("traceback") or []
        text = "\n".join(lines) if lines else f"{output.get('ename')}: {output.get('evalue')}"
    else:
        return ""
    text = "".join(text) if isinstance(text, list) else str(text)
    return text


class Tail:
    """The last lines of a run's text output, as a terminal would show them: a stream chunk
    without a newline continues its line, a carriage return rewrites it (progress bars)."""

    def __init__(self, size: int = TAIL_LINES):
        self.size = size
        self.lines: list[str] = []
        self._open = False  # the last line has no newline yet

    def add(self, text: str, *, whole: bool = False) -> None:
        """Append ``text``; ``whole`` (results, errors) starts and ends on a line of its own."""
        if not text:
            return
        if whole:
            self._open = False
            text = text if text.endswith("\n") else text + "\n"
        parts = text.split("\n")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last and part == "":
                self._open = False
                break
            if i == 0 and self._open and self.lines:
                part = self.lines.pop() + part
            if "\r" in part:
                part = part.rstrip("\r").rsplit("\r", 1)[-1]
            self.lines.append(_line(part))
            self._open = last
        del self.lines[: -self.size * 2]  # room for open lines; trimmed on read

    def tail(self) -> list[str]:
        return self.lines[-self.size :]


class Progress:
    """The progress of one run, written to ``uri`` (``<run folder>/progress.json``).

    ``on_duration_over``: ``(seconds, callback)``; ``callback(elapsed)`` is called once, on
    the writer thread, when the run has taken longer than ``seconds``.
    """

    def __init__(
        self,
        storage: Storage,
        uri: str,
        *,
        started: dt.datetime,
        on_duration_over: tuple[float, object] | None = None,
        throttle: float = THROTTLE_SECONDS,
    ):
        self.storage, self.uri, self.throttle = storage, uri, throttle
        self.started = started
        self._clock0 = time.monotonic() - max(
            0.0, (dt.datetime.now(dt.timezone.utc) - started).total_seconds()
        )
        self.cells = 0
        self.cell = 0
        self.source_head = ""
        self.tail = Tail()
        self.state = "running"
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._urgent = False  # a cell started: write now
        self._dirty = False  # output arrived: write within the throttle
        self._last_write = 0.0
        self._stopping = False
        self._duration = on_duration_over
        self._thread: threading.Thread | None = None
        self._teller: threading.Thread | None = None

    @property
    def began(self) -> bool:
        """Whether the notebook started (and so the writer)."""
        return self._thread is not None

    # ---- called by the engine (the notebook's thread) -------------------------------

    def start(self, code_cells: int) -> None:
        """The notebook is about to run: ``code_cells`` code cells (with papermill's)."""
        with self._lock:
            self.cells = code_cells
            self._urgent = True
        self._thread = threading.Thread(target=self._run, name="smallfry-progress", daemon=True)
        self._thread.start()

    def cell_started(self, number: int, source: str) -> None:
        with self._lock:
            self.cell = number
            first = next((line for line in source.splitlines() if line.strip()), "")
            self.source_head = _line(first)
            self._urgent = True
            self._wake.notify()

    def output(self, output) -> None:
        text = output_text(output)
        if not text:
            return
        with self._lock:
            self.tail.add(text, whole=output.get("output_type") != "stream")
            self._dirty = True
            self._wake.notify()

    def finish(self) -> None:
        """Stop the writer and write ``state: done`` (whatever the run's outcome)."""
        with self._lock:
            self._stopping = True
            self.state = "done"
            self._wake.notify()
        # Short waits: a stopped run (SIGTERM) has 30 s to write everything.
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._teller is not None:
            self._teller.join(timeout=15)
        self._write()

    # ---- the writer thread ----------------------------------------------------------

    def elapsed(self) -> float:
        return time.monotonic() - self._clock0

    def snapshot(self) -> dict:
        """The document as it is now (under the lock)."""
        doc = {
            "state": self.state,
            "cell": self.cell,
            "cells": self.cells,
            "started": _iso(self.started),
            "updated": _iso(dt.datetime.now(dt.timezone.utc)),
            "elapsed_seconds": round(self.elapsed(), 3),
            "cell_source_head": self.source_head,
            "output_tail": self.tail.tail(),
        }
        # Never more than MAX_BYTES: drop the oldest lines until it fits.
        while len(json.dumps(doc)) > MAX_BYTES - 256 and doc["output_tail"]:
            doc["output_tail"] = doc["output_tail"][1:]
        return doc

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopping:
                    now = time.monotonic()
                    due = self._urgent or (self._dirty and now - self._last_write >= self.throttle)
                    if due or self._duration_due():
                        break
                    waits = [1.0]
                    if self._dirty:
                        waits.append(self.throttle - (now - self._last_write))
                    if self._duration is not None:
                        waits.append(self._duration[0] - self.elapsed())
                    self._wake.wait(timeout=max(0.05, min(waits)))
                if self._stopping:
                    return
                write = self._urgent or self._dirty
            if self._duration_due():
                self._tell_duration_over()
            if write:
                self._write()

    def _duration_due(self) -> bool:
        return self._duration is not None and self.elapsed() >= self._duration[0]

    def _tell_duration_over(self) -> None:
        """Call the callback once, on a thread of its own: webhooks and mail servers may take
        their time, progress.json must not wait for them."""
        _, callback = self._duration
        self._duration = None  # once
        elapsed = self.elapsed()

        def tell() -> None:
            try:
                callback(elapsed)
            except Exception:  # telling must not stop the progress
                log.warning("Small Fry: the duration_over notification failed", exc_info=True)

        self._teller = threading.Thread(target=tell, name="smallfry-duration-over", daemon=True)
        self._teller.start()

    def _write(self) -> None:
        with self._lock:
            doc = self.snapshot()
            self._urgent = self._dirty = False
            self._last_write = time.monotonic()
        try:
            self.storage.write(self.uri, dumps(doc))
        except Exception as err:  # noqa: BLE001 - progress is a courtesy, never the run's end
            log.warning("Small Fry: writing %s failed: %s", self.uri, err)
