from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_key_create import ApiKeyCreate
from ...models.issued_api_key import IssuedApiKey
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: ApiKeyCreate,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api-keys",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> IssuedApiKey | Problem | None:
    if response.status_code == 201:
        response_201 = IssuedApiKey.from_dict(response.json())

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
) -> Response[IssuedApiKey | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ApiKeyCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[IssuedApiKey | Problem]:
    """Create an API key

     A new key for the calling user, in the caller's mode. It can hold only
    scopes the calling key holds (403 otherwise), and it never outlives the
    calling key: without `expires_at` it expires when the calling key does
    (if that key expires), and an `expires_at` later than the calling key's
    own expiry is a 422. The secret (`key`) is in this response only; a
    replay of this answer under the same `Idempotency-Key` shows it again,
    from a copy kept encrypted for 24 hours.

    Args:
        idempotency_key (str | Unset):
        body (ApiKeyCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[IssuedApiKey | Problem]
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
    body: ApiKeyCreate,
    idempotency_key: str | Unset = UNSET,
) -> IssuedApiKey | Problem | None:
    """Create an API key

     A new key for the calling user, in the caller's mode. It can hold only
    scopes the calling key holds (403 otherwise), and it never outlives the
    calling key: without `expires_at` it expires when the calling key does
    (if that key expires), and an `expires_at` later than the calling key's
    own expiry is a 422. The secret (`key`) is in this response only; a
    replay of this answer under the same `Idempotency-Key` shows it again,
    from a copy kept encrypted for 24 hours.

    Args:
        idempotency_key (str | Unset):
        body (ApiKeyCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        IssuedApiKey | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ApiKeyCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[IssuedApiKey | Problem]:
    """Create an API key

     A new key for the calling user, in the caller's mode. It can hold only
    scopes the calling key holds (403 otherwise), and it never outlives the
    calling key: without `expires_at` it expires when the calling key does
    (if that key expires), and an `expires_at` later than the calling key's
    own expiry is a 422. The secret (`key`) is in this response only; a
    replay of this answer under the same `Idempotency-Key` shows it again,
    from a copy kept encrypted for 24 hours.

    Args:
        idempotency_key (str | Unset):
        body (ApiKeyCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[IssuedApiKey | Problem]
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
    body: ApiKeyCreate,
    idempotency_key: str | Unset = UNSET,
) -> IssuedApiKey | Problem | None:
    """Create an API key

     A new key for the calling user, in the caller's mode. It can hold only
    scopes the calling key holds (403 otherwise), and it never outlives the
    calling key: without `expires_at` it expires when the calling key does
    (if that key expires), and an `expires_at` later than the calling key's
    own expiry is a 422. The secret (`key`) is in this response only; a
    replay of this answer under the same `Idempotency-Key` shows it again,
    from a copy kept encrypted for 24 hours.

    Args:
        idempotency_key (str | Unset):
        body (ApiKeyCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        IssuedApiKey | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
