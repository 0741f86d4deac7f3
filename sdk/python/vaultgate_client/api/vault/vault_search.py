from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.search_results import SearchResults
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    q: str,
    project_id: UUID | Unset = UNSET,
    document_ids: list[UUID] | Unset = UNSET,
    limit: int | Unset = 10,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["q"] = q

    json_project_id: str | Unset = UNSET
    if not isinstance(project_id, Unset):
        json_project_id = str(project_id)
    params["project_id"] = json_project_id

    json_document_ids: list[str] | Unset = UNSET
    if not isinstance(document_ids, Unset):
        json_document_ids = []
        for document_ids_item_data in document_ids:
            document_ids_item = str(document_ids_item_data)
            json_document_ids.append(document_ids_item)

    params["document_ids"] = json_document_ids

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/vault/search",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | SearchResults | None:
    if response.status_code == 200:
        response_200 = SearchResults.from_dict(response.json())

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
) -> Response[Problem | SearchResults]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    q: str,
    project_id: UUID | Unset = UNSET,
    document_ids: list[UUID] | Unset = UNSET,
    limit: int | Unset = 10,
) -> Response[Problem | SearchResults]:
    """Search the vault

     Full-text search over the `ready` documents the caller can see, best
    match first. Words are matched by stem ("anchors" finds "anchor");
    put a phrase in double quotes to match it exactly. Each hit names the
    page (PDF) or paragraph (DOCX, TXT, Markdown) it comes from. `score`
    orders hits within one answer; it is not comparable across queries.

    As the MCP tool `vault_search`: at most 50 hits, so an agent sees the
    hits unchanged (up to 25) or the first 25 marked `truncated` (26–50),
    never the `needs_refinement` shape of longer lists; this list does not
    page, so narrow the query to see the others.

    Args:
        q (str):
        project_id (UUID | Unset):
        document_ids (list[UUID] | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SearchResults]
    """

    kwargs = _get_kwargs(
        q=q,
        project_id=project_id,
        document_ids=document_ids,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    q: str,
    project_id: UUID | Unset = UNSET,
    document_ids: list[UUID] | Unset = UNSET,
    limit: int | Unset = 10,
) -> Problem | SearchResults | None:
    """Search the vault

     Full-text search over the `ready` documents the caller can see, best
    match first. Words are matched by stem ("anchors" finds "anchor");
    put a phrase in double quotes to match it exactly. Each hit names the
    page (PDF) or paragraph (DOCX, TXT, Markdown) it comes from. `score`
    orders hits within one answer; it is not comparable across queries.

    As the MCP tool `vault_search`: at most 50 hits, so an agent sees the
    hits unchanged (up to 25) or the first 25 marked `truncated` (26–50),
    never the `needs_refinement` shape of longer lists; this list does not
    page, so narrow the query to see the others.

    Args:
        q (str):
        project_id (UUID | Unset):
        document_ids (list[UUID] | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SearchResults
    """

    return sync_detailed(
        client=client,
        q=q,
        project_id=project_id,
        document_ids=document_ids,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    q: str,
    project_id: UUID | Unset = UNSET,
    document_ids: list[UUID] | Unset = UNSET,
    limit: int | Unset = 10,
) -> Response[Problem | SearchResults]:
    """Search the vault

     Full-text search over the `ready` documents the caller can see, best
    match first. Words are matched by stem ("anchors" finds "anchor");
    put a phrase in double quotes to match it exactly. Each hit names the
    page (PDF) or paragraph (DOCX, TXT, Markdown) it comes from. `score`
    orders hits within one answer; it is not comparable across queries.

    As the MCP tool `vault_search`: at most 50 hits, so an agent sees the
    hits unchanged (up to 25) or the first 25 marked `truncated` (26–50),
    never the `needs_refinement` shape of longer lists; this list does not
    page, so narrow the query to see the others.

    Args:
        q (str):
        project_id (UUID | Unset):
        document_ids (list[UUID] | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SearchResults]
    """

    kwargs = _get_kwargs(
        q=q,
        project_id=project_id,
        document_ids=document_ids,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    q: str,
    project_id: UUID | Unset = UNSET,
    document_ids: list[UUID] | Unset = UNSET,
    limit: int | Unset = 10,
) -> Problem | SearchResults | None:
    """Search the vault

     Full-text search over the `ready` documents the caller can see, best
    match first. Words are matched by stem ("anchors" finds "anchor");
    put a phrase in double quotes to match it exactly. Each hit names the
    page (PDF) or paragraph (DOCX, TXT, Markdown) it comes from. `score`
    orders hits within one answer; it is not comparable across queries.

    As the MCP tool `vault_search`: at most 50 hits, so an agent sees the
    hits unchanged (up to 25) or the first 25 marked `truncated` (26–50),
    never the `needs_refinement` shape of longer lists; this list does not
    page, so narrow the query to see the others.

    Args:
        q (str):
        project_id (UUID | Unset):
        document_ids (list[UUID] | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SearchResults
    """

    return (
        await asyncio_detailed(
            client=client,
            q=q,
            project_id=project_id,
            document_ids=document_ids,
            limit=limit,
        )
    ).parsed
