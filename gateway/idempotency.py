"""Idempotent writes: replay the first answer to a repeated `Idempotency-Key` of the same caller.

The key is claimed in the database before the handler runs; the response is
captured as it is sent and kept (`storage.idempotency.RETENTION`) if it is a 2xx or 4xx. A 5xx or a
crash releases the key so the client can retry. The kept body is sealed with
the instance key (it may hold a new API key's secret), bound to its row.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from anyio import to_thread
from python_multipart.multipart import parse_options_header
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.failures import FieldError
from core.secrets import InstanceKey, UnreadableSeal
from gateway.contract import IDEMPOTENCY_HEADER
from gateway.problems import Problem
from gateway.validation import AllParametersValidator
from storage import idempotency
from storage.database import session_scope
from storage.models import utcnow

# Only these describe the stored answer; request ids and rate-limit fields belong to each request.
_KEPT_HEADERS = ("content-type", "location")


def fingerprint(method: str, path: str, body: bytes, content_type: str | None = None) -> str:
    """What makes two requests "the same" for one key: method, path and body bytes.

    A multipart body is compared without its boundary: clients pick a new random
    one for every request, so a retry of the same upload would otherwise differ.
    """
    _, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if boundary:
        body = body.replace(b"--" + boundary, b"--boundary")
    digest = hashlib.sha256()
    digest.update(json.dumps([method, path]).encode())
    digest.update(body)
    return digest.hexdigest()


_SWEEP_EVERY_SECONDS = 60.0
# Per process, so a sweep runs about once a minute per process rather than on every write.
_next_sweep = 0.0


def _sweep_now_and_then(session: Session) -> None:
    global _next_sweep
    if time.monotonic() >= _next_sweep:
        _next_sweep = time.monotonic() + _SWEEP_EVERY_SECONDS
        idempotency.sweep_expired(session, utcnow())


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages, chunks = [], []
    while True:
        message = await receive()
        messages.append(message)
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return b"".join(chunks), messages


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = iter(messages)

    async def replay() -> Message:
        return next(pending, None) or await receive()

    return replay


async def run_idempotently(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    parameter: dict[str, Any],
    database_url: str,
    owner: idempotency.Owner,
    instance_key: InstanceKey,
    render_failure: Callable[[Exception], Response],
) -> None:
    """Run the request at most once per caller and key; answer repeats from the stored response.

    `parameter` is the operation's declared `Idempotency-Key` header: the key is
    checked against it here, before the claim, because request validation runs
    later, inside what the claim protects.
    """
    key = Headers(scope=scope)[IDEMPOTENCY_HEADER]
    invalid = AllParametersValidator.validate_parameter("header", key, parameter)
    if invalid:
        raise Problem(
            "validation_error",
            f"{IDEMPOTENCY_HEADER}: {invalid}",
            errors=[FieldError(invalid, parameter=IDEMPOTENCY_HEADER)],
        )
    body, messages = await _read_body(receive)
    content_type = Headers(scope=scope).get("content-type")
    request_fingerprint = fingerprint(scope["method"], scope["path"], body, content_type)

    def claim() -> idempotency.Claim:
        with session_scope(database_url) as session:
            _sweep_now_and_then(session)
            return idempotency.claim(session, owner, key, request_fingerprint, utcnow())

    claimed = await to_thread.run_sync(claim)
    if claimed.outcome is idempotency.Outcome.reused:
        raise Problem("idempotency_key_reused", "This Idempotency-Key was used with another method, path or body.")
    if claimed.outcome is idempotency.Outcome.in_flight:
        raise Problem(
            "idempotency_key_in_use",
            "A request with this Idempotency-Key is still in flight.",
            headers={"Retry-After": str(claimed.retry_after)},
        )
    record_id = claimed.record_id
    assert record_id is not None
    if claimed.stored is not None:
        stored = claimed.stored
        try:
            body = instance_key.unseal(stored.body, record_id.bytes)
        except UnreadableSeal:
            raise Problem(
                "idempotency_key_reused",
                "The answer kept for this Idempotency-Key can no longer be read (the instance key changed); "
                "send the request with a new key.",
            ) from None
        replay = Response(body, stored.status, headers={**stored.headers, "Idempotent-Replayed": "true"})
        await replay(scope, receive, send)
        return
    await _run_and_keep(
        app,
        scope,
        _replaying(messages, receive),
        send,
        database_url,
        record_id,
        lambda body: instance_key.seal(body, record_id.bytes),
        render_failure,
    )


async def _run_and_keep(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    database_url: str,
    record_id: uuid.UUID,
    seal: Callable[[bytes], bytes],
    render_failure: Callable[[Exception], Response],
) -> None:
    status = 0
    kept_headers: dict[str, str] = {}
    body = bytearray()

    async def capture(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for name, value in Headers(raw=message["headers"]).items():
                if name in _KEPT_HEADERS:
                    kept_headers[name] = value
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
        await send(message)

    try:
        await app(scope, receive, capture)
    except Exception as exc:  # noqa: BLE001 - rendered here so a 4xx answer is kept like any other
        await render_failure(exc)(scope, receive, capture)

    def keep() -> None:
        with session_scope(database_url) as session:
            if 200 <= status < 500:
                idempotency.complete(session, record_id, status, kept_headers, seal(bytes(body)))
            else:
                idempotency.release(session, record_id)

    await to_thread.run_sync(keep)
