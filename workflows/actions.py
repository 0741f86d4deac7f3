"""The built-in actions a workflow step can use. Each reads the vault through its run's scope only.

An action takes its step's evaluated `with` (checked against the action's
schema in `definition.schema.json`) and returns a JSON result, kept as the
step's result and visible to later steps as `steps.<id>`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

import jsonschema
import regex
from sqlalchemy.orm import Session

from core.failures import Conflict, Failure, Forbidden, Invalid, NotFound, Unsupported
from core.settings import Settings
from fills.job import FillScope
from fills.stored import fill_stored_template
from storage import documents
from storage.models import Document, DocumentStatus
from storage.search import search as search_chunks
from storage.tenancy import Tenant
from vault import summarize as summaries
from vault.views import document_summary
from workflows.definition import SCHEMA_PATH, Definition

# A user's pattern runs against a whole document: bounded, so a catastrophic one fails the step, not the worker.
PATTERN_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Scope:
    """What a run may see: its tenant's vault, by default its project."""

    tenant: Tenant
    project_id: uuid.UUID | None
    session: Callable[[], AbstractContextManager[Session]]
    # What filling a template needs besides the vault: the worker's settings, whose document the result is,
    # and a checkpoint that keeps a long render cancellable. Set by the run.
    settings: Settings | None = None
    user_id: uuid.UUID | None = None
    keep_alive: Callable[[], None] = field(default=lambda: None)
    # Writes the step's effect needs, applied by the run in the transaction that records the step's result.
    defer: Callable[[Callable[[Session], None]], None] | None = None


@cache
def _argument_validator(action: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{action}"})


def check_arguments(action: str, arguments: dict[str, Any]) -> list[str]:
    """Why the evaluated arguments do not fit the action, one line per problem (`with/<name>: …`)."""
    errors = sorted(_argument_validator(action).iter_errors(arguments), key=lambda e: list(map(str, e.path)))
    return [f"with/{'/'.join(map(str, error.path))}: {error.message}".replace("with/: ", "with: ") for error in errors]


def _instant(text: str, end_of_day: bool) -> datetime:
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), UTC)
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _uuid(value: str, pointer: str) -> uuid.UUID:
    # The schema checks literal ids; an expression's result is only known here.
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Failure("invalid_arguments", f"{pointer}: {value[:60]!r} is not an id.") from None


def _document_ids(arguments: dict[str, Any]) -> list[uuid.UUID]:
    items = arguments["documents"]
    return list(dict.fromkeys(_uuid(i["id"] if isinstance(i, dict) else i, "with/documents") for i in items))


def _project(scope: Scope, arguments: dict[str, Any]) -> uuid.UUID | None:
    given = arguments.get("project_id")
    return _uuid(given, "with/project_id") if given else scope.project_id


def _ready_documents(scope: Scope, arguments: dict[str, Any]) -> list[Document]:
    ids = _document_ids(arguments)
    if not ids:
        return []
    with scope.session() as session:
        try:
            found = documents.get_many_ready(session, scope.tenant, ids)
        except NotFound as exc:
            raise Failure("document_not_found", f"{exc}.") from None
        except Conflict as exc:
            raise Failure("document_not_ready", f"The {exc}.") from None
        return found


def select_documents(scope: Scope, arguments: dict[str, Any]) -> dict[str, Any]:
    try:
        created_from = _instant(arguments["created_from"], False) if "created_from" in arguments else None
        created_until = _instant(arguments["created_to"], True) if "created_to" in arguments else None
    except ValueError as exc:
        raise Failure("invalid_arguments", f"with/created_from or created_to is not a date: {exc}") from None
    if created_until is not None and len(arguments["created_to"]) > 10:
        created_until += timedelta(microseconds=1)  # an instant bound is inclusive too
    selection = documents.Selection(
        project_id=_project(scope, arguments),
        created_from=created_from,
        created_until=created_until,
        metadata=arguments.get("metadata"),
        status=DocumentStatus(arguments.get("status", "ready")),
    )
    with scope.session() as session:
        found = documents.select_documents(session, scope.tenant, selection, arguments.get("limit", 200))
        views = [document_summary(document) for document in found]
    return {"documents": views, "count": len(views)}


