"""(being built) Metadata documents: RFC 8414 and RFC 9728; JWKS."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from gateway.oauth.resources import OAuthServer
from gateway.pages import protected_resource_metadata


def routes(server: OAuthServer) -> list[BaseRoute]:
    return [
        Route(
            "/.well-known/oauth-protected-resource/mcp",
            protected_resource_metadata(server.resources.mcp, server.contract.scopes),  # type: ignore[arg-type]
            methods=["GET"],
        )
    ]
