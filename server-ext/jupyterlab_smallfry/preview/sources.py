"""Where a preview reads bytes from: ranged reads of an S3 object, or a local file.

Both are a :class:`CountedFile`, a seekable raw file whose reads go through one ``fetch``
function and are counted. pyarrow and the text readers only ever see this object, so
``bytes_read`` in the answer is what really came from S3 (or the disk), not an estimate.

S3 reads are made exactly as the gateway makes them: the server's credential cache gives the
keys, :class:`~..gateway.endpoints.Endpoints` the URL (endpoint, addressing style, a bucket's
learned region) and :func:`~..gateway.signing.sign` the signature; the request goes out on the
server's pooled HTTP client, on the event loop, while the reading thread waits for it.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp
import yarl

from ..credentials import CredentialError
from ..gateway.signing import sign
from .errors import PreviewError

#: How long one ranged read may take before the preview gives up.
_READ_TIMEOUT = 120
_S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")


class CountedFile(io.RawIOBase):
    """A read-only, seekable file over ``fetch(offset, length) -> bytes``, counting bytes."""

    def __init__(self, name: str, size: int, fetch, on_close=None):
        super().__init__()
        self.name = name
        self.size = size
        #: Bytes that came back from S3 (or the disk), and in how many reads.
        self.bytes_read = 0
        self.requests = 0
        self._fetch = fetch
        self._on_close = on_close
        self._pos = 0

    def close(self) -> None:
        if not self.closed and self._on_close is not None:
            self._on_close()
        super().close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self._pos + size)
        if end <= self._pos:
            return b""
        data = self._fetch(self._pos, end - self._pos)
        self.bytes_read += len(data)
        self.requests += 1
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)


@dataclass(frozen=True)
class S3Object:
    """One ``s3://bucket/key``."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def raw_path(self) -> str:
        """The gateway-style raw path ``/bucket/key``, percent-encoded as the SDKs do."""
        return f"/{quote(self.bucket, safe='')}/{quote(self.key, safe='/~')}"


def parse_s3_uri(uri: str) -> S3Object:
    match = _S3_URI.match(uri or "")
    if not match:
        raise PreviewError(400, f"{uri!r} is not an s3://bucket/key URI of an object", "uri")
    return S3Object(match["bucket"], match["key"])


class S3Reader:
    """Signed ranged GETs of S3 objects, for code running in a worker thread."""

    def __init__(self, services, loop: asyncio.AbstractEventLoop):
        self._services = services
        self._loop = loop

    def open(self, obj: S3Object) -> CountedFile:
        """HEAD the object (its size), then a file whose reads are ranged GETs."""
        status, headers, _ = self._call("HEAD", obj, None)
        self._check(status, obj, b"")
        size = int(headers.get("Content-Length", "0"))

        def fetch(offset: int, length: int) -> bytes:
            status, _, body = self._call("GET", obj, f"bytes={offset}-{offset + length - 1}")
            self._check(status, obj, body)
            return body

        return CountedFile(obj.uri, size, fetch)

    def _call(self, method: str, obj: S3Object, range_header: str | None):
        future = asyncio.run_coroutine_threadsafe(
            self._request(method, obj, range_header), self._loop
        )
        return future.result(_READ_TIMEOUT)

    async def _request(self, method: str, obj: S3Object, range_header: str | None):
        services = self._services
        try:
            creds = await services.credential_cache.get()
        except CredentialError as err:
            raise PreviewError(403, str(err)) from None
        for attempt in (1, 2):
            upstream = services.endpoints.resolve("s3", obj.raw_path, "")
            headers = {"Host": yarl.URL(upstream.url, encoded=True).raw_authority}
            if range_header:
                headers["Range"] = range_header
            signed = sign(method, upstream.url, headers, creds, upstream.region, "s3", None)
            try:
                async with services.http.request(
                    method,
                    yarl.URL(upstream.url, encoded=True),
                    headers=signed,
                    allow_redirects=False,
                    auto_decompress=False,
                ) as response:
                    # As the gateway does: a bucket in another region answers with its region.
                    moved = services.endpoints.learn_region(
                        upstream, response.status, response.headers
                    )
                    if moved and attempt == 1:
                        continue
                    body = b"" if method == "HEAD" else await response.read()
                    return response.status, dict(response.headers), body
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as err:
                host = yarl.URL(upstream.url, encoded=True).raw_authority
                raise PreviewError(
                    502,
                    f"The S3 endpoint {host} is unreachable ({type(err).__name__}). "
                    "Check SmallFry.endpoint_url and the network.",
                ) from None
        raise PreviewError(502, f"{obj.uri}: S3 kept redirecting to another region")

    @staticmethod
    def _check(status: int, obj: S3Object, body: bytes) -> None:
        if status in (200, 206):
            return
        code, message = _s3_error(body)
        if status == 404:
            raise PreviewError(404, f"{obj.uri}: no such object ({code or 'NoSuchKey'})")
        if status == 403:
            raise PreviewError(
                403,
                f"Access denied reading {obj.uri}: your AWS identity needs s3:GetObject on "
                f"arn:aws:s3:::{obj.bucket}/{obj.key}" + (f" ({message})" if message else ""),
            )
        raise PreviewError(
            502, f"S3 answered {status} reading {obj.uri}: {code or ''} {message or ''}".strip()
        )


def _s3_error(body: bytes) -> tuple[str, str]:
    """S3's error ``Code`` and ``Message`` from an XML error body, if there is one."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return "", ""
    return root.findtext("Code") or "", (root.findtext("Message") or "")[:300]


def open_local(root: str, path: str) -> CountedFile:
    """A file under the server's contents root; ``..`` and symlinks out of it are refused."""
    if not path or "\x00" in path:
        raise PreviewError(400, "path names no file", "path")
    rel = path.lstrip("/")
    if any(part == ".." for part in rel.split("/")):
        raise PreviewError(403, f"{path}: '..' is not allowed in a path", "path")
    real_root = os.path.realpath(root)
    full = os.path.realpath(os.path.join(real_root, rel))
    if os.path.commonpath([real_root, full]) != real_root:
        raise PreviewError(403, f"{path} is outside the server's root folder", "path")
    if not os.path.isfile(full):
        raise PreviewError(404, f"{path}: no such file", "path")
    fd = os.open(full, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
    except OSError:
        os.close(fd)
        raise

    def fetch(offset: int, length: int) -> bytes:
        return os.pread(fd, length, offset)

    return CountedFile(path, size, fetch, on_close=lambda: os.close(fd))
