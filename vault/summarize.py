"""Extractive summaries: a text's most representative sentences, kept word for word and in their order.

Sentences are scored by how frequent their content words are in the text
(Luhn's method), so no model is needed and nothing is invented.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“(\[A-Z0-9])|\n\s*\n")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOPWORDS = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "and",
        "any",
        "are",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "can",
        "could",
        "did",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "into",
        "its",
        "itself",
        "just",
        "more",
        "most",
        "not",
        "now",
        "off",
        "once",
        "only",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "too",
        "under",
        "until",
        "very",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
    ]
)


@dataclass(frozen=True)
class Sentence:
    text: str
    position: int
    score: float


def sentences(text: str) -> list[str]:
    # Headings and list items end without a full stop: a line break ends them too.
    pieces = [piece.strip() for block in _SENTENCE_END.split(text) for piece in (block or "").split("\n")]
    return [" ".join(piece.split()) for piece in pieces if _WORD.search(piece or "")]


def content_words(sentence: str) -> list[str]:
    """The words of `sentence` that carry meaning: lower-cased, three letters or more, no stopwords."""
    return [word for word in (w.lower() for w in _WORD.findall(sentence)) if word not in _STOPWORDS]


def scored(text: str) -> list[Sentence]:
    """Every sentence of `text` with its score (higher is more representative)."""
    parts = sentences(text)
    frequency = Counter(word for part in parts for word in content_words(part))
    top = max(frequency.values(), default=1)
    result = []
    for position, part in enumerate(parts):
        words = content_words(part)
        # Normalised by length, so one long sentence does not win by size alone.
        score = sum(frequency[w] / top for w in words) / math.sqrt(len(words)) if words else 0.0
        result.append(Sentence(part, position, score))
    return result


def best(candidates: list[Sentence], count: int) -> list[Sentence]:
    """The `count` best sentences, in their original order."""
    chosen = sorted(candidates, key=lambda s: (-s.score, s.position))[:count]
    return sorted(chosen, key=lambda s: s.position)


def summarize(text: str, count: int) -> str:
    return " ".join(sentence.text for sentence in best(scored(text), count))
