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
class Citation:
    document_id: uuid.UUID
    title: str
    location_type: str
    location_number: int
    snippet: str


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation]

    def as_data(self) -> dict[str, Any]:
        """`{answer, citations: [{document_id, title, location, snippet}]}`, as JSON data."""
        return {
            "answer": self.text,
            "citations": [
                {
                    "document_id": str(c.document_id),
                    "title": c.title,
                    "location": {"type": c.location_type, "number": c.location_number},
                    "snippet": c.snippet,
                }
                for c in self.citations
            ],
        }


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
    words = summarize.content_words(question)
    if not words:
        return Answer(NO_ANSWER, [])
    hits = search(
        session,
        tenant,
        " ".join(words),
        limit=_PASSAGES,
        project_id=project_id,
        document_ids=document_ids,
        any_term=True,
    )
    candidates = _candidates({_stem(word) for word in words}, hits)
    if not candidates:
        return Answer(NO_ANSWER, [])
    best = max(candidate.overlap for candidate in candidates)
    # Sentences nearly as good as the best one, at most `sentences`, in the order the passages rank.
    chosen = sorted(
        (c for c in candidates if c.overlap >= best * 0.75),
        key=lambda c: (-c.overlap, c.rank),
    )[:sentences]
    chosen.sort(key=lambda c: c.rank)
    citations = [
        Citation(c.hit.document_id, c.hit.title, c.hit.location_type, c.hit.location_number, c.sentence) for c in chosen
    ]
    return Answer(" ".join(c.sentence for c in chosen), citations)
