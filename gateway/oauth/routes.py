"""The authorization server's HTTP surface, outside `/api/v2` (described by `openapi/oauth.yaml`).

Its endpoints answer RFC 6749/7591/7009 `{"error", "error_description"}` JSON (their clients parse that), not
problem+json, and the browser-facing consent page answers HTML.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from gateway.oauth import authorization, discovery, registration
from gateway.oauth.resources import OAuthServer

# Paths the gateway hands to this app instead of the REST app.
PREFIXES = ("/oauth/", "/.well-known/oauth-", "/.well-known/openid-configuration")


def is_oauth_path(path: str) -> bool:
    return path.startswith(PREFIXES)


def oauth_app(server: OAuthServer) -> Starlette:
    routes: list[BaseRoute] = [
        *discovery.routes(server),
        *registration.routes(server),
        *authorization.routes(server),
    ]
    return Starlette(routes=routes)
