from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.mcp_server_create import McpServerCreate
from ...models.mcp_server_with_token import McpServerWithToken
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: McpServerCreate,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/mcp-servers",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> McpServerWithToken | Problem | None:
    if response.status_code == 201:
        response_201 = McpServerWithToken.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

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
) -> Response[McpServerWithToken | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: McpServerCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[McpServerWithToken | Problem]:
    """Create an MCP server

     A new managed MCP server owned by the calling user, in the caller's
    mode. `name` is unique among the organization's servers in this mode
    (409 otherwise; a deleted server's name is free again). Every id in
    `restrictions` must name something: an operationId MCP exposes, or a
    project of the organization in this mode; each one that does not is
    listed in a 422. The token acts through the calling key and expires
    after `token_expires_in_days`, or when the calling key expires if that
    comes first. The `access_token` and `access_url` are in this response
    only (and in `mcp_servers.rotate_token`'s); a replay of this answer
    under the same `Idempotency-Key` shows them again, from a copy kept
    encrypted for 24 hours.

    Args:
        idempotency_key (str | Unset):
        body (McpServerCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[McpServerWithToken | Problem]
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
    body: McpServerCreate,
    idempotency_key: str | Unset = UNSET,
) -> McpServerWithToken | Problem | None:
    """Create an MCP server

     A new managed MCP server owned by the calling user, in the caller's
    mode. `name` is unique among the organization's servers in this mode
    (409 otherwise; a deleted server's name is free again). Every id in
    `restrictions` must name something: an operationId MCP exposes, or a
    project of the organization in this mode; each one that does not is
    listed in a 422. The token acts through the calling key and expires
    after `token_expires_in_days`, or when the calling key expires if that
    comes first. The `access_token` and `access_url` are in this response
    only (and in `mcp_servers.rotate_token`'s); a replay of this answer
    under the same `Idempotency-Key` shows them again, from a copy kept
    encrypted for 24 hours.

    Args:
        idempotency_key (str | Unset):
        body (McpServerCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        McpServerWithToken | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: McpServerCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[McpServerWithToken | Problem]:
    """Create an MCP server

     A new managed MCP server owned by the calling user, in the caller's
    mode. `name` is unique among the organization's servers in this mode
    (409 otherwise; a deleted server's name is free again). Every id in
    `restrictions` must name something: an operationId MCP exposes, or a
    project of the organization in this mode; each one that does not is
    listed in a 422. The token acts through the calling key and expires
    after `token_expires_in_days`, or when the calling key expires if that
    comes first. The `access_token` and `access_url` are in this response
    only (and in `mcp_servers.rotate_token`'s); a replay of this answer
    under the same `Idempotency-Key` shows them again, from a copy kept
    encrypted for 24 hours.

    Args:
        idempotency_key (str | Unset):
        body (McpServerCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[McpServerWithToken | Problem]
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
    body: McpServerCreate,
    idempotency_key: str | Unset = UNSET,
) -> McpServerWithToken | Problem | None:
    """Create an MCP server

     A new managed MCP server owned by the calling user, in the caller's
    mode. `name` is unique among the organization's servers in this mode
    (409 otherwise; a deleted server's name is free again). Every id in
    `restrictions` must name something: an operationId MCP exposes, or a
    project of the organization in this mode; each one that does not is
    listed in a 422. The token acts through the calling key and expires
    after `token_expires_in_days`, or when the calling key expires if that
    comes first. The `access_token` and `access_url` are in this response
    only (and in `mcp_servers.rotate_token`'s); a replay of this answer
    under the same `Idempotency-Key` shows them again, from a copy kept
    encrypted for 24 hours.

    Args:
        idempotency_key (str | Unset):
        body (McpServerCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        McpServerWithToken | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
