"""Dynamically registered OAuth clients (RFC 7591) and their registration access tokens (RFC 7592).

Only hashes of the secrets are stored: the client secret (`client_secret_post`
clients) is shown once, in the answer to the registration; the registration
access token too, and a new one in the answer to each read of the
registration (RFC 7592 §3 requires one there), which ends the previous one.
Deleting a client revokes every grant it holds.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from storage.models import OAuthClient, OAuthGrant, utcnow
from storage.oauth import token_hash

CLIENT_ID_PREFIX = "vgc_"
# The prefix and 16 random bytes in hex.
CLIENT_ID_LENGTH = len(CLIENT_ID_PREFIX) + 32


@dataclass(frozen=True)
class RegisteredClient:
    """A new client, with the secrets its registration answer shows once."""

    record: OAuthClient
    client_secret: str | None
    registration_access_token: str


def register_client(session: Session, client_metadata: dict[str, Any], *, with_secret: bool) -> RegisteredClient:
    client_secret = secrets.token_urlsafe(32) if with_secret else None
    registration_access_token = secrets.token_urlsafe(32)
    record = OAuthClient(
        client_id=CLIENT_ID_PREFIX + secrets.token_hex(16),
        client_metadata=client_metadata,
        secret_hash=token_hash(client_secret) if client_secret else None,
        registration_token_hash=token_hash(registration_access_token),
        created_at=utcnow(),
    )
    session.add(record)
    session.flush()
    return RegisteredClient(record, client_secret, registration_access_token)


def live_client(session: Session, client_id: str) -> OAuthClient | None:
    """The registered client, unless it was deleted."""
    # No id this module issues is longer or holds NUL, which PostgreSQL refuses even in a query.
    if len(client_id) > CLIENT_ID_LENGTH or "\x00" in client_id:
        return None
    record = session.get(OAuthClient, client_id)
    return None if record is None or record.deleted_at is not None else record


def client_for_registration_token(session: Session, client_id: str, token: str) -> OAuthClient | None:
    """The live client `token` manages (RFC 7592): None for an unknown client or a token of another."""
    record = live_client(session, client_id)
    if record is None or not hmac.compare_digest(record.registration_token_hash, token_hash(token)):
        return None
    return record


def rotate_registration_token(session: Session, record: OAuthClient) -> str | None:
    """A new registration access token for the client, the one it replaces no longer valid.

    None when another request rotated the token since `record` was read: of two reads with one token, one gets
    the next token and the other is refused, rather than both answering tokens of which only one works.
    """
    token = secrets.token_urlsafe(32)
    result = session.execute(
        update(OAuthClient)
        .where(
            OAuthClient.client_id == record.client_id,
            OAuthClient.registration_token_hash == record.registration_token_hash,
        )
        .values(registration_token_hash=token_hash(token))
    )
    return token if int(result.rowcount) == 1 else None  # type: ignore[attr-defined]


def delete_client(session: Session, record: OAuthClient) -> None:
    """Delete the registration and end what it was granted: its grants, and with them every token."""
    record.deleted_at = utcnow()
    revoke_client_grants(session, record.client_id)
    session.flush()


def revoke_client_grants(session: Session, client_id: str) -> int:
    """Revoke every live grant of a client; returns how many there were."""
    result = session.execute(
        update(OAuthGrant)
        .where(OAuthGrant.client_id == client_id, OAuthGrant.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason="client_deleted")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
