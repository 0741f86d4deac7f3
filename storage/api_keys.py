"""API keys: the `vg_<mode>_<40 hex><8 hex CRC32>` format, and their storage by hash."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from core.failures import Conflict, Forbidden, Invalid
from storage.models import ApiKey, McpServer, Mode, Organization, Role, Tier, User, utcnow
from storage.pagination import Page, Position, fetch_page
from storage.tenancy import Actor

_FORMAT = re.compile(r"^vg_(live|test)_([0-9a-f]{40})([0-9a-f]{8})$")
PREFIX_LENGTH = 12
# Writing last_used_at on every request would serialize all requests of a key
# on one row; a minute's resolution is what users read it for.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def _checksum(body: str) -> str:
    return f"{zlib.crc32(body.encode()):08x}"


def generate_key(mode: Mode) -> str:
    body = f"vg_{mode.value}_{secrets.token_hex(20)}"
    return body + _checksum(body)


def is_well_formed(token: str) -> bool:
    """Format and checksum only: lets a typo or a forged key fail without a database lookup."""
    match = _FORMAT.match(token)
    if match is None:
        return False
    return _checksum(token[:-8]) == match.group(3)


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: the only moment its secret exists outside the caller's hands."""

    record: ApiKey
    secret: str


@dataclass(frozen=True)
class Grantor:
    """The key minting a key over the API: it grants only scopes it holds, for no longer than it lives itself.

    Without both rules a key could mint a stronger or a longer-lived one, and
    revoking or letting it expire would not end what it can do.
    """

    scopes: frozenset[str]
    expires_at: datetime | None

    def check_scopes(self, scopes: list[str]) -> None:
        missing = sorted(set(scopes) - self.scopes)
        if missing:
            raise Forbidden(f"This key cannot grant scopes it does not hold: {', '.join(missing)}.")

    def cap_expiry(self, requested: datetime | None, pointer: str | None) -> datetime | None:
        """`requested`, or this key's own expiry when none is asked; past it, a 422 at `pointer` (None: capped)."""
        if self.expires_at is None or (requested is not None and requested <= self.expires_at):
            return requested
        if requested is not None and pointer is not None:
            raise Invalid.at(
                pointer,
                f"expires_at must not be later than the calling key's own expiry, {self.expires_at.isoformat()}",
            )
        return self.expires_at


def create_key(
    session: Session,
    *,
    user: User,
    mode: Mode,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    grantor: Grantor | None = None,
) -> IssuedKey:
    """A new key for `user`; `grantor` is the calling key over the API (None: an operator at the CLI)."""
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid.at("/expires_at", "expires_at must be in the future")
    if grantor is not None:
        grantor.check_scopes(scopes)
        expires_at = grantor.cap_expiry(expires_at, "/expires_at")
    secret = generate_key(mode)
    record = ApiKey(
        id=uuid.uuid4(),
        organization_id=user.organization_id,
        mode=mode,
        user_id=user.id,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        key_hash=hash_key(secret),
        scopes=sorted(set(scopes)),
        expires_at=expires_at.astimezone(UTC) if expires_at else None,
        created_at=utcnow(),
    )
    session.add(record)
    session.flush()
    return IssuedKey(record=record, secret=secret)


@dataclass(frozen=True)
class Credential:
    """What authenticating a request needs of a key, its user and organization: one row."""

    key_id: uuid.UUID
    prefix: str
    name: str
    mode: Mode
    scopes: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    user_id: uuid.UUID
    user_email: str
    user_name: str
    user_role: Role
    user_permissions: list[str]
    organization_id: uuid.UUID
    organization_name: str
    tier: Tier


# Built once: constructing the statement cost more than running it.
_CREDENTIAL_ROW = (
    select(
        ApiKey.id,
        ApiKey.prefix,
        ApiKey.name,
        ApiKey.mode,
        ApiKey.scopes,
        ApiKey.expires_at,
        ApiKey.revoked_at,
        ApiKey.last_used_at,
        User.id,
        User.email,
        User.name,
        User.role,
        User.permissions,
        Organization.id,
        Organization.name,
        Organization.tier,
    )
    .join(User, User.id == ApiKey.user_id)
    .join(Organization, Organization.id == User.organization_id)
)
_FIND_CREDENTIAL = _CREDENTIAL_ROW.where(ApiKey.key_hash == bindparam("key_hash"))
_FIND_CREDENTIAL_BY_ID = _CREDENTIAL_ROW.where(ApiKey.id == bindparam("key_id"))


