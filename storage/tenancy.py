"""Tenant-scoped access: the only way to read tenant objects, so a foreign ID is a 404 by construction.

Two selectors: `Tenant` for the organization's data in one mode, and `Actor`
for credentials, which are owner-or-admin inside the tenant. A tenant may also
carry a `ProjectScope` (a managed MCP server restricted to some projects): its
rows are then filtered here, in every query, never by post-filtering results.

A restricted tenant also carries its restrictions' digest. Runs and fills read
the vault as their starter could, so their results (outputs, filled documents)
are visible only to a tenant with the very same restrictions: a row records
the restriction it was produced under (`UNRESTRICTED` when there was none).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.failures import Forbidden, Invalid, NotFound
from storage.models import CredentialMixin, Document, Mode, Project, TemplateFill, TenantMixin, WorkflowRun

TenantModel = TypeVar("TenantModel", bound=TenantMixin)
CredentialModel = TypeVar("CredentialModel", bound=CredentialMixin)
# Why a caller restricted by an allowlist must name a project for what it creates (the detail of a 422).
PROJECT_REQUIRED = (
    "is required: this MCP server is restricted to a list of projects, "
    "and an object in none of them would be out of its reach"
)
# What work started by an unrestricted caller records as its restriction. Never a digest (those are 32 hex
# digits); a row from before restrictions were recorded holds NULL, which every query reads the same way.
UNRESTRICTED = "none"


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

    def condition(self, column: InstrumentedAttribute[Any]) -> ColumnElement[bool] | None:
        """`admits` as SQL on a project id column; None when it admits every row."""
        ids = sorted(self.ids)
        if self.mode is ListMode.allowlist:
            return column.in_(ids) if ids else false()
        if not ids:
            return None
        # `NOT IN` is unknown, not true, for a NULL: rows with no project are admitted explicitly.
        return or_(column.is_(None), column.not_in(ids))

    def as_data(self) -> dict[str, Any]:
        """`{"mode": ..., "ids": [...]}`: JSON data, as a job's payload keeps it for its worker."""
        return {"mode": self.mode.value, "ids": sorted(str(project_id) for project_id in self.ids)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ProjectScope:
        """The scope `as_data` wrote."""
        return cls(ListMode(data["mode"]), frozenset(uuid.UUID(project_id) for project_id in data["ids"]))


@dataclass(frozen=True)
class Tenant:
    """Whose data a request may see: one organization, one mode, and (restricted callers) some of its projects."""

    organization_id: uuid.UUID
    mode: Mode
    projects: ProjectScope | None = None
    # A restricted caller (a managed MCP server with restrictions): a digest of those restrictions. Work derived
    # from vault content (runs, fills, filled documents) is visible to it only when produced under the same ones.
    restriction: str | None = None

    def select(self, model: type[TenantModel]) -> Select[TenantModel]:
        """`SELECT` of `model` already restricted to this tenant (and its projects); soft-deleted rows excluded."""
        return select(model).where(*self.conditions(model))

    def conditions(self, model: type[TenantModel]) -> list[ColumnElement[bool]]:
        """What a row of `model` must meet to be this tenant's: for queries that select more than the model
        (a join, chosen columns), so they apply the same rule as `select`."""
        found = [model.organization_id == self.organization_id, model.mode == self.mode]
        deleted_at = getattr(model, "deleted_at", None)
        if deleted_at is not None:
            found.append(deleted_at.is_(None))
        project_column = _project_column(model)
        if project_column is not None:
            admitted = self.project_filter(project_column)
            if admitted is not None:
                found.append(admitted)
        produced_under = self._restriction_filter(model)
        if produced_under is not None:
            found.append(produced_under)
        return found

    def _restriction_filter(self, model: type[TenantModel]) -> ColumnElement[bool] | None:
        """Work derived from the vault only if produced under this tenant's restriction; uploads stay visible."""
        if self.restriction is None:
            return None
        if issubclass(model, WorkflowRun | TemplateFill):
            return model.restriction == self.restriction
        if issubclass(model, Document):
            return or_(Document.restriction.is_(None), Document.restriction == self.restriction)
        return None

    @property
    def work_restriction(self) -> str:
        """What work this tenant starts records as produced under: its restriction, or `UNRESTRICTED`."""
        return self.restriction or UNRESTRICTED

    def project_filter(self, column: InstrumentedAttribute[Any]) -> ColumnElement[bool] | None:
        """The condition on a project id column that this tenant's project restriction sets; None without one."""
        return None if self.projects is None else self.projects.condition(column)

    def get(self, session: Session, model: type[TenantModel], object_id: uuid.UUID) -> TenantModel:
        found = session.scalar(self.select(model).where(model.id == object_id))
        if found is None:
            raise NotFound(model.kind, f"{model.id_prefix}{object_id}")
        return found

    def check_new_object_project(self, session: Session, project_id: uuid.UUID | None) -> None:
        """Whether an object this tenant creates may live in `project_id` (None: in no project).

        NotFound for a project the tenant cannot see, as for a foreign one. Under an allowlist an object in
        no project would be invisible to the caller that made it: Invalid, asking for a project.
        """
        if project_id is not None:
            self.get(session, Project, project_id)
        elif self.requires_project:
            raise Invalid.at("/project_id", PROJECT_REQUIRED)

    @property
    def requires_project(self) -> bool:
        """Whether every object this tenant creates must be in a project (it is restricted by an allowlist)."""
        return self.projects is not None and self.projects.mode is ListMode.allowlist

    def check_may_create_project(self) -> None:
        """Forbidden under an allowlist: a new project could not be on it. A blocklist admits new projects."""
        if self.requires_project:
            raise Forbidden("This MCP server is restricted to a list of projects; it cannot create new ones.")


def _project_column(model: type[TenantModel]) -> InstrumentedAttribute[Any] | None:
    """The column a row's project is read from: a project's own id, else its `project_id` if it has one."""
    if issubclass(model, Project):
        return Project.id
    column: InstrumentedAttribute[Any] | None = getattr(model, "project_id", None)
    return column


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
