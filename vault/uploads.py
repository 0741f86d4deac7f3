"""Accepting an upload: read its type from its bytes, store it, queue its ingestion."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from storage import documents, jobs
from storage.blobs import BlobStore, Readable, new_blob_key
from storage.models import Document
from storage.tenancy import Tenant
from vault.ingest import KIND as INGEST
from vault.sniff import sniff

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


def display_name(filename: str | None) -> str:
    """The name to show for an upload: its last path component, printable, at most 255 characters."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = _UNPRINTABLE.sub("", name).strip()
    return name[:255] or "upload"


class _Digesting:
    """Hashes and counts the bytes as the blob store reads them: the upload is read once, not twice."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1, /) -> bytes:
        block = self.source.read(size)
        self.sha256.update(block)
        self.size += len(block)
        return block


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
    # Before the bytes are stored; `create_document` checks again, for every other way a document is made.
    tenant.check_new_object_project(session, project_id)
    return store_document(
        session,
        store,
        tenant,
        NewFile(user_id, source, name, content_type, project_id, metadata),
        max_attempts,
    )


@dataclass(frozen=True)
class NewFile:
    """A file whose type is known, to become a vault document."""

    user_id: uuid.UUID
    source: IO[bytes]
    filename: str
    content_type: str
    project_id: uuid.UUID | None
    metadata: dict[str, Any]
    document_id: uuid.UUID | None = None
    # A file made from the vault (a filled template): the restriction it was made under; None for an upload.
    restriction: str | None = None


def store_blob(session: Session, store: BlobStore, tenant: Tenant, source: Readable) -> str:
    """Store `source` under a new key, removed again if the session's transaction rolls back."""
    blob_key = new_blob_key(tenant)
    store.put(blob_key, source)
    _delete_unless_committed(session, store, blob_key)
    return blob_key


def store_document(session: Session, store: BlobStore, tenant: Tenant, new: NewFile, max_attempts: int) -> Document:
    """Store the file as a pending document and queue its ingestion, in the session's transaction."""
    stored = _Digesting(new.source)
    blob_key = store_blob(session, store, tenant, stored)
    document = documents.create_document(
        session,
        tenant,
        documents.NewDocument(
            project_id=new.project_id,
            created_by=new.user_id,
            title=PurePosixPath(new.filename).stem or new.filename,
            filename=new.filename,
            content_type=new.content_type,
            size_bytes=stored.size,
            sha256=stored.sha256.hexdigest(),
            blob_key=blob_key,
            metadata=new.metadata,
            id=new.document_id,
            restriction=new.restriction,
        ),
    )
    job = jobs.enqueue(session, tenant, INGEST, {"document_id": str(document.id)}, max_attempts)
    document.job_id = job.id
    return document
