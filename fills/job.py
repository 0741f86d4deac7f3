"""The `template_fill` job: check the template, source the vault, fill it in a bounded child, store the result.

The child renders; this process answers its `search` and `ask` calls from
the database, scoped to the fill, and records its stages. A cancel request
is noticed within a second even while the child renders: the child is killed.
"""

from __future__ import annotations

import io
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.orm import Session

from core.failures import Failure, Unsafe, Unsupported
from core.settings import Settings
from fills.render import (
    MAX_ASK_DOCUMENTS,
    MAX_QUERY_CHARS,
    MAX_SEARCH_HITS,
    NARRATIVE_STAGE,
    RENDERING_STAGE,
    TABLES_STAGE,
    check_template,
    render_fill,
)
from jobs.runtime import JobContext, JobKind
from jobs.sandbox import LimitExceeded, run_limited
from storage import documents, template_fills
from storage.blobs import BlobNotFound, blob_store_for
from storage.models import Document, Project
from storage.search import search
from storage.tenancy import Tenant
from vault import answers
from vault.fields import extract_fields
from vault.sniff import DOCX, require_docx
from vault.uploads import NewFile, store_document
from vault.views import document_view, project_view

KIND = template_fills.FILL_KIND
VALIDATING_STAGE = "Validating template"
SOURCING_STAGE = "Sourcing from vault"
PROGRESS = {VALIDATING_STAGE: 5, SOURCING_STAGE: 15, NARRATIVE_STAGE: 30, TABLES_STAGE: 60, RENDERING_STAGE: 85}
VALIDATING = (PROGRESS[VALIDATING_STAGE], VALIDATING_STAGE)
# Stage changes are written as they happen, the first ones at once; a template flipping between tables in a
# loop gets its stage written at most this often (and once more where the render ends).
STAGE_WRITES_AT_ONCE = 20
STAGE_WRITE_SECONDS = 0.25
# The documents' text is handed whole to the render child, whose memory is bounded.
MAX_SCOPE_TEXT_CHARS = 64 * 1024 * 1024
# A template looping over `ask` could otherwise query the database without end; repeated calls are answered once.
MAX_VAULT_CALLS = 1000


def _sourced_view(document: Document) -> dict[str, Any]:
    """A document as a template sees it: as the API shows it, with its text and that text's `Label: value` fields."""
    text = document.text or ""
    return {**document_view(document), "text": text, "fields": extract_fields(text)}


# Records a fill's progress and stage; raises to stop it (a cancel, a lost lease).
Report = Callable[[int, str], None]
Sessions = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class FillScope:
    """Whose vault a fill reads, and how much of it: a project, some documents (None: all of them), or both."""

    tenant: Tenant
    project_id: uuid.UUID | None
    document_ids: list[uuid.UUID] | None


@dataclass(frozen=True)
class _Found:
    """The documents found ready in scope when the fill started: those `documents` lists, and the only ones
    `search` and `ask` read."""

    tenant: Tenant
    found: frozenset[str]

    def still_visible(self, session: Session, among: set[str] | None = None) -> list[uuid.UUID]:
        """The found documents (of `among`) not deleted since: search and ask leave deleted ones out."""
        wanted = [uuid.UUID(i) for i in sorted(self.found if among is None else self.found & among)]
        return sorted(documents.visible_ids(session, self.tenant, wanted)) if wanted else []


