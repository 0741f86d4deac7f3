"""templates: fill an uploaded DOCX template from the vault; watch, list and cancel fills."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from fills.intake import TemplateUpload, accept_template, parse_document_ids
from gateway.auth import (
    current_instance_key,
    current_principal,
    current_settings,
    database_session,
    may_read_vault_content,
    require_permission,
)
from gateway.contract import load_contract
from gateway.cursors import pager_for
from gateway.signed_urls import download_link, public_base_url
from storage import template_fills
from storage.accounts import TEMPLATE_FILL
from storage.blobs import blob_store_for
from storage.models import TERMINAL_STATUSES, UNSUCCESSFUL_STATUSES, Document, JobStatus, TemplateFill, utcnow


def _fill_view(fill: TemplateFill, filled: Document | None, download_url: str | None) -> dict[str, Any]:
    job = fill.job
    failed = job.status in UNSUCCESSFUL_STATUSES
    return {
        "job_id": fill.id,
        "status": job.status.value,
        "progress": job.progress,
        "progress_stage": job.stage,
        "created_at": fill.created_at,
        "started_at": job.started_at,
        "completed_at": job.finished_at if job.status in TERMINAL_STATUSES else None,
        # Gone with the document, if its owner deleted it since.
        "filled_document_id": filled.id if filled is not None else None,
        "filled_download_url": download_url,
        # A retry's note on a crashed attempt is for operators; callers see errors once the fill ends.
        "error_code": job.error_code if failed else None,
        "error_message": job.error_message if failed else None,
    }


def _signing_view(session: Session) -> Callable[[TemplateFill], dict[str, Any]]:
    """Views of fills in which each completed fill's download link is signed now."""
    settings = current_settings()
    store, secret, now = blob_store_for(settings), current_instance_key().derive("download"), utcnow()
    base_url = public_base_url(settings)

    def view(fill: TemplateFill) -> dict[str, Any]:
        document = (
            template_fills.find_filled_document(session, fill) if fill.job.status is JobStatus.completed else None
        )
        # The filled document is vault content: its link only for a key that may read the vault.
        readable = may_read_vault_content(current_principal())
        url = download_link(store, secret, document, base_url, now)[0] if document and readable else None
        return _fill_view(fill, document, url)

    return view


def start_fill(*, body: dict[str, Any], file: Any) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Store a DOCX template and queue its fill; 202 with the pending job."""
    principal = current_principal()
    settings = current_settings()
    try:
        require_permission(principal, TEMPLATE_FILL)
        upload = TemplateUpload(
            user_id=principal.user_id,
            source=file.file,
            filename=file.filename,
            project_id=uuid.UUID(body["project_id"]) if body.get("project_id") else None,
            document_ids=parse_document_ids(body.get("document_ids")),
        )
        with database_session() as session:
            fill = accept_template(
                session, blob_store_for(settings), principal.tenant, upload, settings.job_max_attempts
            )
            location = load_contract().url_for("templates.get_fill_status", job_id=fill.id)
            return {"job_id": fill.id, "status": "pending"}, 202, {"Location": location}
    finally:
        file.file.close()


def get_fill_status(*, job_id: str) -> dict[str, Any]:
    """A fill's state, stage and error; once completed, its document and a freshly signed link to it."""
    with database_session() as session:
        fill = current_principal().tenant.get(session, TemplateFill, uuid.UUID(job_id))
        return _signing_view(session)(fill)


def list_fills(*, limit: int, cursor: str | None = None, status: str | None = None) -> dict[str, Any]:
    """List fills, newest first, filtered."""
    filters = template_fills.FillFilters(status=JobStatus(status) if status else None)
    pager = pager_for("templates.list_fills", vars(filters))
    with database_session() as session:
        page = template_fills.list_fills(session, pager.tenant, filters, limit, pager.position(cursor))
        return pager.envelope(page, _signing_view(session))


def cancel_fill(*, job_id: str) -> dict[str, Any]:
    """Cancel a pending fill now, a running one within about a second."""
    with database_session() as session:
        fill = current_principal().tenant.get(session, TemplateFill, uuid.UUID(job_id))
        template_fills.cancel_fill(session, fill)
        return _fill_view(fill, None, None)
