"""mcp_servers: create, list, get, update, delete managed MCP servers and rotate their tokens (owner-or-admin)."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.agents.edge import PATH as MCP_PATH
from gateway.auth import current_principal, current_settings, database_session, forget_credential
from gateway.contract import load_contract
from gateway.cursors import pager_for
from gateway.signed_urls import public_base_url
from storage import mcp_servers
from storage.models import McpServer, utcnow


def _exposed_operation_ids() -> frozenset[str]:
    """What a `capabilities` rule may name: the operations MCP serves as tools."""
    return frozenset(operation.operation_id for operation in load_contract().operations if operation.mcp)


def _url(server_id: uuid.UUID) -> str:
    # The configured public base, never the request's Host: the URL is handed out and opened later.
    return f"{public_base_url(current_settings())}{MCP_PATH}/{server_id}"


def _view(server: McpServer) -> dict[str, Any]:
    return {
        "id": server.id,
        "name": server.name,
        "description": server.description,
        "url": _url(server.id),
        "restrictions": server.restrictions,
        "has_restrictions": bool(server.restrictions),
        "user_id": server.user_id,
        "token_prefix": server.token_prefix,
        "token_expires_at": server.token_expires_at,
        "created_at": server.created_at,
        "updated_at": server.updated_at,
    }


def _issued_view(issued: mcp_servers.IssuedServer) -> dict[str, Any]:
    view = _view(issued.record)
    return {**view, "access_token": issued.token, "access_url": f"{view['url']}/{issued.token}"}


def list(*, limit: int, cursor: str | None = None) -> dict[str, Any]:
    """List the servers the caller manages in its mode (an admin: all of them; a member: their own), newest first."""
    pager = pager_for("mcp_servers.list")
    with database_session() as session:
        page = mcp_servers.list_servers(session, current_principal().actor, limit, pager.position(cursor))
        return pager.envelope(page, _view)


def create(*, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create a server owned by the calling user; its token is shown only here."""
    principal = current_principal()
    new = mcp_servers.NewServer(
        name=body["name"],
        description=body.get("description", ""),
        restrictions=body.get("restrictions", {}),
        token_expires_in_days=body.get("token_expires_in_days", mcp_servers.DEFAULT_TOKEN_DAYS),
    )
    with database_session() as session:
        issued = mcp_servers.create_server(
            session, principal.actor, principal.grantor, principal.key_id, new, _exposed_operation_ids(), utcnow()
        )
        location = load_contract().url_for("mcp_servers.get", server_id=issued.record.id)
        return _issued_view(issued), 201, {"Location": location}


def get(*, server_id: str) -> dict[str, Any]:
    """Get one server the caller manages."""
    with database_session() as session:
        return _view(mcp_servers.get_server(session, current_principal().actor, uuid.UUID(server_id)))


def update(*, server_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Change the server's name, description or restrictions."""
    with database_session() as session:
        server = mcp_servers.update_server(
            session, current_principal().actor, uuid.UUID(server_id), body, _exposed_operation_ids(), utcnow()
        )
        view = _view(server)
    # A token remembered by this process would keep the old restrictions for up to the cache's life.
    forget_credential(server.id)
    return view


def delete(*, server_id: str) -> tuple[None, int]:
    """Delete the server: its token and URLs stop at once in this process, within a second in every other."""
    with database_session() as session:
        mcp_servers.delete_server(session, current_principal().actor, uuid.UUID(server_id), utcnow())
    forget_credential(uuid.UUID(server_id))
    return None, 204


def rotate_token(*, server_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Issue a new token acting through the calling key; the old one stops at once."""
    principal = current_principal()
    days = (body or {}).get("token_expires_in_days", mcp_servers.DEFAULT_TOKEN_DAYS)
    with database_session() as session:
        issued = mcp_servers.rotate_token(
            session, principal.actor, principal.grantor, principal.key_id, uuid.UUID(server_id), days, utcnow()
        )
        view = _issued_view(issued)
    forget_credential(issued.record.id)
    return view
