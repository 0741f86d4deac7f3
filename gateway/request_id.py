"""The outermost edge: the request id (a sane incoming `X-Request-Id` or a minted one) and the
headers inner layers ask to add to every response, error responses included."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-Id"
# Anything else (control characters, huge values) would be a log-injection
# vector, so it is replaced rather than echoed.
_SANE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")
_request_id: ContextVar[str] = ContextVar("request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


_EXTRA_HEADERS = "vaultgate.response_headers"


def add_response_headers(scope: Scope, headers: dict[str, str]) -> None:
    """Have `headers` on this request's response, whichever layer ends up answering."""
    scope.setdefault("extensions", {}).setdefault(_EXTRA_HEADERS, {}).update(headers)


class RequestIdMiddleware:
    """Outermost middleware, so even a crash below it answers with the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(HEADER, "")
        request_id = incoming if _SANE.match(incoming) else new_request_id()
        token = _request_id.set(request_id)
        extra: dict[str, str] = {}
        scope.setdefault("extensions", {})[_EXTRA_HEADERS] = extra

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[HEADER] = request_id
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)
