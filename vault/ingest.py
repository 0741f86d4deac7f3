"""The `ingest_document` job: fetch the blob, extract its text in a bounded child process, index it."""

from __future__ import annotations

import tempfile
import uuid
from typing import Any

from sqlalchemy.orm import Session

from core.failures import Failure
from jobs.runtime import JobContext, JobKind
from jobs.sandbox import LimitExceeded, run_limited
from storage import documents
from storage.blobs import BlobNotFound, blob_store_for
from storage.models import JobStatus
from vault.extract import Extracted, extract

KIND = "ingest_document"


def _document_id(payload: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(payload["document_id"])


def run(context: JobContext) -> None:
    document_id = _document_id(context.payload)
    context.checkpoint(5, "Fetching file")
    with context.session() as session:
        document = documents.find_live(session, document_id)
        if document is None:
            raise Failure("document_deleted", "The document was deleted before it was ingested.")
        blob_key, content_type = document.blob_key, document.content_type
    store = blob_store_for(context.settings)
    with tempfile.NamedTemporaryFile(prefix="vaultgate-ingest-", suffix=".blob") as local:
        try:
            store.copy_to(blob_key, local)
        except BlobNotFound:
            # Deleting the document removes its file and cancels this job: the checkpoint stops it as cancelled.
            context.checkpoint(5, "Fetching file")
            raise Failure("file_missing", "The document's stored file is gone; upload it again.") from None
        local.flush()
        context.checkpoint(20, "Extracting text")
        try:
            extracted: Extracted = run_limited(
                extract,
                local.name,
                content_type,
                timeout=context.settings.extraction_timeout_seconds,
                memory_bytes=context.settings.extraction_memory_bytes,
            )
        except LimitExceeded as exc:
            raise Failure("extraction_limit", f"Reading the file was stopped: it {exc}.") from None
    context.checkpoint(80, "Indexing for search")
    segments = [documents.TextSegment(s.location_type, s.number, s.text) for s in extracted.segments]

    def make_ready(session: Session) -> None:
        documents.store_extraction(
            session, document_id, title=extracted.title, page_count=extracted.page_count, segments=segments
        )

    context.complete(make_ready, result={"segments": len(segments), "page_count": extracted.page_count})


def on_progress(session: Session, payload: dict[str, Any], progress: int, stage: str) -> None:
    documents.record_progress(session, _document_id(payload), progress, stage)


def on_end(session: Session, payload: dict[str, Any], status: JobStatus, code: str | None, message: str | None) -> None:
    if status is JobStatus.cancelled:
        code, message = "cancelled", "Ingestion was cancelled."
    documents.record_end(session, _document_id(payload), code or "internal_error", message or "Ingestion failed.")


INGEST_DOCUMENT = JobKind(KIND, run, on_end=on_end, on_progress=on_progress)
