"""Tenant-scoped access: the only way to read tenant objects, so a foreign ID is a 404 by construction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import Mode, TenantMixin

TenantModel = TypeVar("TenantModel", bound=TenantMixin)


@dataclass(frozen=True)
class Tenant:
    """Whose data a request may see: one organization, one mode."""

    organization_id: uuid.UUID
    mode: Mode

    def select(self, model: type[TenantModel]) -> Select[TenantModel]:
        """`SELECT` of `model` already restricted to this tenant; soft-deleted rows excluded."""
        statement = select(model).where(model.organization_id == self.organization_id, model.mode == self.mode)
        deleted_at = getattr(model, "deleted_at", None)
        if deleted_at is not None:
            statement = statement.where(deleted_at.is_(None))
        return statement

    def get(self, session: Session, model: type[TenantModel], object_id: uuid.UUID) -> TenantModel:
        found = session.scalar(self.select(model).where(model.id == object_id))
        if found is None:
            raise NotFoundError(model.kind, f"{model.id_prefix}{object_id}")
        return found
