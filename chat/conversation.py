"""One answer to one question: retrieve (in a worker thread), then let the answerer speak, as events.

The generator, when one is configured, is tried first; if it fails before it
has said anything, the extractive answer takes its place (`done.fallback`).
A failure after it has spoken cannot be taken back from a stream: the stream
ends with an error event, while `chat.ask`, which sends nothing until the
end, answers extractively instead.
"""

from __future__ import annotations

import logging
import os
import weakref
from asyncio import AbstractEventLoop, get_running_loop
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from anyio import CapacityLimiter, to_thread

from chat.events import Collected, Delta, Event, Progress
from chat.extractive import extractive_answer
from chat.generator import Generator, GeneratorFailed
from vault.answers import Evidence

log = logging.getLogger(__name__)

Retrieve = Callable[[], Evidence]

# A question's retrieval may rank thousands of passages: at most this many run at once in a process, so a burst
# of questions waits its turn instead of taking every worker thread and core from the rest of the API.
RETRIEVALS_AT_ONCE = max(1, (os.cpu_count() or 2) // 2)
_limiters: weakref.WeakKeyDictionary[AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()


async def retrieved(retrieve: Retrieve) -> Evidence:
    """`retrieve()` in a worker thread, among at most RETRIEVALS_AT_ONCE."""
    # A limiter belongs to the event loop it was made in (an in-process test runs a loop per test).
    loop = get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(RETRIEVALS_AT_ONCE)
    return await to_thread.run_sync(retrieve, limiter=limiter)


@dataclass(frozen=True)
class Interrupted(Exception):
    """The generator failed after part of its answer went out; `evidence` is what it answered from."""

    reason: str
    evidence: Evidence


async def answer_events(
    question: str, retrieve: Retrieve, max_citations: int, generator: Generator | None = None
) -> AsyncIterator[Event]:
    """progress(retrieving), progress(answering), delta…, citation…, done; `Interrupted` past the first delta."""
    yield Progress("retrieving")
    evidence = await retrieved(retrieve)
    yield Progress("answering", passages=len(evidence.passages))
    if generator is None or not evidence.passages:
        async for event in extractive_answer(evidence, max_citations):
            yield event
        return
    spoke = False
    try:
        async for event in generator.answer(question, evidence.passages[:max_citations]):
            spoke = spoke or isinstance(event, Delta)
            yield event
        return
    except GeneratorFailed as failure:
        if spoke:
            raise Interrupted(str(failure), evidence) from failure
        log.warning("chat generator failed before answering, answering extractively: %s", failure)
    async for event in extractive_answer(evidence, max_citations, fallback=True):
        yield event


async def ask(question: str, retrieve: Retrieve, max_citations: int, generator: Generator | None = None) -> Collected:
    """The whole answer at once; a generator that fails part-way is replaced by the extractive answer."""
    collected = Collected()
    try:
        async for event in answer_events(question, retrieve, max_citations, generator):
            collected.add(event)
    except Interrupted as interrupted:
        log.warning("chat generator stopped part-way, answering extractively: %s", interrupted.reason)
        collected = Collected()
        # The same passages again: retrieving them anew would cost a second search for the same answer.
        evidence = interrupted.evidence
        async for event in extractive_answer(evidence, max_citations, fallback=True):
            collected.add(event)
    return collected
