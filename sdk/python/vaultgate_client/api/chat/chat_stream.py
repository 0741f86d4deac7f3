from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.chat_question import ChatQuestion
from ...models.chat_stream_event import ChatStreamEvent
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: ChatQuestion,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/chat/stream",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ChatStreamEvent | Problem | None:
    if response.status_code == 200:
        response_200 = ChatStreamEvent.from_dict(response.text)

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 406:
        response_406 = Problem.from_dict(response.json())

        return response_406

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ChatStreamEvent | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ChatQuestion,
) -> Response[ChatStreamEvent | Problem]:
    """Ask the vault, streamed

     The same answer as `chat.ask`, sent as Server-Sent Events while it is
    produced. Events, in this order (each `data` is one line of JSON; the
    schemas are in `x-sse-events`):

    - `progress` `{stage: "retrieving"}`, at once; then `{stage:
      "answering", passages}` once the passages are found.
    - `delta` `{text}`: the answer in pieces, as produced (sentence by
      sentence when extractive; from a generator, token by token once it
      has cited a passage). Concatenated, the deltas are the whole answer.
    - `citation`: one per source, the same object as in `chat.ask`'s
      `citations`, in citation-number order.
    - `done` `{answered, citations, answerer, fallback}`: the last event.
    - `error`: a problem object, instead of `done`, when the answer fails
      after the response started: `answer_interrupted` for a generator
      that stops mid-answer (ask again, or use `chat.ask`, which then falls
      back to the extractive answer), `not_found` for a document deleted
      in that moment.

    Errors found before the stream starts (validation, 401, 403, a
    foreign project or document 404, 429) are ordinary problem+json
    answers. While a generator is slow the stream sends keep-alive
    comments (`: ping`). Closing the connection stops the work. The
    response carries `Cache-Control: no-store` and `X-Accel-Buffering: no`,
    so proxies pass events through unbuffered.

    An `Idempotency-Key` is accepted and ignored: a streamed answer has no
    side effect to protect, and is never kept or replayed. Not an MCP
    tool (MCP clients use `chat_ask`).

    Args:
        body (ChatQuestion):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChatStreamEvent | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: ChatQuestion,
) -> ChatStreamEvent | Problem | None:
    """Ask the vault, streamed

     The same answer as `chat.ask`, sent as Server-Sent Events while it is
    produced. Events, in this order (each `data` is one line of JSON; the
    schemas are in `x-sse-events`):

    - `progress` `{stage: "retrieving"}`, at once; then `{stage:
      "answering", passages}` once the passages are found.
    - `delta` `{text}`: the answer in pieces, as produced (sentence by
      sentence when extractive; from a generator, token by token once it
      has cited a passage). Concatenated, the deltas are the whole answer.
    - `citation`: one per source, the same object as in `chat.ask`'s
      `citations`, in citation-number order.
    - `done` `{answered, citations, answerer, fallback}`: the last event.
    - `error`: a problem object, instead of `done`, when the answer fails
      after the response started: `answer_interrupted` for a generator
      that stops mid-answer (ask again, or use `chat.ask`, which then falls
      back to the extractive answer), `not_found` for a document deleted
      in that moment.

    Errors found before the stream starts (validation, 401, 403, a
    foreign project or document 404, 429) are ordinary problem+json
    answers. While a generator is slow the stream sends keep-alive
    comments (`: ping`). Closing the connection stops the work. The
    response carries `Cache-Control: no-store` and `X-Accel-Buffering: no`,
    so proxies pass events through unbuffered.

    An `Idempotency-Key` is accepted and ignored: a streamed answer has no
    side effect to protect, and is never kept or replayed. Not an MCP
    tool (MCP clients use `chat_ask`).

    Args:
        body (ChatQuestion):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChatStreamEvent | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ChatQuestion,
) -> Response[ChatStreamEvent | Problem]:
    """Ask the vault, streamed

     The same answer as `chat.ask`, sent as Server-Sent Events while it is
    produced. Events, in this order (each `data` is one line of JSON; the
    schemas are in `x-sse-events`):

    - `progress` `{stage: "retrieving"}`, at once; then `{stage:
      "answering", passages}` once the passages are found.
    - `delta` `{text}`: the answer in pieces, as produced (sentence by
      sentence when extractive; from a generator, token by token once it
      has cited a passage). Concatenated, the deltas are the whole answer.
    - `citation`: one per source, the same object as in `chat.ask`'s
      `citations`, in citation-number order.
    - `done` `{answered, citations, answerer, fallback}`: the last event.
    - `error`: a problem object, instead of `done`, when the answer fails
      after the response started: `answer_interrupted` for a generator
      that stops mid-answer (ask again, or use `chat.ask`, which then falls
      back to the extractive answer), `not_found` for a document deleted
      in that moment.

    Errors found before the stream starts (validation, 401, 403, a
    foreign project or document 404, 429) are ordinary problem+json
    answers. While a generator is slow the stream sends keep-alive
    comments (`: ping`). Closing the connection stops the work. The
    response carries `Cache-Control: no-store` and `X-Accel-Buffering: no`,
    so proxies pass events through unbuffered.

    An `Idempotency-Key` is accepted and ignored: a streamed answer has no
    side effect to protect, and is never kept or replayed. Not an MCP
    tool (MCP clients use `chat_ask`).

    Args:
        body (ChatQuestion):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChatStreamEvent | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ChatQuestion,
) -> ChatStreamEvent | Problem | None:
    """Ask the vault, streamed

     The same answer as `chat.ask`, sent as Server-Sent Events while it is
    produced. Events, in this order (each `data` is one line of JSON; the
    schemas are in `x-sse-events`):

    - `progress` `{stage: "retrieving"}`, at once; then `{stage:
      "answering", passages}` once the passages are found.
    - `delta` `{text}`: the answer in pieces, as produced (sentence by
      sentence when extractive; from a generator, token by token once it
      has cited a passage). Concatenated, the deltas are the whole answer.
    - `citation`: one per source, the same object as in `chat.ask`'s
      `citations`, in citation-number order.
    - `done` `{answered, citations, answerer, fallback}`: the last event.
    - `error`: a problem object, instead of `done`, when the answer fails
      after the response started: `answer_interrupted` for a generator
      that stops mid-answer (ask again, or use `chat.ask`, which then falls
      back to the extractive answer), `not_found` for a document deleted
      in that moment.

    Errors found before the stream starts (validation, 401, 403, a
    foreign project or document 404, 429) are ordinary problem+json
    answers. While a generator is slow the stream sends keep-alive
    comments (`: ping`). Closing the connection stops the work. The
    response carries `Cache-Control: no-store` and `X-Accel-Buffering: no`,
    so proxies pass events through unbuffered.

    An `Idempotency-Key` is accepted and ignored: a streamed answer has no
    side effect to protect, and is never kept or replayed. Not an MCP
    tool (MCP clients use `chat_ask`).

    Args:
        body (ChatQuestion):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChatStreamEvent | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
