"""Filling a template stored in the vault as a document: the `fill_template` step of a workflow.

The same pipeline as `templates.start_fill` (`fills.job.fill_template`), run inside the step rather than as
a job of its own (a step waiting for another job would hold a worker that job may need). The filled DOCX is
not stored here: the step hands back the write, and the run applies it in the transaction that records the
step's result, so a cancelled step stores nothing and a run resumed after a crash stores one document.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.failures import Failure, Unsupported
from core.settings import Settings
from fills.job import FillScope, Sessions, fill_template, filled_name
from storage import template_fills
from storage.accounts import TEMPLATE_FILL, user_holds_permission
from storage.blobs import blob_store_for
from storage.models import Document
from vault.sniff import DOCX
from vault.uploads import NewFile, store_document


@dataclass(frozen=True)
class Filled:
    """The filled document, and the write that stores it under `document_id` (apply it once, in a transaction)."""

    document_id: uuid.UUID
    filename: str
    store: Callable[[Session], None]


def fill_stored_template(
    settings: Settings,
    sessions: Sessions,
    scope: FillScope,
    template_id: uuid.UUID,
    user_id: uuid.UUID,
    keep_alive: Callable[[], None],
) -> Filled:
    """Fill the vault's DOCX `template_id` from `scope`, for `user_id`; their document, in the scope's project.

    NotFound for a template or document out of reach, Invalid for documents outside the project,
    Unsupported for a template that is not a DOCX, Failure for one that cannot be filled or a user
    whose organization turned fills off.
    """
    with sessions() as session:
        if not user_holds_permission(session, user_id, TEMPLATE_FILL):
            raise Failure(
                "permission_denied",
                f"The organization has turned off the '{TEMPLATE_FILL}' permission for the run's owner.",
            )
        template = scope.tenant.get(session, Document, template_id)
        template_fills.check_scope(session, scope.tenant, scope.project_id, scope.document_ids)
        if template.content_type != DOCX:
            raise Unsupported(f"The template {template.title!r} is {template.content_type}, not a DOCX.")
        blob_key, filename = template.blob_key, template.filename
    data = fill_template(settings, sessions, scope, blob_key, lambda _progress, _stage: keep_alive())
    document_id = uuid.uuid4()
    filled = NewFile(
        user_id,
        io.BytesIO(data),
        filled_name(filename),
        DOCX,
        scope.project_id,
        {"template_document_id": str(template_id)},
        document_id=document_id,
        restriction=scope.tenant.work_restriction,
    )

    def store(session: Session) -> None:
        store_document(session, blob_store_for(settings), scope.tenant, filled, settings.job_max_attempts)

    return Filled(document_id, filled.filename, store)
