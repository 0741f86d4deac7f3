"""An OpenAI-compatible chat-completions generator, streaming, prompted with the retrieved passages only.

(Interface only: the client is built in issue 17's generator step.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from chat.events import Event
from core.settings import Settings
from storage.search import Hit


class GeneratorFailed(Exception):
    """The generator could not answer (unreachable, an error status, a timeout, a malformed stream)."""


class Generator(Protocol):
    def answer(self, question: str, passages: list[Hit]) -> AsyncIterator[Event]:
        """delta…, citation…, done: `question` answered from `passages` only, cited by number ([1] is
        `passages[0]`); raises GeneratorFailed."""
        ...


def generator_for(settings: Settings) -> Generator | None:
    """The configured generator (`VAULTGATE_CHAT_BASE_URL`…), or None: answers are extractive."""
    return None
