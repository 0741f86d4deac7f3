"""Full-text search over document chunks: SQLite FTS5 or PostgreSQL tsvector, behind one function."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal_column, select, table
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnClause

from storage.documents import require_visible
from storage.models import Document, DocumentChunk, DocumentStatus, Project
from storage.tenancy import Tenant

_TERM = re.compile(r'"([^"]*)"|(\w+)')
_WORD = re.compile(r"\w+")
_FTS = table("document_chunks_fts")
_FTS_TABLE: ColumnClause[Any] = literal_column("document_chunks_fts")
_SEARCH_VECTOR: ColumnClause[Any] = literal_column("document_chunks.search_vector")


@dataclass(frozen=True)
class Hit:
    document_id: uuid.UUID
    title: str
    snippet: str
    score: float
    location_type: str
    location_number: int
    # The whole matching chunk, of which `snippet` is an excerpt.
    passage: str

    def as_data(self) -> dict[str, Any]:
        """The hit as the API, workflow steps and templates show it (JSON data: the id as a string)."""
        return {
            "document_id": str(self.document_id),
            "title": self.title,
            "snippet": self.snippet,
            "score": self.score,
            "location": {"type": self.location_type, "number": self.location_number},
        }


def _rows(session: Session, statement: Select[Any]) -> list[Any]:
    return list(session.execute(statement).all())


def parse_query(query: str) -> list[list[str]]:
    """Terms every hit must match: each a phrase of one or more words ("quoted" text is one phrase)."""
    terms = []
    for phrase, word in _TERM.findall(query):
        words = _WORD.findall(phrase) if phrase else [word]
        if words:
            terms.append(words)
    return terms


def _quoted(terms: list[list[str]], any_term: bool) -> str:
    """Every term a quoted phrase, in the syntax FTS5 and websearch_to_tsquery share: user text never
    reaches either query language as operators. Both read `OR` between phrases as either one."""
    return (" OR " if any_term else " ").join('"' + " ".join(words) + '"' for words in terms)


def _scoped(
    statement: Select[Any],
    tenant: Tenant,
    project_id: uuid.UUID | None,
    document_ids: list[uuid.UUID] | None,
) -> Select[Any]:
    # The tenant's own rule for documents (its projects too, when restricted), as `Tenant.select` applies it.
    statement = statement.where(*tenant.conditions(Document), Document.status == DocumentStatus.ready)
    if project_id is not None:
        statement = statement.where(Document.project_id == project_id)
    if document_ids is not None:
        statement = statement.where(Document.id.in_(document_ids))
    return statement


def require_searchable(
    session: Session, tenant: Tenant, project_id: uuid.UUID | None, document_ids: list[uuid.UUID] | None
) -> None:
    """NotFound unless the project and every document are the tenant's to search."""
    if project_id is not None:
        tenant.get(session, Project, project_id)
    if document_ids is not None:
        require_visible(session, tenant, document_ids)


def search(
    session: Session,
    tenant: Tenant,
    query: str,
    *,
    limit: int,
    project_id: uuid.UUID | None = None,
    document_ids: list[uuid.UUID] | None = None,
    any_term: bool = False,
) -> list[Hit]:
    """Ranked hits; NotFound if the project or one of the documents is not the tenant's to search.

    A hit matches every term of `query`, or with `any_term` at least one (ranked by how well it matches all):
    questions are answered from passages that share some of their words, not all.
    """
    require_searchable(session, tenant, project_id, document_ids)
    terms = parse_query(query)
    if not terms:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _search_postgresql(session, tenant, _quoted(terms, any_term), limit, project_id, document_ids)
    return _search_sqlite(session, tenant, _quoted(terms, any_term), limit, project_id, document_ids)


def widespread_words(
    session: Session,
    tenant: Tenant,
    words: list[str],
    at_least: int,
    project_id: uuid.UUID | None = None,
    document_ids: list[uuid.UUID] | None = None,
) -> set[str]:
    """The words that at least `at_least` of the tenant's searchable passages in scope hold (each counted only
    that far): words too common to rank a question's passages by.

    Counted in the tenant's scope, as a search is: how common a word is elsewhere must neither show in an
    answer (an oracle on other tenants' text) nor change it. The index alone is counted first, without the
    joins a scope needs: a word fewer passages of the whole index hold is not widespread in any scope.
    """
    found = set()
    for word in words:
        match = _quoted([[word]], any_term=False)
        if _count(session, _holding(session, match), at_least) < at_least:
            continue
        in_scope = _scoped(_holding(session, match, scoped=True), tenant, project_id, document_ids)
        if _count(session, in_scope, at_least) >= at_least:
            found.add(word)
    return found


