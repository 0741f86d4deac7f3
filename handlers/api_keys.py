"""api_keys: list, create, rotate and revoke keys in the caller's mode (owner-or-admin)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from gateway.auth import current_principal, database_session, forget_credential
from gateway.contract import load_contract
from gateway.cursors import pager_for
from gateway.validation import parse_date_time
from storage import api_keys
from storage.models import ApiKey, utcnow


def _view(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "mode": key.mode.value,
        "scopes": key.scopes,
        "user_id": key.user_id,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "last_used_at": key.last_used_at,
    }


def _issued_view(issued: api_keys.IssuedKey) -> tuple[dict[str, Any], int, dict[str, str]]:
    # There is no GET of one key: the key's own URL is the one `api_keys.revoke` acts on.
    location = load_contract().url_for("api_keys.revoke", key_id=issued.record.id)
    return {**_view(issued.record), "key": issued.secret}, 201, {"Location": location}


def list(*, limit: int, cursor: str | None = None) -> dict[str, Any]:
    """List the keys the caller manages in its mode (an admin: all of them; a member: their own), newest first."""
    pager = pager_for("api_keys.list")
    with database_session() as session:
        page = api_keys.list_keys(session, current_principal().actor, limit, pager.position(cursor))
        return pager.envelope(page, _view)


def create(*, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create a key for the calling user, in the caller's mode; the secret is shown only here."""
    principal = current_principal()
    expires_at = parse_date_time(body["expires_at"]) if body.get("expires_at") else None
    with database_session() as session:
        issued = api_keys.create_own_key(
            session, principal.actor, principal.grantor, body["name"], body["scopes"], expires_at
        )
        return _issued_view(issued)


def rotate(*, key_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Issue a replacement key; the old one keeps working for the grace period."""
    principal = current_principal()
    grace = timedelta(seconds=body["grace_period_seconds"])
    with database_session() as session:
        issued = api_keys.rotate_key(session, principal.actor, principal.grantor, uuid.UUID(key_id), grace, utcnow())
        return _issued_view(issued)


def revoke(*, key_id: str) -> dict[str, Any]:
    """Revoke a key: at once in this process, within a second in every other."""
    principal = current_principal()
    with database_session() as session:
        revoked = api_keys.revoke_managed_key(session, principal.actor, uuid.UUID(key_id), utcnow(), principal.key_id)
        view = _view(revoked)
    forget_credential(revoked.id)
    return view
