"""The authorization server's HTTP surface, outside `/api/v2` (described by `openapi/oauth.yaml`).

Its endpoints answer RFC 6749/7591/7009 `{"error", "error_description"}` JSON (their clients parse that), not
problem+json, and the browser-facing consent page answers HTML.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from gateway.oauth import authorization, discovery, registration, token_endpoint
from gateway.oauth.cors import CorsMiddleware
from gateway.oauth.resources import OAuthServer
from gateway.oauth.responses import oauth_error

# Paths the gateway hands to this app instead of the REST app.
PREFIXES = ("/oauth/", "/.well-known/oauth-", "/.well-known/openid-configuration")


def is_oauth_path(path: str) -> bool:
    return path.startswith(PREFIXES)


async def _http_error(request: Request, exc: Exception) -> Response:
    # Starlette's own answers (no route, wrong method) are plain text: these clients parse JSON.
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        error, description = "method_not_allowed", f"{request.method} is not allowed here."
    elif exc.status_code == 404:
        error, description = "not_found", "No OAuth endpoint at this path."
    else:
        error, description = "invalid_request", str(exc.detail)
    return oauth_error(error, description, exc.status_code, exc.headers)


async def _crash(request: Request, exc: Exception) -> Response:
    # Starlette re-raises the exception after this answer, so the server still logs it.
    return oauth_error("server_error", "The server failed to answer; try again later.", 500)


def oauth_app(server: OAuthServer) -> Starlette:
    routes: list[BaseRoute] = [
        *discovery.routes(server),
        *registration.routes(server),
        *authorization.routes(server),
        *token_endpoint.routes(server),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(CorsMiddleware)],
        exception_handlers={HTTPException: _http_error, Exception: _crash},
    )
