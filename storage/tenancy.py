"""Tenant-scoped access: the only way to read tenant objects, so a foreign ID is a 404 by construction.

Two selectors: `Tenant` for the organization's data in one mode, and `Actor`
for credentials, which are owner-or-admin inside the tenant.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.failures import NotFound
from storage.models import CredentialMixin, Mode, TenantMixin

TenantModel = TypeVar("TenantModel", bound=TenantMixin)
CredentialModel = TypeVar("CredentialModel", bound=CredentialMixin)


class ListMode(enum.StrEnum):
    allowlist = "allowlist"
    blocklist = "blocklist"


@dataclass(frozen=True)
class ProjectScope:
    """Which projects a restricted caller (a managed MCP server) may see.

    An allowlist admits its projects only (objects with no project are outside
    it); a blocklist admits everything but its projects (objects with no project
    included).
    """

    mode: ListMode
    ids: frozenset[uuid.UUID]

    def admits(self, project_id: uuid.UUID | None) -> bool:
        if self.mode is ListMode.allowlist:
            return project_id is not None and project_id in self.ids
        return project_id is None or project_id not in self.ids


@dataclass(frozen=True)
class Tenant:
    """Whose data a request may see: one organization, one mode, and (restricted callers) some of its projects."""

    organization_id: uuid.UUID
    mode: Mode
    projects: ProjectScope | None = None

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
            raise NotFound(model.kind, f"{model.id_prefix}{object_id}")
        return found


@dataclass(frozen=True)
class Actor:
    """A user acting inside a tenant, as far as credentials go.

    A credential (API key, MCP server, webhook endpoint, OAuth grant) can mint or
    act as its owner, so managing one is owner-or-admin: an organization admin
    manages every credential of the tenant; a member only those their own user
    owns. Any other id answers 404, exactly as another tenant's would, so a member
    cannot learn which ids their colleagues hold.
    """

    tenant: Tenant
    user_id: uuid.UUID
    is_admin: bool

    def select_manageable(self, model: type[CredentialModel]) -> Select[CredentialModel]:
        statement = self.tenant.select(model)
        return statement if self.is_admin else statement.where(model.user_id == self.user_id)

    def get_manageable(self, session: Session, model: type[CredentialModel], object_id: uuid.UUID) -> CredentialModel:
        found = session.scalar(self.select_manageable(model).where(model.id == object_id))
        if found is None:
            raise NotFound(model.kind, f"{model.id_prefix}{object_id}")
        return found
