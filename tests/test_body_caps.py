"""Body caps: oversized bodies are refused with 413 before they are read whole."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.app import create_app
from tests.conftest import PROBE_SPEC, Caller, LiveServer

KEYS = "/api/v2/api-keys"


def test_declared_length_over_the_json_cap_is_413(client: TestClient, caller: Caller) -> None:
    body = b'{"name": "' + b"x" * (130 * 1024) + b'", "scopes": ["meta:read"]}'

    response = client.post(KEYS, headers={**caller.headers, "Content-Type": "application/json"}, content=body)

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_chunked_body_over_the_cap_is_413(client: TestClient, caller: Caller) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(200):
            yield b"x" * 1024
        yield b'", "scopes": ["meta:read"]}'

    response = client.post(KEYS, headers={**caller.headers, "Content-Type": "application/json"}, content=chunks())

    assert response.status_code == 413


def test_body_just_under_the_cap_is_read(client: TestClient, caller: Caller) -> None:
    body = b'{"name": "' + b"x" * (120 * 1024) + b'", "scopes": ["meta:read"]}'

    response = client.post(KEYS, headers={**caller.headers, "Content-Type": "application/json"}, content=body)

    assert response.status_code == 400  # read and validated: the name is longer than 200 characters
    assert response.json()["errors"][0]["pointer"] == "/name"


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_200_mib_chunked_upload_is_refused_with_flat_memory(live_server: LiveServer) -> None:
    address = urlsplit(live_server.url)
    before = _rss_bytes(live_server.pid)
    chunk = b"x" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(
            f"POST {KEYS} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: Bearer {live_server.api_key}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            while sent < 200 * 1024 * 1024:
                connection.sendall(framed)
                sent += len(chunk)
            connection.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed while we were still sending: what we want
        connection.settimeout(10)
        answer = b""
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            try:
                data = connection.recv(65536)
            except OSError:
                break
            if not data:
                break
            answer += data

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer
    assert _rss_bytes(live_server.pid) - before < 32 * 1024 * 1024


def test_chunked_body_within_the_cap_is_read(client: TestClient, caller: Caller) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "chunked", '
        yield b'"scopes": ["meta:read"]}'

    response = client.post(KEYS, headers={**caller.headers, "Content-Type": "application/json"}, content=chunks())

    assert response.status_code == 201
    assert response.json()["name"] == "chunked"


def test_upload_caps_come_from_configuration_per_operation(database_url: str) -> None:
    settings = Settings(database_url=database_url, upload_limits={"probe.upload": 1024})
    with TestClient(create_app(settings, spec_path=PROBE_SPEC, handler_package="tests.probe")) as probe:
        small = probe.post("/api/v2/upload", files={"file": ("a.txt", b"x" * 512)})
        large = probe.post("/api/v2/upload", files={"file": ("a.txt", b"x" * 4096)})

    assert small.status_code == 200
    assert large.status_code == 413
    assert "1024 bytes" in large.json()["detail"]


@pytest.mark.parametrize("idempotent", [False, True])
def test_a_json_operation_labelled_multipart_keeps_the_json_cap(
    client: TestClient, caller: Caller, idempotent: bool
) -> None:
    headers = {**caller.headers, "Content-Type": "multipart/form-data; boundary=x"}
    if idempotent:
        headers["Idempotency-Key"] = "labelled-multipart"

    declared = client.post(KEYS, headers=headers, content=b"x" * (1024 * 1024))
    chunked = client.post(KEYS, headers=headers, content=iter([b"x" * (512 * 1024)] * 2))

    assert declared.status_code == 413
    assert declared.json()["code"] == "payload_too_large"
    assert f"{128 * 1024} bytes" in declared.json()["detail"]
    # Without a length: a kept request reads its body first, and stops at the JSON cap; the other is refused for
    # its media type before a byte is read.
    assert chunked.status_code == (413 if idempotent else 415)


def test_an_upload_operation_labelled_json_keeps_its_upload_cap(database_url: str) -> None:
    settings = Settings(database_url=database_url, upload_limits={"probe.upload": 1024})
    with TestClient(create_app(settings, spec_path=PROBE_SPEC, handler_package="tests.probe")) as probe:
        small = probe.post("/api/v2/upload", headers={"Content-Type": "application/json"}, content=b"x" * 512)
        large = probe.post("/api/v2/upload", headers={"Content-Type": "application/json"}, content=b"x" * 4096)

    assert small.status_code == 415
    assert large.status_code == 413
    assert "1024 bytes" in large.json()["detail"]
