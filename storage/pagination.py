"""Keyset pagination on `(created_at, id)`, newest first: stable while rows are inserted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import Session

from storage.models import TenantMixin

Row = TypeVar("Row", bound=TenantMixin)


@dataclass(frozen=True)
class Position:
    """Where a page ended: the last row's sort key."""

    created_at: datetime
    id: uuid.UUID


@dataclass(frozen=True)
class Page(Generic[Row]):
    rows: list[Row]
    next_position: Position | None


def fetch_page(
    session: Session, statement: Select[Row], model: type[Row], limit: int, after: Position | None
) -> Page[Row]:
    if after is not None:
        statement = statement.where(tuple_(model.created_at, model.id) < tuple_(after.created_at, after.id))
    statement = statement.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)
    rows = list(session.scalars(statement))
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], Position(last.created_at, last.id))
