"""Chat retrieval with words too common to rank by: left out of the any-word search, and searched together
when every word is that common, so a question keeps its answer while the search stays small; counted in the
caller's scope only. And a document that vanishes once a stream started."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator

import anyio
import pytest
from sqlalchemy.orm import Session

from chat import conversation
from chat.events import Event, Progress
from core.failures import NotFound
from core.settings import Settings
from handlers.chat import _sent
from storage import documents
from storage.blobs import new_blob_key
from storage.database import session_scope
from storage.models import Mode
from storage.search import widespread_words
from storage.tenancy import Tenant
from tests.conftest import Tenants
from vault import answers

PARAGRAPHS = {
    "Inspection log A": ["Item 1001 was inspected on site.", "Item 1002 is pending review."],
    "Inspection log B": ["Item 2001 was inspected on site.", "Item 2002 is approved by the engineer."],
    "Inspection log C": ["Item 7781 is approved by the engineer of record.", "Item 3002 was approved late."],
}


def plant(session: Session, tenant: Tenant, user_id: uuid.UUID, title: str, paragraphs: list[str]) -> None:
    document = documents.create_document(
        session,
        tenant,
        documents.NewDocument(
            project_id=None,
            created_by=user_id,
            title=title,
            filename=f"{title}.txt",
            content_type="text/plain",
            size_bytes=1,
            sha256="0" * 64,
            blob_key=new_blob_key(tenant),
            metadata={},
        ),
    )
    segments = [documents.TextSegment("paragraph", n, text) for n, text in enumerate(paragraphs, start=1)]
    documents.store_extraction(session, document.id, title=None, page_count=None, segments=segments)


@pytest.fixture
def tenant(settings: Settings, tenants: Tenants) -> Tenant:
    caller = tenants.caller()
    tenant = Tenant(caller.organization_id, Mode.test)
    with session_scope(settings.database_url) as session:
        for title, paragraphs in PARAGRAPHS.items():
            plant(session, tenant, caller.user_id, title, paragraphs)
    return tenant


def test_a_word_most_passages_hold_is_widespread_and_a_rare_one_is_not(settings: Settings, tenant: Tenant) -> None:
    with session_scope(settings.database_url) as session:
        # "item" is in all six passages, "approved" in three, "7781" in one.
        assert widespread_words(session, tenant, ["item", "approved", "7781"], 4) == {"item"}
        assert widespread_words(session, tenant, ["item", "approved", "7781"], 3) == {"item", "approved"}


def test_a_question_keeps_its_answer_when_a_word_is_too_common_to_rank_by(
    settings: Settings, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answers, "_WIDESPREAD", 4)
    with session_scope(settings.database_url) as session:
        evidence = answers.find_evidence(session, tenant, "Is item 7781 approved?")
        # Searched for "approved" and "7781" only: passages holding just "item" were never ranked.
        assert all("approved" in hit.passage or "7781" in hit.passage for hit in evidence.passages)
        assert [source.snippet for source in evidence.best(5)] == ["Item 7781 is approved by the engineer of record."]


def test_when_every_word_is_too_common_they_are_searched_together(
    settings: Settings, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answers, "_WIDESPREAD", 3)
    with session_scope(settings.database_url) as session:
        evidence = answers.find_evidence(session, tenant, "Which item is approved?")
        # Only the passages holding both words, not every passage holding either.
        assert evidence.passages
        assert all("Item" in hit.passage and "approved" in hit.passage for hit in evidence.passages)
        assert {source.snippet for source in evidence.best(5)} >= {"Item 2002 is approved by the engineer."}


def test_another_organizations_passages_never_make_a_word_widespread(
    settings: Settings, tenant: Tenant, tenants: Tenants, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were words counted across tenants, another organization could read this tenant's word counts from which
    # of its own words its questions keep, and could change this tenant's answers by planting words.
    other = tenants.caller()
    other_tenant = Tenant(other.organization_id, Mode.test)
    with session_scope(settings.database_url) as session:
        plant(session, other_tenant, other.user_id, "Flood", ["Item 7781 approved."] * 3 + ["Approved item."] * 3)
    monkeypatch.setattr(answers, "_WIDESPREAD", 4)
    with session_scope(settings.database_url) as session:
        assert widespread_words(session, tenant, ["item", "approved", "7781"], 4) == {"item"}
        assert widespread_words(session, other_tenant, ["item", "approved", "7781"], 4) == {"item", "approved"}
        evidence = answers.find_evidence(session, tenant, "Is item 7781 approved?")
        assert [source.snippet for source in evidence.best(5)] == ["Item 7781 is approved by the engineer of record."]
        assert {hit.document_id for hit in evidence.passages} <= {
            hit.document_id for hit in answers.find_evidence(session, tenant, "approved 7781").passages
        }


def test_a_document_deleted_once_the_stream_started_ends_it_with_a_not_found_event() -> None:
    # The scope check answers 404 before the stream; a delete landing between it and the retrieval can only be
    # told as the stream's last event: a 404 problem, not an internal error with a logged traceback.
    missing = uuid.uuid4()

    async def events() -> AsyncIterator[Event]:
        yield Progress("retrieving")
        raise NotFound("document", missing)

    async def sent() -> list[str]:
        return [str(event.event) + " " + str(event.data) async for event in _sent(events())]

    first, last = anyio.run(sent)
    assert first == 'progress {"stage":"retrieving"}'
    name, data = last.split(" ", 1)
    problem = json.loads(data)
    assert (name, problem["status"], problem["code"]) == ("error", 404, "not_found")
    assert problem["detail"] == f"No document with id {missing}"


def test_a_burst_of_questions_retrieves_a_few_at_a_time() -> None:
    # Retrieval may rank thousands of passages; a burst of questions must not take every worker thread.
    running, most = 0, 0
    lock = threading.Lock()

    def retrieve() -> answers.Evidence:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return answers.Evidence([], [])

    async def burst() -> list[bool]:
        results: list[bool] = []

        async def one() -> None:
            results.append((await conversation.ask("anything", retrieve, 5)).as_data()["answered"])

        async with anyio.create_task_group() as group:
            for _ in range(4 * conversation.RETRIEVALS_AT_ONCE):
                group.start_soon(one)
        return results

    assert anyio.run(burst) == [False] * (4 * conversation.RETRIEVALS_AT_ONCE)
    assert most == conversation.RETRIEVALS_AT_ONCE
