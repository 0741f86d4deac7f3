"""Accepting an upload: read its type from its bytes, store it, queue its ingestion."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import PurePosixPath
from typing import IO, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from storage import documents, jobs
from storage.blobs import BlobStore, new_blob_key
from storage.models import Document, Project
from storage.tenancy import Tenant
from vault.ingest import KIND as INGEST
from vault.sniff import sniff

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


def display_name(filename: str | None) -> str:
    """The name to show for an upload: its last path component, printable, at most 255 characters."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = _UNPRINTABLE.sub("", name).strip()
    return name[:255] or "upload"


def _digest(source: IO[bytes]) -> tuple[str, int]:
    source.seek(0)
    digest = hashlib.sha256()
    size = 0
    while block := source.read(1024 * 1024):
        digest.update(block)
        size += len(block)
    source.seek(0)
    return digest.hexdigest(), size


def _delete_unless_committed(session: Session, store: BlobStore, blob_key: str) -> None:
    """The blob is written before its row commits: if the transaction rolls back instead, no row will point at it."""
    committed = False

    def on_commit(_session: Session) -> None:
        nonlocal committed
        committed = True

    def on_rollback(_session: Session) -> None:
        if not committed:
            store.delete(blob_key)

    event.listen(session, "after_commit", on_commit, once=True)
    event.listen(session, "after_rollback", on_rollback, once=True)


def accept_upload(
    session: Session,
    store: BlobStore,
    tenant: Tenant,
    *,
    user_id: uuid.UUID,
    source: IO[bytes],
    filename: str | None,
    project_id: uuid.UUID | None,
    metadata: dict[str, Any],
    max_attempts: int,
) -> Document:
    """Check, store and queue one file; nothing is stored if the content is refused."""
    name = display_name(filename)
    content_type = sniff(source, name)
    if project_id is not None:
        tenant.get(session, Project, project_id)
    sha256, size = _digest(source)
    blob_key = new_blob_key(tenant)
    store.put(blob_key, source)
    _delete_unless_committed(session, store, blob_key)
    document = documents.create_document(
        session,
        tenant,
        documents.NewDocument(
            project_id=project_id,
            created_by=user_id,
            title=PurePosixPath(name).stem or name,
            filename=name,
            content_type=content_type,
            size_bytes=size,
            sha256=sha256,
            blob_key=blob_key,
            metadata=metadata,
        ),
    )
    job = jobs.enqueue(session, tenant, INGEST, {"document_id": str(document.id)}, max_attempts)
    document.job_id = job.id
    return document