class _VaultCalls:
    """Serves the child: its stages become checkpoints, its `search` and `ask` are answered within the scope."""

    def __init__(self, sessions: Sessions, scope: _Found, report: Report) -> None:
        self.sessions = sessions
        self.scope = scope
        self.report = report
        self.stage = SOURCING_STAGE
        self.progress = PROGRESS[SOURCING_STAGE]
        self.calls = 0
        self._recorded = 0.0
        self._writes = 0
        self._pending = False
        self._answered: dict[tuple[str, tuple[Any, ...]], Any] = {}

    def enter(self, stage: str) -> None:
        # Stages can alternate (narrative, a table, narrative again); progress never goes back.
        self.stage, self.progress, self._pending = stage, max(self.progress, PROGRESS[stage]), True
        if self._writes < STAGE_WRITES_AT_ONCE or time.monotonic() - self._recorded >= STAGE_WRITE_SECONDS:
            self.idle()

    def idle(self) -> None:
        """A checkpoint while the child works: a cancel request stops it within a second."""
        self._recorded, self._writes, self._pending = time.monotonic(), self._writes + 1, False
        self.report(self.progress, self.stage)

    def flush(self) -> None:
        """Write the stage the render ended in, if it has not been."""
        if self._pending:
            self.idle()

    def __call__(self, name: str, args: tuple[Any, ...]) -> Any:
        if name == "stage" and args and args[0] in PROGRESS:
            self.enter(args[0])
            return None
        if not _well_formed(name, args):
            # The child checks these itself: only a child out of its sandbox sends anything else.
            raise Failure("template_forbidden", f"The render sent a call the gateway does not answer: {name}.")
        key = (name, tuple(tuple(a) if isinstance(a, list) else a for a in args))
        if key not in self._answered:
            self.calls += 1
            if self.calls > MAX_VAULT_CALLS:
                raise Failure(
                    "vault_call_limit", f"The template called search or ask more than {MAX_VAULT_CALLS} times."
                )
            with self.sessions() as session:
                self._answered[key] = self._search(session, *args) if name == "search" else self._ask(session, *args)
        return self._answered[key]

    def _search(self, session: Session, query: str, k: int) -> list[dict[str, Any]]:
        visible = self.scope.still_visible(session)
        if not visible:
            return []
        hits = search(session, self.scope.tenant, query, limit=k, document_ids=visible)
        return [hit.as_data() for hit in hits]

    def _ask(self, session: Session, question: str, among: list[str] | None) -> dict[str, Any]:
        # `ask(question, documents)` narrows the fill's scope, never widens it.
        visible = self.scope.still_visible(session, None if among is None else set(among))
        if not visible:
            return answers.Answer(answers.NO_ANSWER, []).as_data()
        return answers.answer(session, self.scope.tenant, question, document_ids=visible).as_data()


def _well_formed(name: str, args: tuple[Any, ...]) -> bool:
    if name == "search":
        return len(args) == 2 and _is_query(args[0]) and isinstance(args[1], int) and 1 <= args[1] <= MAX_SEARCH_HITS
    if name == "ask":
        among = args[1] if len(args) == 2 else None
        ids_ok = among is None or (
            isinstance(among, list) and len(among) <= MAX_ASK_DOCUMENTS and all(isinstance(i, str) for i in among)
        )
        return len(args) == 2 and _is_query(args[0]) and ids_ok
    return False


