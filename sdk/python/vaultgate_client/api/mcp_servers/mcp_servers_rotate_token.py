from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.mcp_server_token_rotate import McpServerTokenRotate
from ...models.mcp_server_with_token import McpServerWithToken
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    server_id: UUID,
    *,
    body: McpServerTokenRotate | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/mcp-servers/{server_id}/rotate-token".format(
            server_id=quote(str(server_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> McpServerWithToken | Problem | None:
    if response.status_code == 200:
        response_200 = McpServerWithToken.from_dict(response.json())

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
) -> Response[McpServerWithToken | Problem]:
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
    body: McpServerTokenRotate | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[McpServerWithToken | Problem]:
    """Rotate an MCP server's token

     Issues a new `access_token` (and `access_url`), expiring after
    `token_expires_in_days` (default 30) or when the calling key expires,
    whichever comes first. The old token stops working at once on the
    gateway process that answers this call and within a second on every
    other; `url` is unchanged. The new token acts through the calling key.
    Only the server's owner rotates its token (403 otherwise, as for API
    keys: a token acting as another user would hand the caller that
    user's access); an organization admin can delete a member's server
    instead. The token is in this response only.

    Args:
        server_id (UUID):
        idempotency_key (str | Unset):
        body (McpServerTokenRotate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[McpServerWithToken | Problem]
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
    body: McpServerTokenRotate | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> McpServerWithToken | Problem | None:
    """Rotate an MCP server's token

     Issues a new `access_token` (and `access_url`), expiring after
    `token_expires_in_days` (default 30) or when the calling key expires,
    whichever comes first. The old token stops working at once on the
    gateway process that answers this call and within a second on every
    other; `url` is unchanged. The new token acts through the calling key.
    Only the server's owner rotates its token (403 otherwise, as for API
    keys: a token acting as another user would hand the caller that
    user's access); an organization admin can delete a member's server
    instead. The token is in this response only.

    Args:
        server_id (UUID):
        idempotency_key (str | Unset):
        body (McpServerTokenRotate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        McpServerWithToken | Problem
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
    body: McpServerTokenRotate | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[McpServerWithToken | Problem]:
    """Rotate an MCP server's token

     Issues a new `access_token` (and `access_url`), expiring after
    `token_expires_in_days` (default 30) or when the calling key expires,
    whichever comes first. The old token stops working at once on the
    gateway process that answers this call and within a second on every
    other; `url` is unchanged. The new token acts through the calling key.
    Only the server's owner rotates its token (403 otherwise, as for API
    keys: a token acting as another user would hand the caller that
    user's access); an organization admin can delete a member's server
    instead. The token is in this response only.

    Args:
        server_id (UUID):
        idempotency_key (str | Unset):
        body (McpServerTokenRotate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[McpServerWithToken | Problem]
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
    body: McpServerTokenRotate | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> McpServerWithToken | Problem | None:
    """Rotate an MCP server's token

     Issues a new `access_token` (and `access_url`), expiring after
    `token_expires_in_days` (default 30) or when the calling key expires,
    whichever comes first. The old token stops working at once on the
    gateway process that answers this call and within a second on every
    other; `url` is unchanged. The new token acts through the calling key.
    Only the server's owner rotates its token (403 otherwise, as for API
    keys: a token acting as another user would hand the caller that
    user's access); an organization admin can delete a member's server
    instead. The token is in this response only.

    Args:
        server_id (UUID):
        idempotency_key (str | Unset):
        body (McpServerTokenRotate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        McpServerWithToken | Problem
    """

    return (
        await asyncio_detailed(
            server_id=server_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
