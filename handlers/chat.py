"""chat: questions answered from the vault with citations, whole or streamed as Server-Sent Events."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from sse_starlette import EventSourceResponse, ServerSentEvent

from chat import conversation
from chat.events import Event
from chat.generator import generator_for
from core.failures import Failure
from gateway.auth import current_principal, current_settings, database_session
from gateway.errors import failure_problem
from gateway.problems import Problem
from storage.database import session_scope
from storage.search import require_searchable
from vault.answers import Evidence, find_evidence

log = logging.getLogger(__name__)
_SEPARATOR = "\n"


@dataclass(frozen=True)
class _Question:
    text: str
    project_id: uuid.UUID | None
    document_ids: list[uuid.UUID] | None
    max_citations: int

    @classmethod
    def of(cls, body: dict[str, Any]) -> _Question:
        project_id = body.get("project_id")
        document_ids = body.get("document_ids")
        return cls(
            body["question"],
            uuid.UUID(project_id) if project_id else None,
            [uuid.UUID(d) for d in document_ids] if document_ids is not None else None,
            body.get("max_citations", 5),
        )

    def retriever(self) -> conversation.Retrieve:
        # Bound here, in the request's context: the retrieval runs in a worker thread.
        tenant = current_principal().tenant
        settings = current_settings()

        def retrieve() -> Evidence:
            with session_scope(settings.database_url) as session:
                return find_evidence(
                    session, tenant, self.text, project_id=self.project_id, document_ids=self.document_ids
                )

        return retrieve

    def require_in_scope(self) -> None:
        with database_session() as session:
            require_searchable(session, current_principal().tenant, self.project_id, self.document_ids)


async def ask(*, body: dict[str, Any]) -> dict[str, Any]:
    """Answer a question from the caller's documents, citing them."""
    question = _Question.of(body)
    answer = await conversation.ask(
        question.text, question.retriever(), question.max_citations, generator_for(current_settings())
    )
    return answer.as_data()


async def stream(*, body: dict[str, Any]) -> EventSourceResponse:
    """The same answer as Server-Sent Events: progress, delta, citation, done (or error)."""
    question = _Question.of(body)
    # A foreign project or document is a 404 before the stream starts, not an error event inside it.
    await to_thread.run_sync(question.require_in_scope)
    settings = current_settings()
    events = conversation.answer_events(
        question.text, question.retriever(), question.max_citations, generator_for(settings)
    )
    return EventSourceResponse(
        _sent(events),
        # sse-starlette sends `X-Accel-Buffering: no` and `Cache-Control: no-store` itself; named here because
        # the contract promises them.
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
        ping=settings.chat_keepalive_seconds,
        ping_message_factory=_keepalive,
        sep=_SEPARATOR,
        # A client that takes no bytes for as long as the generator may go silent is gone: its stream ends, and
        # with it the request to the generator, which would otherwise wait on the blocked send, past any deadline.
        send_timeout=settings.chat_timeout_seconds,
    )


def _keepalive() -> ServerSentEvent:
    # A comment line: clients ignore it, proxies see traffic on an otherwise idle stream.
    return ServerSentEvent(comment="ping", sep=_SEPARATOR)


async def _sent(events: AsyncIterator[Event]) -> AsyncIterator[ServerSentEvent]:
    try:
        async for event in events:
            yield _event(event.name, event.data())
    except conversation.Interrupted as interrupted:
        log.warning("chat stream interrupted: %s", interrupted.reason)
        yield _error(Problem("answer_interrupted", "The answer generator stopped part-way through the answer."))
    except Failure as failure:
        # A document deleted between the scope check and the retrieval: a 404, told as the stream's last event.
        yield _error(failure_problem(failure))
    except Exception:
        # The response has started: the failure can only be told as the stream's last event.
        log.exception("chat stream failed")
        yield _error(Problem("internal_error", "The server failed while answering; the error was logged."))


def _error(problem: Problem) -> ServerSentEvent:
    return _event("error", problem.body("/api/v2/chat/stream"))


def _event(name: str, data: dict[str, Any]) -> ServerSentEvent:
    # sse-starlette encodes a ServerSentEvent with its own separator, not the response's: one for all.
    return ServerSentEvent(json.dumps(data, separators=(",", ":")), event=name, sep=_SEPARATOR)
