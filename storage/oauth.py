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

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import (
    Mode,
    OAuthCode,
    OAuthGrant,
    OAuthRefreshToken,
    OAuthRevokedToken,
    OAuthSigningKey,
    Organization,
    User,
    utcnow,
)


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
    if user.organization_id != grant.organization_id:
        # Approved for the organization the user was in then: it does not follow the user anywhere else.
        return "revoked"
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
    """Refuse the token `jti` from now on; `expires_at`: the last instant any verifier would still accept it."""
    # A revoked token that has expired anyway needs no row: each revocation clears those, so the table holds at
    # most the tokens revoked within one token lifetime.
    session.execute(delete(OAuthRevokedToken).where(OAuthRevokedToken.expires_at < utcnow()))
    if session.get(OAuthRevokedToken, jti) is not None:
        return
    try:
        # Two revocations of one token may race past the read: the loser's insert is a no-op, not a 500.
        with session.begin_nested():
            session.add(OAuthRevokedToken(jti=jti, expires_at=expires_at))
    except IntegrityError:
        pass


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


# Codes and refresh tokens: handed out once in clear, kept as SHA-256 hashes. Using one is a conditional UPDATE
# (`... WHERE used_at IS NULL`), so of two requests racing with the same code or token exactly one wins.


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def create_code(
    session: Session,
    *,
    grant_id: uuid.UUID,
    redirect_uri: str,
    code_challenge: str,
    resource: str,
    lifetime: timedelta,
) -> str:
    """A new authorization code for the grant; `redirect_uri` is the one the request sent ("" when it sent none)."""
    code = new_secret()
    session.add(
        OAuthCode(
            code_hash=token_hash(code),
            grant_id=grant_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            resource=resource,
            expires_at=utcnow() + lifetime,
        )
    )
    session.flush()
    return code


def find_code(session: Session, code: str) -> tuple[OAuthCode, OAuthGrant] | None:
    row = session.execute(
        select(OAuthCode, OAuthGrant)
        .join(OAuthGrant, OAuthGrant.id == OAuthCode.grant_id)
        .where(OAuthCode.code_hash == token_hash(code))
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def claim_code(session: Session, code: OAuthCode) -> bool:
    """Mark the code used; False when it already was (by a request racing this one, or earlier)."""
    result = session.execute(
        update(OAuthCode)
        .where(OAuthCode.code_hash == code.code_hash, OAuthCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def create_refresh_token(session: Session, *, grant_id: uuid.UUID, resource: str, lifetime: timedelta) -> str:
    token = new_secret()
    now = utcnow()
    session.add(
        OAuthRefreshToken(
            token_hash=token_hash(token),
            grant_id=grant_id,
            resource=resource,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def find_refresh_token(session: Session, token: str) -> tuple[OAuthRefreshToken, OAuthGrant] | None:
    row = session.execute(
        select(OAuthRefreshToken, OAuthGrant)
        .join(OAuthGrant, OAuthGrant.id == OAuthRefreshToken.grant_id)
        .where(OAuthRefreshToken.token_hash == token_hash(token))
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def rotate_refresh_token(session: Session, token: OAuthRefreshToken) -> bool:
    """Mark the refresh token used; False when it already was (the caller then treats it as reused)."""
    result = session.execute(
        update(OAuthRefreshToken)
        .where(OAuthRefreshToken.token_hash == token.token_hash, OAuthRefreshToken.rotated_at.is_(None))
        .values(rotated_at=utcnow())
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def mark_grant_used(session: Session, grant_id: uuid.UUID) -> None:
    session.execute(update(OAuthGrant).where(OAuthGrant.id == grant_id).values(last_used_at=utcnow()))
