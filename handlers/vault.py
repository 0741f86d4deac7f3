"""vault: projects, documents (upload, ingestion state, text, download, delete) and search."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from starlette.responses import StreamingResponse

from core.failures import Invalid, NotFound
from gateway.auth import current_instance_key, current_principal, current_settings, database_session
from gateway.contract import load_contract
from gateway.cursors import pager_for
from gateway.signed_urls import download_link, public_base_url, verify_download
from gateway.validation import metadata_violation, parse_date_time
from storage import documents, projects
from storage.blobs import blob_store_for, content_disposition
from storage.models import Document, DocumentStatus, Project, utcnow
from storage.search import search as search_chunks
from vault.uploads import accept_upload
from vault.views import document_view, project_view


def _location(operation_id: str, **parameters: object) -> dict[str, str]:
    return {"Location": load_contract().url_for(operation_id, **parameters)}


def list_projects(*, limit: int, cursor: str | None = None) -> dict[str, Any]:
    """List projects, newest first."""
    pager = pager_for("vault.list_projects")
    with database_session() as session:
        page = projects.list_projects(session, pager.tenant, limit, pager.position(cursor))
        return pager.envelope(page, project_view)


def create_project(*, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create a project; names are unique per organization and mode."""
    with database_session() as session:
        project = projects.create_project(session, current_principal().tenant, body["name"], body.get("description"))
        return project_view(project), 201, _location("vault.get_project", project_id=project.id)


def get_project(*, project_id: str) -> dict[str, Any]:
    """Get one project."""
    with database_session() as session:
        return project_view(current_principal().tenant.get(session, Project, uuid.UUID(project_id)))


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
        raise Invalid.at("/metadata", detail)
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
            return document_view(document), 202, _location("vault.get_document", document_id=document.id)
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
    filters = documents.DocumentFilters(
        project_id=uuid.UUID(project_id) if project_id else None,
        status=DocumentStatus(status) if status else None,
        created_after=parse_date_time(created_after) if created_after else None,
        created_before=parse_date_time(created_before) if created_before else None,
    )
    pager = pager_for("vault.list_documents", vars(filters))
    with database_session() as session:
        page = documents.list_documents(session, pager.tenant, filters, limit, pager.position(cursor))
        return pager.envelope(page, document_view)


def get_document(*, document_id: str) -> dict[str, Any]:
    """Get one document and its ingestion state."""
    with database_session() as session:
        return document_view(current_principal().tenant.get(session, Document, uuid.UUID(document_id)))


def get_document_text(*, document_id: str) -> dict[str, Any]:
    """The extracted text of a ready document, with its page or paragraph segments."""
    with database_session() as session:
        document = documents.get_ready(session, current_principal().tenant, uuid.UUID(document_id))
        return {"document_id": document.id, "text": document.text or "", "segments": document.segments or []}


def download_document(*, document_id: str) -> dict[str, Any]:
    """A short-lived signed URL for the original bytes."""
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
