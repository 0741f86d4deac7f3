"""Template fills: the uploaded template, the scope it fills from, its job and the document it made."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.failures import Invalid
from storage import jobs
from storage.documents import require_visible
from storage.models import Document, DocumentStatus, Job, JobStatus, TemplateFill
from storage.pagination import Page, Position, fetch_page
from storage.tenancy import Tenant

FILL_KIND = "template_fill"
# The most documents one fill sources from: each is handed whole to the render.
MAX_SCOPE_DOCUMENTS = 500


@dataclass(frozen=True)
class NewFill:
    user_id: uuid.UUID
    project_id: uuid.UUID | None
    document_ids: list[uuid.UUID]
    template_filename: str
    template_blob_key: str
    max_attempts: int


@dataclass(frozen=True)
class FillFilters:
    status: JobStatus | None = None


def check_scope(
    session: Session, tenant: Tenant, project_id: uuid.UUID | None, document_ids: list[uuid.UUID] | None
) -> None:
    """NotFound for a project or document the tenant cannot see; documents must be in the project named.

    The project is also where the filled document goes: one the tenant may not create objects in is refused.
    """
    tenant.check_new_object_project(session, project_id)
    if not document_ids:
        return
    require_visible(session, tenant, document_ids)
    if project_id is not None:
        outside = session.scalars(
            tenant.select(Document)
            .with_only_columns(Document.id)
            .where(Document.id.in_(document_ids), Document.project_id.is_distinct_from(project_id))
        ).first()
        if outside is not None:
            raise Invalid.at("/document_ids", f"document {outside} is not in project {project_id}")


def start_fill(session: Session, tenant: Tenant, new: NewFill) -> TemplateFill:
    """Record a fill of a stored template (its scope checked) and queue it; the fill's id is its job's.

    The fill records the tenant's restriction, as the document it makes will: vault content as the tenant read it.
    """
    job = jobs.enqueue(session, tenant, FILL_KIND, {}, new.max_attempts)
    # Added to what `enqueue` stored (the tenant's project restriction, if any), not in its place.
    job.payload = {**job.payload, "fill_id": str(job.id)}
    fill = TemplateFill(
        id=job.id,
        organization_id=tenant.organization_id,
        mode=tenant.mode,
        created_by=new.user_id,
        project_id=new.project_id,
        document_ids=[str(document_id) for document_id in new.document_ids],
        template_filename=new.template_filename,
        template_blob_key=new.template_blob_key,
        job_id=job.id,
        restriction=tenant.work_restriction,
        job=job,
    )
    session.add(fill)
    session.flush()
    return fill


def list_fills(
    session: Session, tenant: Tenant, filters: FillFilters, limit: int, after: Position | None
) -> Page[TemplateFill]:
    statement = tenant.select(TemplateFill)
    if filters.status is not None:
        statement = statement.join(Job, Job.id == TemplateFill.job_id).where(Job.status == filters.status)
    return fetch_page(session, statement, TemplateFill, limit, after)


def cancel_fill(session: Session, fill: TemplateFill) -> None:
    """Cancel at once if pending; a running fill stops within about a second."""
    jobs.cancel(session, fill.job, "fill")


def find_fill(session: Session, fill_id: uuid.UUID) -> TemplateFill | None:
    """A fill by id alone: for its job, which runs on behalf of the tenant recorded in it."""
    return session.get(TemplateFill, fill_id)


def scoped_documents(
    session: Session, tenant: Tenant, project_id: uuid.UUID | None, document_ids: list[uuid.UUID] | None
) -> list[Document]:
    """The ready documents a fill sources from, oldest first: those named (None: all), of the project if one is
    named, else of the whole vault.

    Documents named but deleted or not ready since the fill started are left out, as search leaves them out.
    """
    statement = tenant.select(Document).where(Document.status == DocumentStatus.ready)
    if document_ids is not None:
        statement = statement.where(Document.id.in_(document_ids))
    if project_id is not None:
        statement = statement.where(Document.project_id == project_id)
    statement = statement.order_by(Document.created_at, Document.id).limit(MAX_SCOPE_DOCUMENTS + 1)
    return list(session.scalars(statement))


def record_filled_document(session: Session, fill_id: uuid.UUID, document_id: uuid.UUID) -> None:
    fill = session.get(TemplateFill, fill_id)
    if fill is not None:
        fill.filled_document_id = document_id


def find_filled_document(session: Session, fill: TemplateFill) -> Document | None:
    """The document the fill made, unless it has been deleted since."""
    if fill.filled_document_id is None:
        return None
    return session.scalar(select(Document).where(Document.id == fill.filled_document_id, Document.deleted_at.is_(None)))