def search(scope: Scope, arguments: dict[str, Any]) -> dict[str, Any]:
    document_ids = None
    if "documents" in arguments:
        document_ids = [uuid.UUID(d["id"] if isinstance(d, dict) else d) for d in arguments["documents"]]
    with scope.session() as session:
        hits = search_chunks(
            session,
            scope.tenant,
            arguments["query"],
            limit=arguments.get("limit", 10),
            project_id=_project(scope, arguments),
            document_ids=document_ids or None,
        )
    return {
        "hits": [hit.as_data() for hit in hits],
        "count": len(hits),
    }


def _search(pattern: regex.Pattern[str], text: str, description: str) -> regex.Match[str] | None:
    try:
        return pattern.search(text, timeout=PATTERN_TIMEOUT_SECONDS)
    except TimeoutError:
        raise Failure(
            "pattern_timeout", f"The pattern for {description} took over {PATTERN_TIMEOUT_SECONDS:g} s on one document."
        ) from None


def _compile(pattern: str, flags: int, description: str) -> regex.Pattern[str]:
    try:
        return regex.compile(pattern, flags)
    except regex.error as exc:
        raise Failure("invalid_arguments", f"The pattern for {description} is not valid: {exc}.") from None


def extract_fields(scope: Scope, arguments: dict[str, Any]) -> dict[str, Any]:
    flags = regex.IGNORECASE if arguments.get("ignore_case", True) else 0
    patterns = {name: _compile(p, flags, f"field '{name}'") for name, p in arguments["fields"].items()}
    items = []
    for document in _ready_documents(scope, arguments):
        fields: dict[str, str | None] = {}
        for name, pattern in patterns.items():
            match = _search(pattern, document.text or "", f"field '{name}'")
            value = None if match is None else (match.group(1) if pattern.groups else match.group(0))
            fields[name] = " ".join(value.split()) if value is not None else None
        items.append({"document_id": str(document.id), "title": document.title, "fields": fields})
    return {"items": items, "count": len(items)}


def _phrase(phrase: str) -> regex.Pattern[str]:
    # Whole words, any case, any run of whitespace between words (text extraction breaks lines anywhere).
    words = [regex.escape(word) for word in phrase.split()]
    return regex.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", regex.IGNORECASE)


def check_rules(scope: Scope, arguments: dict[str, Any]) -> dict[str, Any]:
    required = [(p, _phrase(p)) for p in arguments.get("required_phrases", [])]
    forbidden = [(p, _phrase(p)) for p in arguments.get("forbidden_phrases", [])]
    required_patterns = [
        (r["description"], _compile(r["pattern"], 0, r["description"])) for r in arguments.get("required_patterns", [])
    ]
    forbidden_patterns = [
        (r["description"], _compile(r["pattern"], 0, r["description"])) for r in arguments.get("forbidden_patterns", [])
    ]
    rule_count = len(required) + len(forbidden) + len(required_patterns) + len(forbidden_patterns)
    items = []
    for document in _ready_documents(scope, arguments):
        text = document.text or ""
        reasons = [f'missing required phrase "{p}"' for p, pattern in required if not _search(pattern, text, p)]
        reasons += [f'contains forbidden phrase "{p}"' for p, pattern in forbidden if _search(pattern, text, p)]
        reasons += [f"missing {d}" for d, pattern in required_patterns if not _search(pattern, text, d)]
        reasons += [f"contains {d}" for d, pattern in forbidden_patterns if _search(pattern, text, d)]
        if reasons:
            joined = "; ".join(reasons)
            status, reason = "non-compliant", joined[0].upper() + joined[1:] + "."
        else:
            status, reason = "compliant", f"Meets all {rule_count} rules."
        items.append({"document_id": str(document.id), "status": status, "reason": reason})
    flagged = sum(1 for item in items if item["status"] == "non-compliant")
    return {"items": items, "reviewed": len(items), "flagged": flagged, "compliant": len(items) - flagged}


