from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.chat_answer import ChatAnswer
from ...models.chat_question import ChatQuestion
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: ChatQuestion,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/chat/ask",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ChatAnswer | Problem | None:
    if response.status_code == 200:
        response_200 = ChatAnswer.from_dict(response.json())

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

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

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
) -> Response[ChatAnswer | Problem]:
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
    idempotency_key: str | Unset = UNSET,
) -> Response[ChatAnswer | Problem]:
    """Ask the vault

     Answers a question from the `ready` documents the caller can see
    (narrowed by `project_id` and `document_ids`), citing every source.
    Nothing is invented: when no passage in scope supports an answer,
    `answered` is `false`, `citations` is empty and `answer` says the
    documents do not answer it.

    The default answerer is extractive: it retrieves the passages that
    share the question's words (by stem, in any order, numbers included),
    then quotes the sentences that hold every word the question is about —
    in the sentence or in its document's title — word for word, each
    followed by its citation number (`[1]` is `citations[0]`). Words that
    only name the kind of answer wanted ("What *grade*…", "How *long*…")
    need not appear; headings are never quoted. When an OpenAI-compatible
    generator is configured, it writes the answer from the same passages
    only, citing them by number; a citation to anything else is dropped,
    nothing it writes is shown until it cites a passage (an answer citing
    none is `answered: false` with the not-in-the-vault answer), and if the
    generator fails or times out the answer is the extractive one
    (`fallback: true`).

    A POST that only reads: it needs `chat:read`, so OAuth tokens may call
    it. It honours `Idempotency-Key` like every POST: a replay is the kept
    answer, as it was (even if a document it cites was deleted since;
    ask without the key for a fresh one). As the MCP tool `chat_ask`.

    Args:
        idempotency_key (str | Unset):
        body (ChatQuestion):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChatAnswer | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: ChatQuestion,
    idempotency_key: str | Unset = UNSET,
) -> ChatAnswer | Problem | None:
    """Ask the vault

     Answers a question from the `ready` documents the caller can see
    (narrowed by `project_id` and `document_ids`), citing every source.
    Nothing is invented: when no passage in scope supports an answer,
    `answered` is `false`, `citations` is empty and `answer` says the
    documents do not answer it.

    The default answerer is extractive: it retrieves the passages that
    share the question's words (by stem, in any order, numbers included),
    then quotes the sentences that hold every word the question is about —
    in the sentence or in its document's title — word for word, each
    followed by its citation number (`[1]` is `citations[0]`). Words that
    only name the kind of answer wanted ("What *grade*…", "How *long*…")
    need not appear; headings are never quoted. When an OpenAI-compatible
    generator is configured, it writes the answer from the same passages
    only, citing them by number; a citation to anything else is dropped,
    nothing it writes is shown until it cites a passage (an answer citing
    none is `answered: false` with the not-in-the-vault answer), and if the
    generator fails or times out the answer is the extractive one
    (`fallback: true`).

    A POST that only reads: it needs `chat:read`, so OAuth tokens may call
    it. It honours `Idempotency-Key` like every POST: a replay is the kept
    answer, as it was (even if a document it cites was deleted since;
    ask without the key for a fresh one). As the MCP tool `chat_ask`.

    Args:
        idempotency_key (str | Unset):
        body (ChatQuestion):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChatAnswer | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ChatQuestion,
    idempotency_key: str | Unset = UNSET,
) -> Response[ChatAnswer | Problem]:
    """Ask the vault

     Answers a question from the `ready` documents the caller can see
    (narrowed by `project_id` and `document_ids`), citing every source.
    Nothing is invented: when no passage in scope supports an answer,
    `answered` is `false`, `citations` is empty and `answer` says the
    documents do not answer it.

    The default answerer is extractive: it retrieves the passages that
    share the question's words (by stem, in any order, numbers included),
    then quotes the sentences that hold every word the question is about —
    in the sentence or in its document's title — word for word, each
    followed by its citation number (`[1]` is `citations[0]`). Words that
    only name the kind of answer wanted ("What *grade*…", "How *long*…")
    need not appear; headings are never quoted. When an OpenAI-compatible
    generator is configured, it writes the answer from the same passages
    only, citing them by number; a citation to anything else is dropped,
    nothing it writes is shown until it cites a passage (an answer citing
    none is `answered: false` with the not-in-the-vault answer), and if the
    generator fails or times out the answer is the extractive one
    (`fallback: true`).

    A POST that only reads: it needs `chat:read`, so OAuth tokens may call
    it. It honours `Idempotency-Key` like every POST: a replay is the kept
    answer, as it was (even if a document it cites was deleted since;
    ask without the key for a fresh one). As the MCP tool `chat_ask`.

    Args:
        idempotency_key (str | Unset):
        body (ChatQuestion):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChatAnswer | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ChatQuestion,
    idempotency_key: str | Unset = UNSET,
) -> ChatAnswer | Problem | None:
    """Ask the vault

     Answers a question from the `ready` documents the caller can see
    (narrowed by `project_id` and `document_ids`), citing every source.
    Nothing is invented: when no passage in scope supports an answer,
    `answered` is `false`, `citations` is empty and `answer` says the
    documents do not answer it.

    The default answerer is extractive: it retrieves the passages that
    share the question's words (by stem, in any order, numbers included),
    then quotes the sentences that hold every word the question is about —
    in the sentence or in its document's title — word for word, each
    followed by its citation number (`[1]` is `citations[0]`). Words that
    only name the kind of answer wanted ("What *grade*…", "How *long*…")
    need not appear; headings are never quoted. When an OpenAI-compatible
    generator is configured, it writes the answer from the same passages
    only, citing them by number; a citation to anything else is dropped,
    nothing it writes is shown until it cites a passage (an answer citing
    none is `answered: false` with the not-in-the-vault answer), and if the
    generator fails or times out the answer is the extractive one
    (`fallback: true`).

    A POST that only reads: it needs `chat:read`, so OAuth tokens may call
    it. It honours `Idempotency-Key` like every POST: a replay is the kept
    answer, as it was (even if a document it cites was deleted since;
    ask without the key for a fresh one). As the MCP tool `chat_ask`.

    Args:
        idempotency_key (str | Unset):
        body (ChatQuestion):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChatAnswer | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