def _is_query(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_QUERY_CHARS


def _bounded(
    settings: Settings, function: Any, *args: Any, idle: Callable[[], None], calls: _VaultCalls | None = None
) -> None:
    try:
        run_limited(
            function,
            *args,
            timeout=settings.render_timeout_seconds,
            memory_bytes=settings.render_memory_bytes,
            # The wall clock decides (it is the limit users read about); CPU time is the backstop.
            cpu_seconds=int(settings.render_timeout_seconds) + 1,
            serve=calls,
            idle=idle,
        )
    except Failure:
        if calls is not None:
            calls.flush()
        raise
    except LimitExceeded as exc:
        if exc.limit == "time":
            raise Failure(
                "render_timeout",
                f"Filling the template was stopped after {settings.render_timeout_seconds:g} s; "
                "a loop in it may never end.",
            ) from None
        raise Failure("render_resource_limit", f"Filling the template was stopped: it {exc}.") from None


def _validate(template: Path) -> None:
    with template.open("rb") as source:
        try:
            require_docx(source)
        except (Unsupported, Unsafe) as exc:
            raise Failure("unsafe_document", str(exc)) from None


def fill_template(
    settings: Settings, sessions: Sessions, scope: FillScope, template_blob_key: str, report: Report
) -> bytes:
    """The filled DOCX of the template stored under `template_blob_key`, from the vault in `scope`: checked,
    sourced, rendered in bounded children. Failure says why a template cannot be filled; whatever `report`
    raises stops the fill."""
    with tempfile.TemporaryDirectory(prefix="vaultgate-fill-") as work:
        template, output = Path(work) / "template.docx", Path(work) / "filled.docx"
        with template.open("wb") as local:
            try:
                blob_store_for(settings).copy_to(template_blob_key, local)
            except BlobNotFound:
                # Its storage id means nothing to the caller; what happened and what to do does.
                raise Failure("file_missing", "The template's stored file is gone; upload it again.") from None
        # Checked at upload too; again here, as the bytes this worker is about to parse.
        _validate(template)
        _bounded(settings, check_template, str(template), idle=lambda: report(*VALIDATING))
        report(PROGRESS[SOURCING_STAGE], SOURCING_STAGE)
        vault = _source(sessions, scope)
        found = _Found(scope.tenant, frozenset(document["id"] for document in vault["documents"]))
        calls = _VaultCalls(sessions, found, report)
        _bounded(settings, render_fill, str(template), str(output), vault, date.today(), idle=calls.idle, calls=calls)
        # In memory: the render's memory limit bounds it, and the file goes with the directory.
        return output.read_bytes()


def run(context: JobContext) -> None:
    fill_id = uuid.UUID(context.payload["fill_id"])
    context.checkpoint(*VALIDATING)
    with context.session() as session:
        fill = template_fills.find_fill(session, fill_id)
        if fill is None:
            raise Failure("fill_missing", "The fill's record is gone.")
        # The claim's tenant is the fill's, restricted as its starter was (projects, restrictions digest).
        tenant = context.claim.tenant
        # The API's `document_ids` narrows the scope when it names any.
        scope = FillScope(tenant, fill.project_id, [uuid.UUID(d) for d in fill.document_ids] or None)
        blob_key, filename, user_id = fill.template_blob_key, fill.template_filename, fill.created_by
    data = fill_template(context.settings, context.session, scope, blob_key, context.checkpoint)
    metadata = {"template_fill_id": str(fill_id)}
    _store(
        context,
        fill_id,
        tenant,
        NewFile(
            user_id,
            io.BytesIO(data),
            filled_name(filename),
            DOCX,
            scope.project_id,
            metadata,
            restriction=tenant.work_restriction,
        ),
    )


def filled_name(template_filename: str) -> str:
    """`Review.docx` → `Review-filled.docx`."""
    stem = PurePosixPath(template_filename).stem or "template"
    return f"{stem}-filled.docx"


def _source(sessions: Sessions, scope: FillScope) -> dict[str, Any]:
    """What the template sees of the vault: the project and the ready documents in scope, text included."""
    with sessions() as session:
        found = template_fills.scoped_documents(session, scope.tenant, scope.project_id, scope.document_ids)
        if len(found) > template_fills.MAX_SCOPE_DOCUMENTS:
            raise Failure(
                "scope_too_large",
                f"More than {template_fills.MAX_SCOPE_DOCUMENTS} documents are in scope; "
                "name a project or document_ids to fill from fewer.",
            )
        if sum(len(document.text or "") for document in found) > MAX_SCOPE_TEXT_CHARS:
            raise Failure(
                "scope_too_large",
                f"The documents in scope hold over {MAX_SCOPE_TEXT_CHARS // (1024 * 1024)} M characters of text; "
                "name a project or document_ids to fill from fewer.",
            )
        project = None
        if scope.project_id is not None:
            project = project_view(scope.tenant.get(session, Project, scope.project_id))
        return {"project": project, "documents": [_sourced_view(document) for document in found]}


def _store(context: JobContext, fill_id: uuid.UUID, tenant: Tenant, filled: NewFile) -> None:
    """The filled DOCX becomes the caller's vault document, in the transaction that completes the fill."""
    store = blob_store_for(context.settings)

    def keep(session: Session) -> None:
        document = store_document(session, store, tenant, filled, context.settings.job_max_attempts)
        template_fills.record_filled_document(session, fill_id, document.id)

    context.complete(keep, result={"filename": filled.filename})


TEMPLATE_FILL = JobKind(KIND, run)