def _holding(session: Session, match: str, *, scoped: bool = False) -> Select[Any]:
    """The passages of the whole index that match (joined to their documents when the count is `scoped`)."""
    if session.get_bind().dialect.name == "postgresql":
        statement: Select[Any] = (
            select(literal_column("1"))
            .select_from(DocumentChunk)
            .where(_SEARCH_VECTOR.op("@@")(func.websearch_to_tsquery("english", match)))
        )
    else:
        statement = select(literal_column("1")).select_from(_FTS).where(_FTS_TABLE.op("MATCH")(match))
        if scoped:
            statement = statement.join(DocumentChunk, DocumentChunk.id == literal_column("document_chunks_fts.rowid"))
    return statement.join(Document, Document.id == DocumentChunk.document_id) if scoped else statement


def _count(session: Session, statement: Select[Any], at_most: int) -> int:
    return int(session.execute(select(func.count()).select_from(statement.limit(at_most).subquery())).scalar_one())


def passages_of(session: Session, tenant: Tenant, document_ids: list[uuid.UUID], *, each: int) -> list[Hit]:
    """The first `each` passages of each of the tenant's ready documents named, in reading order, as hits of no
    particular score (snippet the passage's start): what a question asks of documents it found by their title."""
    reading = (
        func.row_number().over(partition_by=DocumentChunk.document_id, order_by=DocumentChunk.ordinal).label("nth")
    )
    chunks = _scoped(
        select(
            DocumentChunk.document_id,
            Document.title,
            DocumentChunk.text,
            DocumentChunk.location_type,
            DocumentChunk.location_number,
            DocumentChunk.ordinal,
            reading,
        )
        .join(Document, Document.id == DocumentChunk.document_id)
        .where(DocumentChunk.document_id.in_(document_ids)),
        tenant,
        None,
        None,
    ).subquery()
    statement = (
        select(chunks.c.document_id, chunks.c.title, chunks.c.text, chunks.c.location_type, chunks.c.location_number)
        .where(chunks.c.nth <= each)
        .order_by(chunks.c.document_id, chunks.c.ordinal)
    )
    return [Hit(d, t, p[:200], 0.0, lt, ln, p) for d, t, p, lt, ln in _rows(session, statement)]


def _search_sqlite(
    session: Session,
    tenant: Tenant,
    match: str,
    limit: int,
    project_id: uuid.UUID | None,
    document_ids: list[uuid.UUID] | None,
) -> list[Hit]:
    rank = func.bm25(_FTS_TABLE)
    statement = (
        select(
            DocumentChunk.document_id,
            Document.title,
            func.snippet(_FTS_TABLE, 0, "", "", "…", 32),
            rank,
            DocumentChunk.location_type,
            DocumentChunk.location_number,
            DocumentChunk.text,
        )
        .select_from(_FTS)
        .join(DocumentChunk, DocumentChunk.id == literal_column("document_chunks_fts.rowid"))
        .join(Document, Document.id == DocumentChunk.document_id)
        .where(_FTS_TABLE.op("MATCH")(match))
    )
    statement = _scoped(statement, tenant, project_id, document_ids).order_by(rank).limit(limit)
    return [Hit(d, t, s, round(-r, 4), lt, ln, p) for d, t, s, r, lt, ln, p in _rows(session, statement)]


def _search_postgresql(
    session: Session,
    tenant: Tenant,
    match: str,
    limit: int,
    project_id: uuid.UUID | None,
    document_ids: list[uuid.UUID] | None,
) -> list[Hit]:
    query = func.websearch_to_tsquery("english", match)
    rank = func.ts_rank_cd(_SEARCH_VECTOR, query).label("rank")
    best = (
        _scoped(
            select(
                DocumentChunk.document_id,
                Document.title,
                DocumentChunk.text,
                rank,
                DocumentChunk.location_type,
                DocumentChunk.location_number,
            )
            .join(Document, Document.id == DocumentChunk.document_id)
            .where(_SEARCH_VECTOR.op("@@")(query)),
            tenant,
            project_id,
            document_ids,
        )
        .order_by(rank.desc())
        .limit(limit)
        .subquery()
    )
    # Headlines are costly: make them for the returned hits only.
    headline = func.ts_headline(
        "english", best.c.text, query, 'MaxWords=40, MinWords=20, StartSel="", StopSel="", MaxFragments=1'
    )
    statement = select(
        best.c.document_id,
        best.c.title,
        headline,
        best.c.rank,
        best.c.location_type,
        best.c.location_number,
        best.c.text,
    ).order_by(best.c.rank.desc())
    return [Hit(d, t, s, round(float(r), 4), lt, ln, p) for d, t, s, r, lt, ln, p in _rows(session, statement)]
