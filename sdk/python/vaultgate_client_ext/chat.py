"""`chat.stream` as an iterator of typed events (the operation's `x-sse-events`)."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator

from vaultgate_client import AuthenticatedClient
from vaultgate_client.api.chat import chat_stream
from vaultgate_client.models import ChatCitation, ChatDeltaEvent, ChatDoneEvent, ChatProgressEvent, ChatQuestion
from vaultgate_client.models.problem import Problem as ProblemBody

ChatEvent = ChatProgressEvent | ChatDeltaEvent | ChatCitation | ChatDoneEvent | ProblemBody
EVENT_MODELS: dict[str, type[ChatEvent]] = {
    "progress": ChatProgressEvent,
    "delta": ChatDeltaEvent,
    "citation": ChatCitation,
    "done": ChatDoneEvent,
    "error": ProblemBody,
}


def stream_chat(client: AuthenticatedClient, question: ChatQuestion) -> Iterator[ChatEvent]:
    """Yield the answer's events as they arrive, ending with `ChatDoneEvent` or, if the answer broke off once
    streaming, the `error` event's problem (`ProblemBody`). A refusal before the stream starts raises `Problem`.

    Leaving the loop early closes the connection, which stops the gateway's work on the answer.
    """
    # The generated request (method, path, body) is used as is; only reading the answer as a stream is ours.
    request = chat_stream._get_kwargs(body=question)
    request["headers"]["Accept"] = "text/event-stream"
    with client.get_httpx_client().stream(**request) as response:
        response.raise_for_status()
        for name, data in server_sent_events(event_stream_lines(response.iter_bytes())):
            model = EVENT_MODELS.get(name)
            # An event name this version does not know is skipped, as SSE clients do; so is one without data
            # (`data:` alone), which has nothing to parse.
            if model is not None and data:
                yield model.from_dict(json.loads(data))


# An event stream's only line ends (WHATWG HTML §9.2.5); httpx's iter_lines() (str.splitlines) also splits on
# U+2028, U+0085, VT, FF, …, which JSON leaves unescaped inside strings.
LINE_END = re.compile(r"\r\n|\r|\n")


def event_stream_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """The lines of an event stream (always UTF-8) from its body's chunks, split on CR, LF and CRLF only."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    partial: list[str] = []  # the line being received, in pieces, so a long line is not copied per chunk
    after_cr = False  # a chunk that ended in CR: an LF starting the next one belongs to it
    first = True
    for chunk in chunks:
        text = decoder.decode(chunk)
        if first and text:
            text, first = text.removeprefix("\ufeff"), False  # a leading byte order mark is not content
        if not text:
            continue
        if after_cr and text.startswith("\n"):
            text = text[1:]
        after_cr = text.endswith("\r")
        pieces = LINE_END.split(text)
        if len(pieces) == 1:
            partial.append(text)
            continue
        yield "".join([*partial, pieces[0]])
        yield from pieces[1:-1]
        partial = [pieces[-1]] if pieces[-1] else []
    rest = "".join([*partial, decoder.decode(b"", final=True)])
    if rest:
        yield rest


def server_sent_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(event, data) pairs from an event stream's lines (WHATWG HTML §9.2.6); comments (`: ping`) are skipped."""
    name, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
