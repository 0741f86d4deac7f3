"""Body caps: refuse an oversized body with 413 before it is read whole.

The cap follows the request media types the operation's contract declares, not
the request's own `Content-Type`, which the caller controls: a JSON operation
keeps the JSON cap however its body is labelled (it would answer 415 anyway,
after reading the body). Only an operation declaring both kinds picks by the
label. A declared `Content-Length` over the cap is refused before any byte is
read; a chunked body is counted as it streams and refused the moment it
crosses.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope

from core.settings import Settings
from gateway.contract import Contract
from gateway.problems import Problem


def _declared_media_types(contract: Contract, operation_id: str) -> list[str]:
    body: dict[str, Any] = contract.document_operation(operation_id).get("requestBody", {})
    if "$ref" in body:  # '#/components/requestBodies/<name>'
        body = contract.document["components"]["requestBodies"][body["$ref"].rsplit("/", 1)[1]]
    return [media_type.lower() for media_type in body.get("content", {})]


def body_cap(settings: Settings, contract: Contract, operation_id: str, headers: Headers) -> int:
    """The most bytes this operation's body may have, by the request media types its contract declares."""
    declared = _declared_media_types(contract, operation_id)
    uploads = [media_type for media_type in declared if media_type.startswith("multipart/")]
    labelled_upload = headers.get("content-type", "").lower().startswith("multipart/")
    if uploads and (len(uploads) == len(declared) or labelled_upload):
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
