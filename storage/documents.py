"""Documents: rows, their ingestion state, their text and searchable chunks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.failures import Conflict, NotFound
from storage.blobs import BlobStore
from storage.jobs import request_cancel
from storage.models import Document, DocumentChunk, DocumentStatus, Job, Project, utcnow
from storage.pagination import Page, Position, fetch_page
from storage.tenancy import Tenant

# A passage longer than this is split so a hit's snippet and location stay precise.
MAX_CHUNK_CHARS = 2000


@dataclass(frozen=True)
class NewDocument:
    project_id: uuid.UUID | None
    created_by: uuid.UUID
    title: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    blob_key: str
    metadata: dict[str, Any]
    # Chosen ahead when a result must name the document before the transaction that makes it commits.
    id: uuid.UUID | None = None
    # Made by work from the vault (a fill): the restriction it was produced under (`Tenant.work_restriction`).
    # None for an upload, which its project alone governs.
    restriction: str | None = None


@dataclass(frozen=True)
class DocumentFilters:
    project_id: uuid.UUID | None = None
    status: DocumentStatus | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class TextSegment:
    location_type: str
    number: int
    text: str


def create_document(session: Session, tenant: Tenant, new: NewDocument) -> Document:
    tenant.check_new_object_project(session, new.project_id)
    document = Document(
        id=new.id or uuid.uuid4(),
        organization_id=tenant.organization_id,
        mode=tenant.mode,
        project_id=new.project_id,
        created_by=new.created_by,
        title=new.title,
        filename=new.filename,
        content_type=new.content_type,
        size_bytes=new.size_bytes,
        sha256=new.sha256,
        blob_key=new.blob_key,
        user_metadata=new.metadata,
        status=DocumentStatus.pending,
        progress=0,
        stage="Queued",
        restriction=new.restriction,
    )
    session.add(document)
    session.flush()
    return document


def list_documents(
    session: Session, tenant: Tenant, filters: DocumentFilters, limit: int, after: Position | None
) -> Page[Document]:
    statement = tenant.select(Document)
    if filters.project_id is not None:
        statement = statement.where(Document.project_id == filters.project_id)
    if filters.status is not None:
        statement = statement.where(Document.status == filters.status)
    if filters.created_after is not None:
        statement = statement.where(Document.created_at >= filters.created_after)
    if filters.created_before is not None:
        statement = statement.where(Document.created_at < filters.created_before)
    return fetch_page(session, statement, Document, limit, after)


def soft_delete(session: Session, store: BlobStore, document: Document) -> None:
    """Hide the document, drop it from search at once and stop its ingestion; its bytes and text go now.

    The row stays (deleted), so its id answers 404 rather than being reused. The blob is removed before the
    transaction commits, once the row's changes are written: a failed removal fails the delete (a retry
    finishes it), so a document reported deleted never leaves behind bytes an issued URL still serves.
    """
    # The job's row first: its worker locks the job, then the document (a checkpoint, the completion), and
    # the opposite order deadlocked on PostgreSQL when a delete met a finishing ingestion.
    job = session.get(Job, document.job_id) if document.job_id else None
    if job is not None:
        request_cancel(session, job)
        session.flush()
    document.deleted_at = utcnow()
    document.text = None
    document.segments = None
    session.execute(delete(DocumentChunk).where(DocumentChunk.document_id == document.id))
    session.flush()
    store.delete(document.blob_key)


def find_live(session: Session, document_id: uuid.UUID) -> Document | None:
    """A document by id alone, not deleted: for jobs, and for callers that proved their right to it
    another way (a signed URL)."""
    return session.scalar(select(Document).where(Document.id == document_id, Document.deleted_at.is_(None)))


def get_ready(session: Session, tenant: Tenant, document_id: uuid.UUID) -> Document:
    """The tenant's document, which must be `ready` (its text exists only then)."""
    document = tenant.get(session, Document, document_id)
    if document.status is not DocumentStatus.ready:
        raise Conflict(f"document {document.id} is {document.status.value}; its text is there once ready")
    return document


