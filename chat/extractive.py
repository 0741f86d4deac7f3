"""The default answerer: the vault's own sentences, quoted word for word, each followed by its citation number."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chat.events import Citation, Delta, Done, Event
from vault.answers import NO_ANSWER, Evidence


async def extractive_answer(evidence: Evidence, max_citations: int, *, fallback: bool = False) -> AsyncIterator[Event]:
    """Sentence by sentence: `S1 [1]`, ` S2 [2]`…, then one citation per sentence, then done."""
    quoted = evidence.best(max_citations)
    if not quoted:
        yield Delta(NO_ANSWER)
        yield Done(answered=False, citations=0, answerer="extractive", fallback=fallback)
        return
    for number, source in enumerate(quoted, start=1):
        yield Delta(f"{'' if number == 1 else ' '}{source.snippet} [{number}]")
    for source in quoted:
        yield Citation(source)
    yield Done(answered=True, citations=len(quoted), answerer="extractive", fallback=fallback)
