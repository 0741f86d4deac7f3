"""Extractive answers: a question answered with the vault's own sentences, each cited to where it stands.

Retrieval is the vault's full-text search (any of the question's words, by
stem, best passages first). A sentence of those passages *supports* the
question when every word the question is about is in the sentence itself or
in its document's title, and at least one is in the sentence:

- the words a question is about are its content words (no stopwords) and
  numbers ("item 4242", "borehole B-7"), compared by Porter2 stem
  ("galvanizing" is "galvanized", "anchor" is "anchors"), in any order;
- words that only name the kind of answer wanted need not appear: the word
  after "how" ("How *long*…"), "made" in "made of", and in the words right
  after "what"/"which"/"whose", a generic attribute ("What *grade*…",
  "Which ASTM *standard*…"). The first other word there ("What *rock*…",
  "What *warranty*…") need not appear when no retrieved passage uses it —
  it is the asker's name for the kind of answer, "rock" for "shale" — but
  when the passages use it, it is a subject the answer must hold: "What
  warranty do the fire doors have?" is not answered by the doors' rating;
- words that only phrase the asking ("say", "mention", "according",
  "anything") are not content;
- a heading states nothing: a Markdown heading, or a sentence whose words
  are all in its document's title, supports no question.

Supporting sentences rank by the weight of the question's words they hold
themselves (words rarer among the retrieved passages weigh more; a kind word
held adds half its weight), then by how little else they say. An answer
quotes the sentences nearly as good as the best one, word for word; with no
supporting sentence there is no answer, never a guess.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from storage.search import Hit, passages_of, search, widespread_words
from storage.tenancy import Tenant
from vault import summarize

NO_ANSWER = "The documents in scope do not answer this question."
# Passages read per question: enough to find the best sentences, few enough to stay fast.
_PASSAGES = 16
# A question's first words searched for (a 2,000-character question must not become a 300-word search), and
# how many passages may hold a word before it is too common to rank by (`_retrieve`).
_SEARCH_WORDS = 24
_WIDESPREAD = 5_000
# Documents whose title shares the question's words, read beyond the first passages (see `_retrieve`), and how far.
_TITLED_DOCUMENTS = 3
_TITLED_PASSAGES = 40
# A quoted sentence scores at least this share of the best one's, so a weak second sentence does not tag along.
_NEAR_BEST = 0.9
# A word that names the kind of answer ("How *thick*…") adds to a sentence holding it, less than a subject word.
_KIND_WEIGHT = 0.5

_TOKEN = re.compile(r"[^\W\d_]+|\d+")
_NUMBER = re.compile(r"\d+")
_KIND_AFTER = frozenset(["what", "which", "whose"])
# Nouns naming a property rather than a subject: "What grade…" asks for a value, not about grades.
_ATTRIBUTES = frozenset(
    [
        *("capacity", "class", "color", "colour", "date", "day", "dimension", "dimensions", "duration", "grade"),
        *("kind", "length", "model", "name", "number", "percentage", "rating", "size", "sort", "spec"),
        *("specification", "standard", "strength", "temperature", "thickness", "time", "type", "value"),
        *("version", "weight", "width", "year"),
    ]
)
# Words that phrase the asking, or stand for what is asked, rather than name what it is about.
_PHRASING = frozenset(
    [
        *("according", "describe", "describes", "explain", "mention", "mentioned", "mentions"),
        *("said", "say", "says", "state", "states", "tell"),
        *("anybody", "anyone", "anything", "everything", "nothing", "somebody", "someone", "something"),
    ]
)
# Porter2 keeps state while it works: one stemmer per thread (retrieval runs in worker threads).
_stemmers = threading.local()


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # Porter2, the stemmer PostgreSQL's `english` index uses; cached, as pure-Python stemming is slow.
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


def _stems(text: str) -> frozenset[str]:
    # Numbers count as words: "item 4242", "borehole B-7" name what they are about.
    return frozenset(_stem(word) for word in summarize.content_words(text)) | frozenset(_NUMBER.findall(text))


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
    """What the vault holds for a question: the passages retrieved, those with supporting sentences first, and
    the sentences that support it, best first (none when nothing in scope does), with their scores."""

    passages: list[Hit]
    support: list[Source]
    scores: list[float] = field(default_factory=list)

    def best(self, most: int) -> list[Source]:
        """The sentences an extractive answer quotes: at most `most`, nearly as good as the best, best first."""
        scores = self.scores or [0.0] * len(self.support)
        floor = max(scores, default=0.0) * _NEAR_BEST
        return [source for source, score in zip(self.support, scores, strict=True) if score >= floor][:most]


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Source]

    def as_data(self) -> dict[str, Any]:
        """`{answer, citations: [{document_id, title, location, snippet}]}`, as JSON data."""
        return {"answer": self.text, "citations": [c.as_data() for c in self.citations]}


def _is_content(word: str) -> bool:
    return word.isdigit() or (word not in _PHRASING and bool(summarize.content_words(word)))


@dataclass(frozen=True)
class _Question:
    """What a question is about, by stem (see the module's docstring)."""

    # Held by every supporting sentence, or by its title.
    required: frozenset[str]
    # The first word after what/which/whose that is not an attribute: required when the passages use it.
    kind: str | None
    # Named the kind of answer: never required, a small bonus where a sentence holds it.
    optional: frozenset[str]
    # What retrieval searches for: the question's content words, but not the attributes or "how" words.
    search_words: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> _Question:
        tokens = [token.lower() for token in _TOKEN.findall(text)]
        kind: str | None = None
        exempt: set[str] = set()
        in_kind_phrase = False
        for position, word in enumerate(tokens):
            before = tokens[position - 1] if position else ""
            after = tokens[position + 1] if position + 1 < len(tokens) else ""
            in_kind_phrase = (before in _KIND_AFTER or in_kind_phrase) and _is_content(word)
            if not _is_content(word):
                continue
            if before == "how" or (word == "made" and after == "of") or (in_kind_phrase and word in _ATTRIBUTES):
                exempt.add(word)
            elif in_kind_phrase and kind is None and not word.isdigit():
                kind = word
        content = [word for word in tokens if _is_content(word) and word not in exempt]
        return cls(
            required=frozenset(_stem(word) for word in content if word != kind),
            kind=_stem(kind) if kind else None,
            optional=frozenset(_stem(word) for word in exempt),
            search_words=tuple(dict.fromkeys(content)),
        )

    def needed(self, passages: list[_Passage]) -> frozenset[str]:
        """The stems a supporting sentence must hold: the kind word too when the passages use it."""
        if self.kind is not None and any(self.kind in passage.stems for passage in passages):
            return self.required | {self.kind}
        return self.required


@dataclass(frozen=True)
class _Passage:
    hit: Hit
    title: frozenset[str]
    # The passage's own stems, and with its title's.
    said: frozenset[str]
    stems: frozenset[str]

    @classmethod
    def of(cls, hit: Hit) -> _Passage:
        title, said = _stems(hit.title), _stems(hit.passage)
        return cls(hit, title, said, title | said)

    @property
    def place(self) -> tuple[uuid.UUID, str, int]:
        return self.hit.document_id, self.hit.location_type, self.hit.location_number


@dataclass(frozen=True)
class _Supporting:
    source: Source
    score: float
    # How many other words the sentence says: the more pointed sentence first among equals.
    others: int
    rank: int


def _supporting(question: _Question, passages: list[_Passage]) -> list[_Supporting]:
    needed = question.needed(passages)
    if not needed:
        return []
    holding = Counter(stem for passage in passages for stem in passage.said)
    weight = {stem: math.log(1 + len(passages) / (1 + holding[stem])) for stem in needed | question.optional}
    found: dict[tuple[uuid.UUID, str], _Supporting] = {}
    for rank, passage in enumerate(passages):
        hit = passage.hit
        # A passage is one paragraph: its line breaks are the source's wrapping, not sentence ends.
        for sentence in summarize.sentences(" ".join(hit.passage.split())):
            own = _stems(sentence)
            heading = sentence.startswith("#") or own <= passage.title
            if heading or not needed & own or not needed <= own | passage.title or (hit.document_id, sentence) in found:
                continue
            # The title holds the rest of the needed words, for every candidate alike: only the sentence's count.
            score = sum(weight[stem] for stem in needed & own) + _KIND_WEIGHT * sum(
                weight[stem] for stem in question.optional & own
            )
            source = Source(hit.document_id, hit.title, hit.location_type, hit.location_number, sentence)
            found[hit.document_id, sentence] = _Supporting(source, score, len(own - needed), rank)
    return sorted(found.values(), key=lambda s: (-s.score, s.others, s.rank))


def _retrieve(
    session: Session,
    tenant: Tenant,
    question: _Question,
    limit: int,
    project_id: uuid.UUID | None,
    document_ids: list[uuid.UUID] | None,
) -> list[_Passage]:
    words = list(question.search_words[:_SEARCH_WORDS])
    # Ranking every passage that holds some word costs a moment per passage: a word thousands of passages hold
    # ("item", "project") would rank them all, to find what its rarer companions find. Those passages are read
    # only when every word is that common, and then only where all of them meet.
    common = widespread_words(session, tenant, words, _WIDESPREAD, project_id, document_ids)
    rarer = [word for word in words if word not in common]
    passages = [
        _Passage.of(hit)
        for hit in search(
            session,
            tenant,
            " ".join(rarer or words),
            limit=limit,
            project_id=project_id,
            document_ids=document_ids,
            any_term=bool(rarer),
        )
    ]
    if len(passages) < limit:
        return passages
    # The index holds passages, not titles: in a document titled "Curtain wall anchors", the sentence saying
    # "the embedded anchors…" matches one word, and shorter passages matching it elsewhere may push it past the
    # cut. So the documents whose titles hold most of the question's words are read too.
    by_title: dict[uuid.UUID, tuple[int, int]] = {}
    for rank, passage in enumerate(passages):
        shared = len(question.required & passage.title)
        if shared:
            by_title.setdefault(passage.hit.document_id, (-shared, rank))
    among = sorted(by_title, key=by_title.__getitem__)[:_TITLED_DOCUMENTS]
    if not among:
        return passages
    seen = {(passage.place, passage.hit.passage) for passage in passages}
    read = map(_Passage.of, passages_of(session, tenant, among, each=_TITLED_PASSAGES))
    return passages + [p for p in read if question.required & p.said and (p.place, p.hit.passage) not in seen]


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
    parsed = _Question.parse(question)
    retrieved = _retrieve(session, tenant, parsed, passages, project_id, document_ids)
    supporting = _supporting(parsed, retrieved)
    # A generator reads the first passages: those holding the best supporting sentences, then the search's order.
    first_support: dict[tuple[uuid.UUID, str, int], int] = {}
    for position, found in enumerate(supporting):
        source = found.source
        first_support.setdefault((source.document_id, source.location_type, source.location_number), position)
    ranked = sorted(enumerate(retrieved), key=lambda item: (first_support.get(item[1].place, len(supporting)), item[0]))
    return Evidence(
        [passage.hit for _, passage in ranked],
        [found.source for found in supporting],
        [found.score for found in supporting],
    )


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