def find_credential(session: Session, token: str) -> Credential | None:
    """The key behind a token, as a plain row: this runs on every request, so no ORM objects."""
    row = session.connection().execute(_FIND_CREDENTIAL, {"key_hash": hash_key(token)}).first()
    return None if row is None else Credential(*cast(tuple[Any, ...], row))


def find_credential_by_id(session: Session, key_id: uuid.UUID) -> Credential | None:
    """The key with this id, as `find_credential` answers it: for a credential that acts through a key (an MCP
    server's token acts through the key that made it)."""
    row = session.connection().execute(_FIND_CREDENTIAL_BY_ID, {"key_id": key_id}).first()
    return None if row is None else Credential(*cast(tuple[Any, ...], row))


def unusable_reason(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> str | None:
    """Why a key no longer works ("revoked" or "expired"), or None while it does."""
    if revoked_at is not None and revoked_at <= now:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return None


def mark_credential_used(session: Session, credential: Credential, now: datetime) -> None:
    if credential.last_used_at is not None and credential.last_used_at >= now - LAST_USED_RESOLUTION:
        return
    # Conditional in SQL too, so concurrent requests do not all write the same row.
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == credential.key_id)
        .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < now - LAST_USED_RESOLUTION))
        .values(last_used_at=now)
    )


def revoke_key(session: Session, key: ApiKey, now: datetime) -> None:
    if key.revoked_at is None:
        key.revoked_at = now
        _end_server_tokens(session, key.id, now)


def _end_server_tokens(session: Session, key_id: uuid.UUID, at: datetime) -> None:
    """Managed MCP server tokens act through the key that issued them and stop with it: say so in their expiry."""
    session.execute(
        update(McpServer)
        .where(McpServer.creator_key_id == key_id, McpServer.token_expires_at > at)
        .values(token_expires_at=at)
    )


def list_keys(session: Session, actor: Actor, limit: int, after: Position | None) -> Page[ApiKey]:
    """The keys `actor` manages: an admin's whole tenant, a member's own."""
    return fetch_page(session, actor.select_manageable(ApiKey), ApiKey, limit, after)


def revoke_managed_key(
    session: Session, actor: Actor, key_id: uuid.UUID, now: datetime, acting_key_id: uuid.UUID
) -> ApiKey:
    """Revoke a key `actor` manages; revoking an already revoked key changes nothing."""
    key = actor.get_manageable(session, ApiKey, key_id)
    if key.id == acting_key_id:
        # Locking yourself out by accident is worse than one more step: use another key, or rotate.
        raise Conflict("A key cannot revoke itself; revoke it with another key, or rotate it.")
    revoke_key(session, key, now)
    return key


def rotate_key(
    session: Session, actor: Actor, grantor: Grantor, key_id: uuid.UUID, grace: timedelta, now: datetime
) -> IssuedKey:
    """A new key with the old one's user, name and scopes; the old one expires after `grace`.

    The replacement lives no longer than the old key or the calling key, whichever ends first.
    """
    old = actor.get_manageable(session, ApiKey, key_id)
    if old.user_id != actor.user_id:
        # A rotation hands out a working key that acts as the old key's owner: an admin would become them.
        raise Forbidden(f"api_key {key_id} belongs to another user; only they can rotate it (you can revoke it).")
    reason = unusable_reason(old.revoked_at, old.expires_at, now)
    if reason is not None:
        raise Conflict(f"api_key {key_id} is {reason} and cannot be rotated")
    grantor.check_scopes(old.scopes)
    retire_at = now + grace
    issued = create_key(
        session,
        user=old.user,
        mode=old.mode,
        name=old.name,
        scopes=old.scopes,
        expires_at=grantor.cap_expiry(old.expires_at, pointer=None),
    )
    old.expires_at = min(old.expires_at, retire_at) if old.expires_at else retire_at
    _end_server_tokens(session, old.id, old.expires_at)
    return issued


def create_own_key(
    session: Session, actor: Actor, grantor: Grantor, name: str, scopes: list[str], expires_at: datetime | None
) -> IssuedKey:
    """A key for the acting user, in the actor's mode, minted by `grantor` (the calling key)."""
    return create_key(
        session,
        user=session.get_one(User, actor.user_id),
        mode=actor.tenant.mode,
        name=name,
        scopes=scopes,
        expires_at=expires_at,
        grantor=grantor,
    )
