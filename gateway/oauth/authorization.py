"""(being built)"""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway.oauth.resources import OAuthServer


def routes(server: OAuthServer) -> list[BaseRoute]:
    return []
