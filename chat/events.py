"""The events of one answer, in the order a stream sends them: progress…, delta…, citation…, then done (or error).

`chat.ask` collects the same events `chat.stream` sends, so the two answers
are one answer: the streamed deltas, concatenated, are the asked answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from vault.answers import Source

Answerer = Literal["extractive", "generator"]


@dataclass(frozen=True)
class Progress:
    stage: Literal["retrieving", "answering"]
    passages: int | None = None

    name = "progress"

    def data(self) -> dict[str, Any]:
        return {"stage": self.stage} if self.passages is None else {"stage": self.stage, "passages": self.passages}


@dataclass(frozen=True)
class Delta:
    text: str

    name = "delta"

    def data(self) -> dict[str, Any]:
        return {"text": self.text}


@dataclass(frozen=True)
class Citation:
    source: Source

    name = "citation"

    def data(self) -> dict[str, Any]:
        return self.source.as_data()


@dataclass(frozen=True)
class Done:
    answered: bool
    citations: int
    answerer: Answerer
    fallback: bool = False

    name = "done"

    def data(self) -> dict[str, Any]:
        return {
            "answered": self.answered,
            "citations": self.citations,
            "answerer": self.answerer,
            "fallback": self.fallback,
        }


Event = Progress | Delta | Citation | Done


@dataclass
class Collected:
    """A whole answer, as `chat.ask` answers it: the events of a stream, put together."""

    text: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    done: Done | None = None

    def add(self, event: Event) -> None:
        if isinstance(event, Delta):
            self.text.append(event.text)
        elif isinstance(event, Citation):
            self.sources.append(event.source)
        elif isinstance(event, Done):
            self.done = event

    def as_data(self) -> dict[str, Any]:
        assert self.done is not None, "an answer ends with done"
        return {
            "answer": "".join(self.text),
            "citations": [source.as_data() for source in self.sources],
            "answered": self.done.answered,
            "answerer": self.done.answerer,
            "fallback": self.done.fallback,
        }
