"""Body caps: refuse an oversized body with 413 before it is read whole.

A declared `Content-Length` over the cap is refused before any byte is read;
a chunked body is counted as it streams and refused the moment it crosses.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope

from gateway.problems import Problem
from gateway.settings import Settings


def body_cap(settings: Settings, operation_id: str, headers: Headers) -> int:
    """The most bytes this operation's body may have, by its content type."""
    if headers.get("content-type", "").lower().startswith("multipart/"):
        return settings.upload_limits.get(operation_id, settings.max_upload_bytes)
    return settings.max_json_body_bytes


def _too_large(cap: int) -> Problem:
    return Problem("payload_too_large", f"The body exceeds this operation's limit of {cap} bytes.")


def capped_receive(receive: Receive, scope: Scope, cap: int) -> Receive:
    headers = Headers(scope=scope)
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise _too_large(cap)
    seen = 0

    async def receive_within_cap() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                raise _too_large(cap)
        return message

    return receive_within_cap
