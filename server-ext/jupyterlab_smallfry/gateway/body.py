"""A bounded pipe that carries a request body from tornado to the upstream client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator


class BodyPipe:
    """Chunks go in as tornado reads them and come out as the upstream connection sends them.

    The pipe holds at most ``depth`` chunks: when S3 reads slower than the browser sends,
    ``put`` waits, tornado stops reading the socket, and the browser is slowed down. That is
    what keeps the server's memory flat during a multi-GB upload.
    """

    def __init__(self, depth: int = 4):
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=depth)
        self._abandoned = False

    async def put(self, chunk: bytes) -> None:
        if self._abandoned:
            return  # upstream gave up (error answer); drain the rest of the body quietly
        await self._queue.put(chunk)

    async def close(self) -> None:
        if not self._abandoned:
            await self._queue.put(None)

    def abandon(self) -> None:
        """The consumer is gone: stop accepting chunks and unblock a waiting ``put``."""
        self._abandoned = True
        while not self._queue.empty():
            self._queue.get_nowait()

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while (chunk := await self._queue.get()) is not None:
                yield chunk
        finally:
            self.abandon()
