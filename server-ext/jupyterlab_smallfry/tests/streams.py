"""Large request bodies made on the fly, and a sampler of a process's memory."""

from __future__ import annotations

import hashlib
import threading
import time

import psutil

MiB = 1024 * 1024


class PatternBody:
    """A file-like body of ``size`` bytes generated while it is read (nothing held in memory).

    Having ``__len__`` makes HTTP clients send a Content-Length and stream it with ``read``.
    """

    def __init__(self, size: int, seed: bytes = b"smallfry"):
        self.size = size
        self.sent = 0
        self.sha256 = hashlib.sha256()
        self._block = hashlib.sha256(seed).digest() * (MiB // 32)

    def __len__(self) -> int:
        return self.size

    def read(self, amount: int = -1) -> bytes:
        left = self.size - self.sent
        amount = left if amount is None or amount < 0 else min(amount, left)
        pieces = []
        while amount > 0:
            start = self.sent % len(self._block)
            piece = self._block[start : start + amount]
            pieces.append(piece)
            self.sent += len(piece)
            amount -= len(piece)
        chunk = b"".join(pieces)
        self.sha256.update(chunk)
        return chunk


class PeakMemory:
    """Samples a process's resident memory in a thread; ``growth`` is peak minus start."""

    def __init__(self, pid: int, interval: float = 0.02):
        self._proc = psutil.Process(pid)
        self._interval = interval
        self.start = self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(self._interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.start
