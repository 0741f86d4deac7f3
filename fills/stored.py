"""Filling a template stored in the vault as a document: the `fill_template` step of a workflow.

The same pipeline as `templates.start_fill`, run inside the step rather than as a job of its own (a step
waiting for another job would hold a worker that job may need). The filled DOCX is stored once the render
has finished, in its own transaction: a run resumed after a crash fills the template again.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fills.job import FillScope, Sessions, fill_template, filled_name
from gateway.settings import Settings
from storage import template_fills
from storage.models import Document
from vault.errors import UnsupportedContent
from vault.sniff import DOCX
from vault.uploads import NewFile, store_document


@dataclass(frozen=True)
class Filled:
    document_id: uuid.UUID
    filename: str


def fill_stored_template(
    settings: Settings,
    sessions: Sessions,
    scope: FillScope,
    template_id: uuid.UUID,
    user_id: uuid.UUID,
    keep_alive: Callable[[], None],
) -> Filled:
    """Fill the vault's DOCX `template_id` from `scope`; the result is `user_id`'s document, in the scope's project.

    NotFoundError for a template or document out of reach, InvalidInputError for documents outside the project,
    UnsupportedContent for a template that is not a DOCX, JobFailed for one that cannot be filled.
    """
    with sessions() as session:
        template = scope.tenant.get(session, Document, template_id)
        template_fills.check_scope(session, scope.tenant, scope.project_id, scope.document_ids)
        if template.content_type != DOCX:
            raise UnsupportedContent(f"The template {template.title!r} is {template.content_type}, not a DOCX.")
        blob_key, filename = template.blob_key, template.filename
    store = settings.blob_store()
    with tempfile.TemporaryDirectory(prefix="vaultgate-fill-") as work:
        template_path, output = Path(work) / "template.docx", Path(work) / "filled.docx"
        with template_path.open("wb") as local:
            store.copy_to(blob_key, local)
        fill_template(settings, sessions, scope, template_path, output, lambda _progress, _stage: keep_alive())
        with output.open("rb") as source, sessions() as session:
            metadata = {"template_document_id": str(template_id)}
            new = NewFile(user_id, source, filled_name(filename), DOCX, scope.project_id, metadata)
            document = store_document(session, store, scope.tenant, new, settings.job_max_attempts)
            return Filled(document.id, document.filename)
