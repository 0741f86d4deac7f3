"""`chat.stream` as an iterator of typed events (the operation's `x-sse-events`)."""

from __future__ import annotations

import json
from collections.abc import Iterator

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
        for name, data in server_sent_events(response.iter_lines()):
            model = EVENT_MODELS.get(name)
            if model is not None:  # an event name this version does not know is skipped, as SSE clients do
                yield model.from_dict(json.loads(data))


def server_sent_events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
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
