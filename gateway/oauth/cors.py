"""CORS for the authorization server's machine endpoints, so browser-based clients can discover, register and
exchange codes (the MCP authorization spec expects it); never for the consent page.

Every origin is allowed and no credentials ever are: these endpoints authenticate by what the request carries
(a code and verifier, a client secret, a registration token), never by cookies, so a page on another origin
gains nothing it could not do from a server.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The consent page is a browser page of this origin (and its form is CSRF-protected): no other origin reads it.
WITHOUT_CORS = frozenset({"/oauth/authorize"})
ALLOW_ORIGIN = "*"
ALLOW_METHODS = "GET, POST, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type, MCP-Protocol-Version"
# Read by a browser client: the challenge of a 401, and when to retry a 429.
EXPOSE_HEADERS = "WWW-Authenticate, Retry-After"
PREFLIGHT_MAX_AGE = "86400"


class CorsMiddleware:
    """Answers preflights (204) and marks every other answer readable by any origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in WITHOUT_CORS:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            headers = [
                (b"access-control-allow-origin", ALLOW_ORIGIN.encode()),
                (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = ALLOW_ORIGIN
                headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)
