"""Where clients learn about this server: RFC 8414 and RFC 9728 metadata, and the JWKS."""

from __future__ import annotations

import uuid
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.agents.edge import PATH as MCP_PATH
from gateway.oauth.resources import OAuthServer
from gateway.oauth.responses import oauth_error

# The documents change only with a new release (or, for the JWKS, a key rotation, which keeps old keys listed
# until their tokens expire: a client holding a stale copy for 5 minutes still verifies everything).
METADATA_CACHE = {"Cache-Control": "public, max-age=3600"}
JWKS_CACHE = {"Cache-Control": "public, max-age=300"}
PROTECTED_RESOURCE_PREFIX = "/.well-known/oauth-protected-resource"


def authorization_server_metadata(server: OAuthServer) -> dict[str, Any]:
    """RFC 8414 §2. Not an OpenID provider: no ID tokens, so no `subject_types_supported` or signing algorithms."""
    issuer = server.issuer
    auth_methods = ["none", "client_secret_post"]
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "registration_endpoint": f"{issuer}/oauth/register",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "jwks_uri": f"{issuer}/oauth/jwks",
        "scopes_supported": server.read_scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": f"{issuer}/docs",
    }


def protected_resource_metadata(server: OAuthServer, resource: str, name: str) -> dict[str, Any]:
    """RFC 9728 §2: where a resource's tokens come from and what they may hold."""
    return {
        "resource": resource,
        "authorization_servers": [server.issuer],
        "scopes_supported": server.read_scopes,
        "bearer_methods_supported": ["header"],
        "resource_name": name,
        "resource_documentation": f"{server.issuer}/docs",
    }


def routes(server: OAuthServer) -> list[BaseRoute]:
    as_metadata = authorization_server_metadata(server)
    api = protected_resource_metadata(server, server.resources.api, "Vaultgate API")
    mcp = protected_resource_metadata(server, server.resources.mcp, "Vaultgate MCP")

    async def authorization_server(request: Request) -> Response:
        return JSONResponse(as_metadata, headers=METADATA_CACHE)

    def document(metadata: dict[str, Any]) -> Any:
        async def protected_resource(request: Request) -> Response:
            return JSONResponse(metadata, headers=METADATA_CACHE)

        return protected_resource

    async def managed_server(request: Request) -> Response:
        # Answered for any well-formed id, without a lookup: an unauthenticated caller must not learn which
        # servers exist (/mcp/{server_id} checks that, with credentials).
        given = request.path_params["server_id"]
        try:
            server_id = uuid.UUID(given)
        except ValueError:
            server_id = None
        # Only the canonical form: RFC 9728 §3.3 has clients refuse a document whose resource is not the URL
        # they asked about, and `resource` parameters name servers in this form.
        if server_id is None or str(server_id) != given:
            return oauth_error("not_found", "A managed MCP server's id is a lowercase, hyphenated UUID.", 404)
        metadata = protected_resource_metadata(
            server, server.resources.server(server_id), f"Vaultgate MCP server {server_id}"
        )
        return JSONResponse(metadata, headers=METADATA_CACHE)

    async def jwks(request: Request) -> Response:
        # The key ids are reread from the database now and then: not on the event loop.
        keys = await to_thread.run_sync(server.keys.jwks)
        return JSONResponse(keys, headers=JWKS_CACHE)

    return [
        Route("/.well-known/oauth-authorization-server", authorization_server, methods=["GET"]),
        # The same document: some clients (the mcp SDK among them) look only, or also, here.
        Route("/.well-known/openid-configuration", authorization_server, methods=["GET"]),
        Route(f"{PROTECTED_RESOURCE_PREFIX}{server.resources.api_path}", document(api), methods=["GET"]),
        Route(f"{PROTECTED_RESOURCE_PREFIX}{MCP_PATH}", document(mcp), methods=["GET"]),
        Route(f"{PROTECTED_RESOURCE_PREFIX}{MCP_PATH}/{{server_id}}", managed_server, methods=["GET"]),
        Route("/oauth/jwks", jwks, methods=["GET"]),
    ]