def summarize(scope: Scope, arguments: dict[str, Any]) -> dict[str, Any]:
    count = arguments.get("sentences", 3)
    items = []
    candidates: list[summaries.Sentence] = []
    for document in _ready_documents(scope, arguments):
        scored = summaries.scored(document.text or "")
        items.append(
            {
                "document_id": str(document.id),
                "title": document.title,
                "summary": " ".join(s.text for s in summaries.best(scored, count)),
            }
        )
        # Across documents, positions keep each document's sentences together, in the order given.
        offset = len(candidates)
        candidates += [summaries.Sentence(s.text, offset + s.position, s.score) for s in scored]
    return {"summary": " ".join(s.text for s in summaries.best(candidates, count)), "items": items}


def fill_template(scope: Scope, arguments: dict[str, Any]) -> dict[str, Any]:
    if scope.settings is None or scope.user_id is None or scope.defer is None:
        raise Failure("invalid_arguments", "fill_template fills a template only inside a run.")
    # Documents given (even none at all, as an earlier step may find) are the whole scope.
    ids = _document_ids(arguments) if "documents" in arguments else None
    fill_scope = FillScope(scope.tenant, _project(scope, arguments), ids)
    template_id = _uuid(arguments["template"], "with/template")
    try:
        filled = fill_stored_template(
            scope.settings, scope.session, fill_scope, template_id, scope.user_id, scope.keep_alive
        )
    except NotFound as exc:
        raise Failure(f"{exc.kind}_not_found", f"{exc}.") from None
    except Invalid as exc:
        raise Failure("invalid_arguments", f"with/documents: {exc.message}.") from None
    except Unsupported as exc:
        raise Failure("template_not_docx", str(exc)) from None
    scope.defer(filled.store)
    return {"document_id": str(filled.document_id), "filename": filled.filename}


@dataclass(frozen=True)
class Action:
    """A built-in action, the scope a key must hold and the operation a managed MCP server's restrictions must
    admit to run a workflow with a step using it."""

    perform: Callable[[Scope, dict[str, Any]], dict[str, Any]]
    # A run acts with the reach of its steps, so starting one needs what doing their work by hand would: a step's
    # result (documents, hits, fields, verdicts, summaries) is vault content, `vault:read` as for `vault.search`;
    # a fill needs `templates:write`, as `templates.start_fill` does.
    required_scope: str
    # For the same reason, the operation whose work the step does (None: one that reads nothing from the vault):
    # a server whose restrictions leave out `vault.search` must not search through a step either.
    operation: str | None

    def __call__(self, scope: Scope, arguments: dict[str, Any]) -> dict[str, Any]:
        return self.perform(scope, arguments)


ACTIONS: dict[str, Action] = {
    "select_documents": Action(select_documents, "vault:read", "vault.list_documents"),
    "search": Action(search, "vault:read", "vault.search"),
    # These three read whole documents' text.
    "extract_fields": Action(extract_fields, "vault:read", "vault.get_document_text"),
    "check_rules": Action(check_rules, "vault:read", "vault.get_document_text"),
    "summarize": Action(summarize, "vault:read", "vault.get_document_text"),
    "fill_template": Action(fill_template, "templates:write", "templates.start_fill"),
}


def required_scopes(definition: Definition) -> frozenset[str]:
    """The scopes a key needs to run `definition`, besides `workflows.run`'s own: those of its steps' actions."""
    return frozenset(ACTIONS[step.action].required_scope for step in definition.steps)


def check_steps_admitted(definition: Definition, allowed_operations: frozenset[str] | None) -> None:
    """Forbidden naming the first step whose operation `allowed_operations` (a managed MCP server's restrictions;
    None: unrestricted) leaves out."""
    if allowed_operations is None:
        return
    for step in definition.steps:
        operation = ACTIONS[step.action].operation
        if operation is not None and operation not in allowed_operations:
            raise Forbidden(
                f"Step '{step.name}' ({step.action}) needs {operation}, "
                "which this MCP server's restrictions do not allow."
            )
