"""Projects: named groups of documents, unique by name within a tenant."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.failures import Conflict
from storage.models import Project
from storage.pagination import Page, Position, fetch_page
from storage.tenancy import Tenant


def create_project(session: Session, tenant: Tenant, name: str, description: str | None) -> Project:
    """A new project of the tenant; Forbidden for a caller restricted to a list of projects."""
    tenant.check_may_create_project()
    name = name.strip()
    taken = session.scalar(tenant.select(Project).where(Project.name == name))
    if taken is not None:
        raise Conflict(f"A project named {name!r} already exists (id {taken.id}).")
    project = Project(organization_id=tenant.organization_id, mode=tenant.mode, name=name, description=description)
    try:
        with session.begin_nested():
            session.add(project)
    except IntegrityError:
        # Lost a race with a concurrent create of the same name.
        raise Conflict(f"A project named {name!r} already exists.") from None
    return project


def list_projects(session: Session, tenant: Tenant, limit: int, after: Position | None) -> Page[Project]:
    return fetch_page(session, tenant.select(Project), Project, limit, after)


def find_project_by_name(session: Session, tenant: Tenant, name: str) -> Project | None:
    return session.scalar(tenant.select(Project).where(Project.name == name))
