"""Documents and projects as callers see them: one representation for the API, workflow steps and templates.

Plain JSON values only (ids and instants as strings), because a workflow step's
result is stored as JSON and a template's context crosses into a sandboxed child.
"""

from __future__ import annotations

from typing import Any

from storage.models import Document, Project


def document_view(document: Document) -> dict[str, Any]:
    """A document and its ingestion state: the contract's `Document` schema."""
    return {
        "id": str(document.id),
        "project_id": str(document.project_id) if document.project_id else None,
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
        "created_at": document.created_at.isoformat(),
        "updated_at": document.updated_at.isoformat(),
    }


def project_view(project: Project) -> dict[str, Any]:
    """A project: the contract's `Project` schema."""
    return {
        "id": str(project.id),
        "name": project.name,
        "description": project.description,
        "created_at": project.created_at.isoformat(),
    }


def document_summary(document: Document) -> dict[str, Any]:
    """A document as a workflow step returns it: what later steps select on, small enough that a step
    listing hundreds stays under the run's per-step result cap (the full view is twice the size)."""
    return {
        "id": str(document.id),
        "title": document.title,
        "filename": document.filename,
        "content_type": document.content_type,
        "status": document.status.value,
        "metadata": document.user_metadata,
        "created_at": document.created_at.isoformat(),
    }
