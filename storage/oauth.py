"""OAuth grants and what hangs off them (codes, refresh tokens, revoked access tokens), and signing key ids.

A grant is one approval on the consent page and the refresh-token family: every
code, refresh token and access token names its grant, and revoking the grant
ends them all at once. Codes and refresh tokens are stored as SHA-256 hashes;
access tokens are JWTs, of which only an early revocation (`jti`) is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Mode, OAuthGrant, OAuthRevokedToken, OAuthSigningKey, Organization, User, utcnow


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_grant(
    session: Session,
    *,
    user: User,
    mode: Mode,
    client_id: str,
    client_name: str,
    scopes: list[str],
) -> OAuthGrant:
    grant = OAuthGrant(
        id=uuid.uuid4(),
        user_id=user.id,
        organization_id=user.organization_id,
        mode=mode,
        client_id=client_id,
        client_name=client_name,
        scopes=sorted(set(scopes)),
        created_at=utcnow(),
    )
    session.add(grant)
    session.flush()
    return grant


def revoke_grants(
    session: Session, grant_ids: list[uuid.UUID] | None, *, user_id: uuid.UUID | None, reason: str
) -> int:
    """Revoke grants by id and/or all of a user's; returns how many were live."""
    statement = update(OAuthGrant).where(OAuthGrant.revoked_at.is_(None))
    if grant_ids is not None:
        statement = statement.where(OAuthGrant.id.in_(grant_ids))
    if user_id is not None:
        statement = statement.where(OAuthGrant.user_id == user_id)
    result = session.execute(statement.values(revoked_at=utcnow(), revoked_reason=reason))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class GrantAccess:
    """What a live grant lets its tokens act as: the user, in one organization and mode, with read scopes."""

    grant_id: uuid.UUID
    client_id: str
    client_name: str
    scopes: tuple[str, ...]
    user: User
    organization: Organization
    mode: Mode


def grant_access(session: Session, grant_id: uuid.UUID, jti: str | None) -> GrantAccess | str:
    """The grant's access, or why its tokens no longer work: "revoked" (grant or this `jti`), "user_removed"."""
    row = session.execute(
        select(OAuthGrant, User).join(User, User.id == OAuthGrant.user_id).where(OAuthGrant.id == grant_id)
    ).one_or_none()
    if row is None:
        return "revoked"
    grant, user = row
    if grant.revoked_at is not None:
        return "revoked"
    if user.removed_at is not None:
        return "user_removed"
    if jti is not None and session.get(OAuthRevokedToken, jti) is not None:
        return "revoked"
    return GrantAccess(
        grant_id=grant.id,
        client_id=grant.client_id,
        client_name=grant.client_name,
        scopes=tuple(grant.scopes),
        user=user,
        organization=user.organization,
        mode=grant.mode,
    )


def revoke_access_token(session: Session, jti: str, expires_at: datetime) -> None:
    if session.get(OAuthRevokedToken, jti) is None:
        session.add(OAuthRevokedToken(jti=jti, expires_at=expires_at))
        session.flush()


# Signing keys: only their ids and times are stored; the private key derives from the instance key and the id.


def new_kid() -> str:
    return secrets.token_urlsafe(12)


def signing_keys(session: Session, *, verify_window: timedelta) -> list[OAuthSigningKey]:
    """The keys that sign (the newest unretired one, first) or still verify (retired within `verify_window`)."""
    cutoff = utcnow() - verify_window
    keys = session.scalars(
        select(OAuthSigningKey)
        .where((OAuthSigningKey.retired_at.is_(None)) | (OAuthSigningKey.retired_at > cutoff))
        .order_by(OAuthSigningKey.retired_at.is_not(None), OAuthSigningKey.created_at.desc())
    ).all()
    return list(keys)


def ensure_signing_key(session: Session) -> OAuthSigningKey:
    """The key that signs now, created on first use."""
    current = session.scalar(
        select(OAuthSigningKey).where(OAuthSigningKey.retired_at.is_(None)).order_by(OAuthSigningKey.created_at.desc())
    )
    if current is not None:
        return current
    key = OAuthSigningKey(kid=new_kid(), created_at=utcnow())
    session.add(key)
    session.flush()
    return key


def rotate_signing_key(session: Session) -> OAuthSigningKey:
    """Retire the signing key (it keeps verifying until its tokens expire) and start signing with a new one."""
    now = utcnow()
    session.execute(update(OAuthSigningKey).where(OAuthSigningKey.retired_at.is_(None)).values(retired_at=now))
    key = OAuthSigningKey(kid=new_kid(), created_at=now)
    session.add(key)
    session.flush()
    return key