def _split(text: str) -> list[str]:
    pieces: list[str] = []
    while len(text) > MAX_CHUNK_CHARS:
        cut = text.rfind(" ", MAX_CHUNK_CHARS // 2, MAX_CHUNK_CHARS)
        cut = cut if cut > 0 else MAX_CHUNK_CHARS
        pieces.append(text[:cut])
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def record_progress(session: Session, document_id: uuid.UUID, progress: int, stage: str) -> None:
    document = find_live(session, document_id)
    if document is not None:
        document.status = DocumentStatus.processing
        document.progress = progress
        document.stage = stage


def store_extraction(
    session: Session,
    document_id: uuid.UUID,
    *,
    title: str | None,
    page_count: int | None,
    segments: list[TextSegment],
) -> None:
    """Make the document `ready`: its text, segments and search chunks replace any earlier attempt's."""
    document = find_live(session, document_id)
    if document is None:
        return  # deleted while ingesting: nothing to index
    session.execute(delete(DocumentChunk).where(DocumentChunk.document_id == document_id))
    parts: list[str] = []
    spans: list[dict[str, Any]] = []
    offset = 0
    for segment in segments:
        if parts:
            offset += 2
        spans.append(
            {
                "location": {"type": segment.location_type, "number": segment.number},
                "start": offset,
                "end": offset + len(segment.text),
            }
        )
        parts.append(segment.text)
        offset += len(segment.text)
    chunks = [
        DocumentChunk(
            document_id=document_id,
            ordinal=ordinal,
            location_type=segment.location_type,
            location_number=segment.number,
            text=piece,
        )
        for ordinal, (segment, piece) in enumerate(
            (segment, piece) for segment in segments for piece in _split(segment.text)
        )
    ]
    session.add_all(chunks)
    document.text = "\n\n".join(parts)
    document.segments = spans
    document.page_count = page_count
    if title:
        document.title = title
    document.status = DocumentStatus.ready
    document.progress = 100
    document.stage = "done"
    document.error_code = None
    document.error_message = None


def record_end(session: Session, document_id: uuid.UUID, code: str, message: str) -> None:
    document = find_live(session, document_id)
    if document is not None:
        document.status = DocumentStatus.failed
        document.error_code = code
        document.error_message = message[:1000]


def visible_ids(session: Session, tenant: Tenant, document_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `document_ids` the tenant can see: its own, not deleted."""
    statement = tenant.select(Document).with_only_columns(Document.id).where(Document.id.in_(document_ids))
    return set(session.scalars(statement))


def require_visible(session: Session, tenant: Tenant, document_ids: list[uuid.UUID]) -> None:
    """NotFound for the first of `document_ids` the tenant cannot see (another tenant's, deleted, unknown)."""
    visible = visible_ids(session, tenant, document_ids)
    for document_id in document_ids:
        if document_id not in visible:
            raise NotFound(Document.kind, document_id)


@dataclass(frozen=True)
class Selection:
    """Which documents a workflow step works on."""

    project_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_until: datetime | None = None
    metadata: dict[str, str | int | float | bool] | None = None
    status: DocumentStatus | None = None


def _metadata_equals(key: str, value: str | int | float | bool) -> Any:
    # JSON path comparisons SQLAlchemy renders for both SQLite (json_extract) and PostgreSQL (->>).
    field = Document.user_metadata[key]
    if isinstance(value, bool):
        return field.as_boolean() == value
    if isinstance(value, int):
        return field.as_integer() == value
    if isinstance(value, float):
        return field.as_float() == value
    return field.as_string() == value


def select_documents(session: Session, tenant: Tenant, selection: Selection, limit: int) -> list[Document]:
    """The tenant's documents matching `selection`, oldest first (the order people review them in)."""
    if selection.project_id is not None:
        tenant.get(session, Project, selection.project_id)
    statement = tenant.select(Document)
    if selection.project_id is not None:
        statement = statement.where(Document.project_id == selection.project_id)
    if selection.created_from is not None:
        statement = statement.where(Document.created_at >= selection.created_from)
    if selection.created_until is not None:
        statement = statement.where(Document.created_at < selection.created_until)
    if selection.status is not None:
        statement = statement.where(Document.status == selection.status)
    for key, value in (selection.metadata or {}).items():
        statement = statement.where(_metadata_equals(key, value))
    return list(session.scalars(statement.order_by(Document.created_at, Document.id).limit(limit)))


def get_many_ready(session: Session, tenant: Tenant, document_ids: list[uuid.UUID]) -> list[Document]:
    """The tenant's documents, in the order asked; NotFound or Conflict (not ready) for the first that fails."""
    found = {d.id: d for d in session.scalars(tenant.select(Document).where(Document.id.in_(document_ids)))}
    for document_id in document_ids:
        document = found.get(document_id)
        if document is None:
            raise NotFound(Document.kind, document_id)
        if document.status is not DocumentStatus.ready:
            raise Conflict(f"document {document_id} is {document.status.value}; its text is there once ready")
    return [found[document_id] for document_id in document_ids]
