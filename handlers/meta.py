"""meta: who the caller is, what the API offers, and whether it is up."""

from __future__ import annotations

from typing import Any

from gateway.auth import current_principal, current_rate_limit, current_settings
from gateway.contract import load_contract
from gateway.problems import Problem
from storage.database import database_is_reachable


def health() -> dict[str, Any]:
    """Report liveness and database reachability."""
    if not database_is_reachable(current_settings().database_url):
        raise Problem("service_unavailable", "The database is unreachable.")
    return {"status": "ok", "database": "ok", "version": load_contract().version}


def whoami() -> dict[str, Any]:
    """Describe the authenticated principal."""
    principal = current_principal()
    # An OAuth caller holds no key: it is an app (the client) acting for its user.
    oauth = principal.auth_kind == "oauth"
    key = {
        "id": principal.key_id,
        "prefix": principal.key_prefix,
        "name": principal.key_name,
        "expires_at": principal.key_expires_at,
    }
    client = {"client_id": principal.oauth_client_id, "client_name": principal.oauth_client_name}
    return {
        "auth_kind": principal.auth_kind,
        "mode": principal.mode.value,
        "scopes": sorted(principal.scopes),
        "key": None if oauth else key,
        "oauth_client": client if oauth else None,
        "user": {
            "id": principal.user_id,
            "email": principal.user_email,
            "name": principal.user_name,
            "role": principal.user_role.value,
            "permissions": list(principal.user_permissions),
        },
        "organization": {
            "id": principal.organization_id,
            "name": principal.organization_name,
            "tier": principal.tier.value,
        },
    }


def rate_limit() -> dict[str, Any]:
    """Describe the caller's token bucket (its key's, or its OAuth client's for its user) and its organization's."""
    policy, draw = current_rate_limit()
    key, organization = draw.levels
    return {
        "tier": current_principal().tier.value,
        "capacity": policy.capacity,
        "remaining": key.remaining,
        "refill_per_second": policy.refill_per_second,
        "reset_seconds": key.reset_seconds,
        "shared": draw.shared,
        "organization": {"remaining": organization.remaining, "reset_seconds": organization.reset_seconds},
    }


def capabilities() -> dict[str, Any]:
    """List every operation of the contract with its scope, cost and MCP exposure."""
    return {
        "data": [
            {
                "name": op.operation_id,
                "summary": op.summary,
                "method": op.method,
                "path": op.path,
                "scope": op.scope,
                "cost": op.cost,
                "mcp": op.mcp,
                "deprecated": op.deprecated,
                "sunset": op.sunset.isoformat() if op.sunset else None,
            }
            for op in load_contract().operations
        ]
    }
