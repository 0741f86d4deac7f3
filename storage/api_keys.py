"""API keys: the `vg_<mode>_<40 hex><8 hex CRC32>` format, and their storage by hash."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import ApiKey, Mode, User, utcnow

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


def create_key(
    session: Session,
    *,
    user: User,
    mode: Mode,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> IssuedKey:
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
        expires_at=expires_at,
        created_at=utcnow(),
    )
    session.add(record)
    session.flush()
    return IssuedKey(record=record, secret=secret)


def find_key(session: Session, token: str) -> ApiKey | None:
    """The stored key for a well-formed token, with its user and organization loaded."""
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(token)))


def mark_used(session: Session, key: ApiKey, now: datetime) -> None:
    if key.last_used_at is not None and key.last_used_at >= now - LAST_USED_RESOLUTION:
        return
    # Conditional in SQL too, so concurrent requests do not all write the same row.
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id)
        .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < now - LAST_USED_RESOLUTION))
        .values(last_used_at=now)
    )


def revoke_key(session: Session, key: ApiKey, now: datetime) -> None:
    if key.revoked_at is None:
        key.revoked_at = now
