"""vault: projects, documents (upload, ingestion state, text, download, delete) and search."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from starlette.responses import StreamingResponse

from core.failures import FieldError, NotFound
from gateway.auth import current_instance_key, current_principal, current_settings, database_session
from gateway.contract import load_contract
from gateway.cursors import Pager
from gateway.problems import Problem
from gateway.signed_urls import download_link, public_base_url, verify_download
from gateway.validation import metadata_violation, parse_date_time
from storage import documents, projects
from storage.blobs import blob_store_for, content_disposition
from storage.models import Document, DocumentStatus, Project, utcnow
from storage.search import search as search_chunks
from vault.uploads import accept_upload


def _project_view(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "created_at": project.created_at,
    }


def _document_view(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "project_id": document.project_id,
        "title": document.title,
        "filename": document.filename,
        "content_type": document.content_type,
        "size_bytes": document.size_bytes,
        "sha256": document.sha256,
        "page_count": document.page_count,
        "metadata": document.user_metadata,
        "status": document.status.value,
        "progress": document.progress,
        "stage": document.stage,
        "error_code": document.error_code,
        "error_message": document.error_message,
        "created_at": document.created_at,
        "updated_at": document.updated_at,
    }


def _location(operation_id: str, **parameters: object) -> dict[str, str]:
    return {"Location": load_contract().url_for(operation_id, **parameters)}


def list_projects(*, limit: int, cursor: str | None = None) -> dict[str, Any]:
    """List projects, newest first."""
    tenant = current_principal().tenant
    with database_session() as session:
        pager = Pager(current_instance_key().derive("cursor"), tenant, "vault.list_projects", {})
        return pager.envelope(projects.list_projects(session, tenant, limit, pager.position(cursor)), _project_view)


def create_project(*, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create a project; names are unique per organization and mode."""
    with database_session() as session:
        project = projects.create_project(session, current_principal().tenant, body["name"], body.get("description"))
        return _project_view(project), 201, _location("vault.get_project", project_id=project.id)


def get_project(*, project_id: str) -> dict[str, Any]:
    """Get one project."""
    with database_session() as session:
        return _project_view(current_principal().tenant.get(session, Project, uuid.UUID(project_id)))


def _metadata(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        metadata = json.loads(raw)
    except ValueError:
        metadata = None
    problem = "must be a JSON object" if not isinstance(metadata, dict) else metadata_violation(metadata)
    if problem:
        detail = f"metadata {problem}"
        raise Problem("validation_error", detail, status=422, errors=[FieldError(detail, pointer="/metadata")])
    accepted: dict[str, Any] = metadata
    return accepted


def upload_document(*, body: dict[str, Any], file: Any) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Store a file and queue its ingestion; 202 with the pending document."""
    principal = current_principal()
    settings = current_settings()
    try:
        metadata = _metadata(body.get("metadata"))
        project_id = uuid.UUID(body["project_id"]) if body.get("project_id") else None
        with database_session() as session:
            document = accept_upload(
                session,
                blob_store_for(settings),
                principal.tenant,
                user_id=principal.user_id,
                source=file.file,
                filename=file.filename,
                project_id=project_id,
                metadata=metadata,
                max_attempts=settings.job_max_attempts,
            )
            return _document_view(document), 202, _location("vault.get_document", document_id=document.id)
    finally:
        file.file.close()


def list_documents(
    *,
    limit: int,
    cursor: str | None = None,
    project_id: str | None = None,
    status: str | None = None,
    created_after: str | None = None,
    created_before: str | None = None,
) -> dict[str, Any]:
    """List documents, newest first, filtered."""
    tenant = current_principal().tenant
    filters = documents.DocumentFilters(
        project_id=uuid.UUID(project_id) if project_id else None,
        status=DocumentStatus(status) if status else None,
        created_after=parse_date_time(created_after) if created_after else None,
        created_before=parse_date_time(created_before) if created_before else None,
    )
    with database_session() as session:
        pager = Pager(current_instance_key().derive("cursor"), tenant, "vault.list_documents", vars(filters))
        page = documents.list_documents(session, tenant, filters, limit, pager.position(cursor))
        return pager.envelope(page, _document_view)


def get_document(*, document_id: str) -> dict[str, Any]:
    """Get one document and its ingestion state."""
    with database_session() as session:
        return _document_view(current_principal().tenant.get(session, Document, uuid.UUID(document_id)))


def get_document_text(*, document_id: str) -> dict[str, Any]:
    """The extracted text of a ready document, with its page or paragraph segments."""
    with database_session() as session:
        document = documents.get_ready(session, current_principal().tenant, uuid.UUID(document_id))
        return {"document_id": document.id, "text": document.text or "", "segments": document.segments or []}


def download_document(*, document_id: str) -> dict[str, Any]:
    """A signed URL for the original bytes, valid one hour."""
    settings = current_settings()
    with database_session() as session:
        document = current_principal().tenant.get(session, Document, uuid.UUID(document_id))
        url, expires_at = download_link(
            blob_store_for(settings),
            current_instance_key().derive("download"),
            document,
            public_base_url(settings),
            utcnow(),
        )
    return {"download_url": url, "expires_at": expires_at}


def get_document_content(*, document_id: str, expires: int, signature: str) -> StreamingResponse:
    """The original bytes, for a URL signed by vault.download_document."""
    settings = current_settings()
    with database_session() as session:
        verify_download(current_instance_key().derive("download"), uuid.UUID(document_id), expires, signature, utcnow())
        document = documents.find_live(session, uuid.UUID(document_id))
        if document is None:
            raise NotFound("document", document_id)
    source = blob_store_for(settings).open(document.blob_key)

    def chunks() -> Iterator[bytes]:
        with source:
            while block := source.read(64 * 1024):
                yield block

    return StreamingResponse(
        chunks(),
        media_type=document.content_type,
        headers={
            "Content-Disposition": content_disposition(document.filename),
            "Content-Length": str(document.size_bytes),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def delete_document(*, document_id: str) -> tuple[None, int]:
    """Soft-delete a document: gone from search at once, 404 afterwards, its bytes removed; its ingestion stops."""
    with database_session() as session:
        document = current_principal().tenant.get(session, Document, uuid.UUID(document_id))
        documents.soft_delete(session, blob_store_for(current_settings()), document)
    return None, 204


def search(
    *, q: str, limit: int, project_id: str | None = None, document_ids: list[str] | None = None
) -> dict[str, Any]:
    """Ranked full-text hits from ready documents."""
    with database_session() as session:
        hits = search_chunks(
            session,
            current_principal().tenant,
            q,
            limit=limit,
            project_id=uuid.UUID(project_id) if project_id else None,
            document_ids=[uuid.UUID(d) for d in document_ids] if document_ids else None,
        )
    return {"data": [hit.as_data() for hit in hits]}
