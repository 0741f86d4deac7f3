"""Instance secrets (cursor and URL signing keys), generated once and shared through the database."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import InstanceSecret

# A secret never changes once created, so each process reads it once per database.
_known: dict[tuple[str, str], bytes] = {}


def instance_secret(session: Session, name: str) -> bytes:
    """The secret called `name`, created on first use; every process and machine reads the same one."""
    where = (str(session.get_bind().engine.url), name)
    if where not in _known:
        _known[where] = _read_or_create(session, name)
    return _known[where]


def _read_or_create(session: Session, name: str) -> bytes:
    existing = session.scalar(select(InstanceSecret.value).where(InstanceSecret.name == name))
    if existing is not None:
        return bytes.fromhex(existing)
    try:
        with session.begin_nested():
            session.add(InstanceSecret(name=name, value=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another process created it first; read theirs
    return bytes.fromhex(session.scalars(select(InstanceSecret.value).where(InstanceSecret.name == name)).one())
