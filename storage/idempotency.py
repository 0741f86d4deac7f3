"""Idempotency keys in the database: claimed atomically (a unique row), so every process agrees.

A key belongs to one caller (organization, mode, user and, for OAuth, client):
the same key sent by two users is two independent claims.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import IdempotencyRecord
from storage.tenancy import Tenant

# How long a first answer is kept for replay; the spec says it in words (tests/test_limits_documented.py).
RETENTION = timedelta(hours=24)
# A request that crashed mid-flight frees its key after this long.
LOCK = timedelta(seconds=60)
_SWEEP_BATCH = 100


class Outcome(enum.Enum):
    claimed = "claimed"
    replay = "replay"
    in_flight = "in_flight"
    reused = "reused"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Claim:
    """What to do with a request carrying an `Idempotency-Key`."""

    outcome: Outcome
    record_id: uuid.UUID | None = None
    stored: StoredResponse | None = None
    retry_after: int = 0


@dataclass(frozen=True)
class Owner:
    """Whose keys these are: a tenant and the caller within it."""

    tenant: Tenant
    caller: str


def claim(session: Session, owner: Owner, key: str, fingerprint: str, now: datetime) -> Claim:
    """Claim `key` for this request, or say why not (replay it, in flight, reused differently)."""
    record = IdempotencyRecord(
        id=uuid.uuid4(),
        organization_id=owner.tenant.organization_id,
        mode=owner.tenant.mode,
        caller=owner.caller,
        key=key,
        fingerprint=fingerprint,
        locked_until=now + LOCK,
        created_at=now,
        expires_at=now + RETENTION,
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        return _existing(session, owner, key, fingerprint, now)
    return Claim(Outcome.claimed, record.id)


def _existing(session: Session, owner: Owner, key: str, fingerprint: str, now: datetime) -> Claim:
    found = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.organization_id == owner.tenant.organization_id,
            IdempotencyRecord.mode == owner.tenant.mode,
            IdempotencyRecord.caller == owner.caller,
            IdempotencyRecord.key == key,
        )
    )
    if found is None:  # swept or released between our insert and this read
        return claim(session, owner, key, fingerprint, now)
    if found.expires_at <= now:  # past its retention but not swept yet: the key is free again
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == found.id))
        return claim(session, owner, key, fingerprint, now)
    if found.fingerprint != fingerprint:
        return Claim(Outcome.reused)
    if found.response_status is not None:
        stored = StoredResponse(found.response_status, found.response_headers or {}, found.response_body or b"")
        return Claim(Outcome.replay, found.id, stored)
    assert found.locked_until is not None
    if found.locked_until > now:
        return Claim(Outcome.in_flight, retry_after=max(1, int((found.locked_until - now).total_seconds()) + 1))
    # Its request crashed: take the key over, unless another request just did.
    taken = session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == found.id, IdempotencyRecord.locked_until == found.locked_until)
        .values(locked_until=now + LOCK)
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return Claim(Outcome.claimed, found.id)
    return Claim(Outcome.in_flight, retry_after=1)


def complete(session: Session, record_id: uuid.UUID, status: int, headers: dict[str, str], body: bytes) -> None:
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(response_status=status, response_headers=headers, response_body=body, locked_until=None)
    )


def release(session: Session, record_id: uuid.UUID) -> None:
    """Forget a claim whose request failed on the server, so a retry can run."""
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


def sweep_expired(session: Session, now: datetime) -> None:
    """Delete a batch of records past their retention."""
    expired = select(IdempotencyRecord.id).where(IdempotencyRecord.expires_at < now).limit(_SWEEP_BATCH)
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(expired.scalar_subquery())))
