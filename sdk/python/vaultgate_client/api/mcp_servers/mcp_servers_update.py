from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.mcp_server import McpServer
from ...models.mcp_server_update import McpServerUpdate
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    server_id: UUID,
    *,
    body: McpServerUpdate,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/mcp-servers/{server_id}".format(
            server_id=quote(str(server_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> McpServer | Problem | None:
    if response.status_code == 200:
        response_200 = McpServer.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[McpServer | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    server_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: McpServerUpdate,
    idempotency_key: str | Unset = UNSET,
) -> Response[McpServer | Problem]:
    """Update an MCP server

     Changes any of `name`, `description` and `restrictions`; what the
    body leaves out stays as it is. `restrictions` replaces the stored
    restrictions whole (`{}` removes them) and is checked as on
    `mcp_servers.create` (422 naming every unknown id); a name another
    server of the organization in this mode has is a 409. The token and
    its expiry do not change here: `mcp_servers.rotate_token` issues a
    new token with a new expiry.

    Args:
        server_id (UUID):
        idempotency_key (str | Unset):
        body (McpServerUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[McpServer | Problem]
    """

    kwargs = _get_kwargs(
        server_id=server_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    server_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: McpServerUpdate,
    idempotency_key: str | Unset = UNSET,
) -> McpServer | Problem | None:
    """Update an MCP server

     Changes any of `name`, `description` and `restrictions`; what the
    body leaves out stays as it is. `restrictions` replaces the stored
    restrictions whole (`{}` removes them) and is checked as on
    `mcp_servers.create` (422 naming every unknown id); a name another
    server of the organization in this mode has is a 409. The token and
    its expiry do not change here: `mcp_servers.rotate_token` issues a
    new token with a new expiry.

    Args:
        server_id (UUID):
        idempotency_key (str | Unset):
        body (McpServerUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        McpServer | Problem
    """

    return sync_detailed(
        server_id=server_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    server_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: McpServerUpdate,
    idempotency_key: str | Unset = UNSET,
) -> Response[McpServer | Problem]:
    """Update an MCP server

     Changes any of `name`, `description` and `restrictions`; what the
    body leaves out stays as it is. `restrictions` replaces the stored
    restrictions whole (`{}` removes them) and is checked as on
    `mcp_servers.create` (422 naming every unknown id); a name another
    server of the organization in this mode has is a 409. The token and
    its expiry do not change here: `mcp_servers.rotate_token` issues a
    new token with a new expiry.

    Args:
        server_id (UUID):
        idempotency_key (str | Unset):
        body (McpServerUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[McpServer | Problem]
    """

    kwargs = _get_kwargs(
        server_id=server_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    server_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: McpServerUpdate,
    idempotency_key: str | Unset = UNSET,
) -> McpServer | Problem | None:
    """Update an MCP server

     Changes any of `name`, `description` and `restrictions`; what the
    body leaves out stays as it is. `restrictions` replaces the stored
    restrictions whole (`{}` removes them) and is checked as on
    `mcp_servers.create` (422 naming every unknown id); a name another
    server of the organization in this mode has is a 409. The token and
    its expiry do not change here: `mcp_servers.rotate_token` issues a
    new token with a new expiry.

    Args:
        server_id (UUID):
        idempotency_key (str | Unset):
        body (McpServerUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        McpServer | Problem
    """

    return (
        await asyncio_detailed(
            server_id=server_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
