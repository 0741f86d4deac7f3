"""Accepting a template: read its type from its bytes, check the scope, store it, queue its fill."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import IO

from sqlalchemy.orm import Session

from core.failures import FieldError, Invalid
from storage import template_fills
from storage.blobs import BlobStore
from storage.models import TemplateFill
from storage.tenancy import Tenant
from vault.sniff import require_docx
from vault.uploads import display_name, store_blob

# The most documents a fill can be limited to by naming them (the `document_ids` field of an upload).
MAX_DOCUMENT_IDS = 100


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def parse_document_ids(raw: str | None) -> list[uuid.UUID]:
    """The comma-separated ids a fill is limited to, in order without repeats; Invalid naming every fault."""
    entries = [entry.strip() for entry in (raw or "").split(",") if entry.strip()]
    pointer = "/document_ids"
    errors = [FieldError(f"{entry[:60]!r} is not a UUID", pointer=pointer) for entry in entries if not _is_uuid(entry)]
    if len(entries) > MAX_DOCUMENT_IDS:
        errors.append(FieldError(f"at most {MAX_DOCUMENT_IDS} documents, not {len(entries)}", pointer=pointer))
    if errors:
        raise Invalid(f"document_ids: {errors[0].detail}.", tuple(errors))
    return list(dict.fromkeys(uuid.UUID(entry) for entry in entries))


@dataclass(frozen=True)
class TemplateUpload:
    user_id: uuid.UUID
    source: IO[bytes]
    filename: str | None
    project_id: uuid.UUID | None
    document_ids: list[uuid.UUID]


def accept_template(
    session: Session, store: BlobStore, tenant: Tenant, upload: TemplateUpload, max_attempts: int
) -> TemplateFill:
    """Check, store and queue one template; nothing is stored if the file or the scope is refused."""
    require_docx(upload.source)
    template_fills.check_scope(session, tenant, upload.project_id, upload.document_ids)
    blob_key = store_blob(session, store, tenant, upload.source)
    return template_fills.start_fill(
        session,
        tenant,
        template_fills.NewFill(
            user_id=upload.user_id,
            project_id=upload.project_id,
            document_ids=upload.document_ids,
            template_filename=display_name(upload.filename),
            template_blob_key=blob_key,
            max_attempts=max_attempts,
        ),
    )
