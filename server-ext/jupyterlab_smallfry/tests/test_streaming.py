"""Large bodies stream through the gateway: the Jupyter server's memory stays flat."""

from __future__ import annotations

import hashlib
import time

from .streams import MiB, PatternBody, PeakMemory

SIZE = 200 * MiB
#: Allowed growth of the server's resident memory while 200 MB pass through it each way.
MEMORY_BOUND = 48 * MiB


def test_200_mb_streams_up_and_down_with_flat_memory(server, http, direct_s3, bucket):
    url = f"{server.url}smallfry/aws/s3/{bucket}/big/200MB.bin"
    http.get(f"{server.url}smallfry/config")  # warm up the server before measuring
    body = PatternBody(SIZE)
    with PeakMemory(server.proc.pid) as upload_memory:
        response = http.put(url, data=body, headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 200, response.text
    head = direct_s3.head_object(Bucket=bucket, Key="big/200MB.bin")
    assert head["ContentLength"] == SIZE

    digest = hashlib.sha256()
    received = 0
    with PeakMemory(server.proc.pid) as download_memory, http.get(url, stream=True) as response:
        assert response.status_code == 200
        for chunk in response.iter_content(MiB):
            digest.update(chunk)
            received += len(chunk)
    assert received == SIZE
    assert digest.hexdigest() == body.sha256.hexdigest()
    print(
        f"server memory growth: upload {upload_memory.growth / MiB:.1f} MiB, "
        f"download {download_memory.growth / MiB:.1f} MiB for {SIZE // MiB} MiB each way"
    )
    assert upload_memory.growth < MEMORY_BOUND
    assert download_memory.growth < MEMORY_BOUND


def test_a_slow_reader_does_not_make_the_server_buffer(server, http, direct_s3, bucket):
    """The browser reads slower than S3 sends: the gateway must wait, not pile bytes up."""
    size = 160 * MiB
    direct_s3.upload_fileobj(PatternBody(size, seed=b"slow"), bucket, "slow.bin")
    received = 0
    url = f"{server.url}smallfry/aws/s3/{bucket}/slow.bin"
    with PeakMemory(server.proc.pid) as memory, http.get(url, stream=True) as response:
        for chunk in response.iter_content(256 * 1024):
            received += len(chunk)
            time.sleep(0.002)  # ~125 MiB/s at most: far slower than moto on loopback
    assert received == size
    assert memory.growth < MEMORY_BOUND


def test_an_upload_cut_off_midway_stores_nothing_and_frees_the_request(
    server, http, direct_s3, bucket
):
    """The browser tab closes during an upload: no partial object, the server carries on."""
    import socket

    host, port = server.url.split("//")[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            (
                f"PUT /smallfry/aws/s3/{bucket}/cut.bin HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: token {server.token}\r\nContent-Length: {100 * MiB}\r\n\r\n"
            ).encode()
        )
        sock.sendall(b"x" * (10 * MiB))
    deadline = time.monotonic() + 20
    while "went away during a s3 upload" not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "went away during a s3 upload" in server.log_text()
    assert "cut.bin" not in [
        o["Key"] for o in direct_s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    ]
    assert http.get(f"{server.url}smallfry/aws/s3/{bucket}?list-type=2").status_code == 200
