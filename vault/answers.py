"""Extractive answers: a question answered with the vault's own sentences, each cited to where it stands.

Retrieval is the vault's full-text search (any of the question's words, best
passages first); the answer is the few sentences of those passages that
share the most of the question's words, word for word. Nothing is invented,
so no model is needed, and an answer with no evidence says so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from storage.search import Hit, search
from storage.tenancy import Tenant
from vault import summarize

NO_ANSWER = "The documents in scope do not answer this question."
# Passages read per question: enough to find the best sentences, few enough to stay fast.
_PASSAGES = 8


@dataclass(frozen=True)
class Source:
    """Where a quoted sentence stands: a document and its page or paragraph; `snippet` is the sentence."""

    document_id: uuid.UUID
    title: str
    location_type: str
    location_number: int
    snippet: str

    def as_data(self) -> dict[str, Any]:
        """`{document_id, title, location, snippet}`, as JSON data."""
        return {
            "document_id": str(self.document_id),
            "title": self.title,
            "location": {"type": self.location_type, "number": self.location_number},
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class Evidence:
    """What the vault holds for a question: the passages retrieved, best first, and the sentences among them
    that answer it, best first (none when nothing in scope does)."""

    passages: list[Hit]
    support: list[Source]

    def best(self, most: int) -> list[Source]:
        """The sentences an extractive answer quotes: at most `most`, in the order they rank."""
        return self.support[:most]


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Source]

    def as_data(self) -> dict[str, Any]:
        """`{answer, citations: [{document_id, title, location, snippet}]}`, as JSON data."""
        return {"answer": self.text, "citations": [c.as_data() for c in self.citations]}


@dataclass(frozen=True)
class _Candidate:
    sentence: str
    hit: Hit
    overlap: float
    rank: int


def _stem(word: str) -> str:
    # A crude common prefix, so "galvanized" answers "galvanizing" without a stemmer dependency.
    return word[:6]


def _candidates(question_words: set[str], hits: list[Hit]) -> list[_Candidate]:
    found = []
    for rank, hit in enumerate(hits):
        # A passage is one paragraph: its line breaks are the source's wrapping, not sentence ends.
        for sentence in summarize.sentences(" ".join(hit.passage.split())):
            words = {_stem(word) for word in summarize.content_words(sentence)}
            shared = len(words & question_words)
            if shared:
                # Shared words count most; a shorter sentence saying as much is the better answer.
                found.append(_Candidate(sentence, hit, shared + shared / (1 + len(words)), rank))
    return found


def find_evidence(
    session: Session,
    tenant: Tenant,
    question: str,
    *,
    project_id: uuid.UUID | None = None,
    document_ids: list[uuid.UUID] | None = None,
    passages: int = _PASSAGES,
) -> Evidence:
    """The passages and supporting sentences for `question` in the tenant's ready documents in scope.

    NotFound if the project or one of the documents is not the tenant's.
    """
    words = summarize.content_words(question)
    hits = search(
        session,
        tenant,
        " ".join(words),
        limit=passages,
        project_id=project_id,
        document_ids=document_ids,
        any_term=True,
    )
    if not words:
        return Evidence(hits, [])
    candidates = _candidates({_stem(word) for word in words}, hits)
    if not candidates:
        return Evidence(hits, [])
    best = max(candidate.overlap for candidate in candidates)
    # Sentences nearly as good as the best one, best first.
    chosen = sorted((c for c in candidates if c.overlap >= best * 0.75), key=lambda c: (-c.overlap, c.rank))
    support = [
        Source(c.hit.document_id, c.hit.title, c.hit.location_type, c.hit.location_number, c.sentence) for c in chosen
    ]
    return Evidence(hits, support)


def answer(
    session: Session,
    tenant: Tenant,
    question: str,
    *,
    project_id: uuid.UUID | None = None,
    document_ids: list[uuid.UUID] | None = None,
    sentences: int = 2,
) -> Answer:
    """The best supporting sentences for `question` from the tenant's ready documents in scope, cited."""
    quoted = find_evidence(session, tenant, question, project_id=project_id, document_ids=document_ids).best(sentences)
    if not quoted:
        return Answer(NO_ANSWER, [])
    return Answer(" ".join(source.snippet for source in quoted), quoted)
