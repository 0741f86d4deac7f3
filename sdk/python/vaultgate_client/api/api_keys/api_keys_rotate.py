from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_key_rotate import ApiKeyRotate
from ...models.issued_api_key import IssuedApiKey
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    key_id: UUID,
    *,
    body: ApiKeyRotate | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api-keys/{key_id}/rotate".format(
            key_id=quote(str(key_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
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
) -> Response[IssuedApiKey | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    key_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: ApiKeyRotate | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[IssuedApiKey | Problem]:
    """Rotate an API key

     Issues a replacement key with the same user, name, scopes and expiry.
    The old key keeps working for `grace_period_seconds` (default one day),
    then expires. A revoked or expired key cannot be rotated (409).

    Only the key's own user rotates it: a rotation hands out a working key
    acting as that user. A member's request for another user's key answers
    404; an organization admin sees every key, so for another user's key
    the answer is 403 (revoke it instead). The calling key must hold every
    scope of the key it rotates (403 otherwise), and the replacement
    expires no later than the calling key does.

    Args:
        key_id (UUID):
        idempotency_key (str | Unset):
        body (ApiKeyRotate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[IssuedApiKey | Problem]
    """

    kwargs = _get_kwargs(
        key_id=key_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    key_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: ApiKeyRotate | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> IssuedApiKey | Problem | None:
    """Rotate an API key

     Issues a replacement key with the same user, name, scopes and expiry.
    The old key keeps working for `grace_period_seconds` (default one day),
    then expires. A revoked or expired key cannot be rotated (409).

    Only the key's own user rotates it: a rotation hands out a working key
    acting as that user. A member's request for another user's key answers
    404; an organization admin sees every key, so for another user's key
    the answer is 403 (revoke it instead). The calling key must hold every
    scope of the key it rotates (403 otherwise), and the replacement
    expires no later than the calling key does.

    Args:
        key_id (UUID):
        idempotency_key (str | Unset):
        body (ApiKeyRotate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        IssuedApiKey | Problem
    """

    return sync_detailed(
        key_id=key_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    key_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: ApiKeyRotate | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[IssuedApiKey | Problem]:
    """Rotate an API key

     Issues a replacement key with the same user, name, scopes and expiry.
    The old key keeps working for `grace_period_seconds` (default one day),
    then expires. A revoked or expired key cannot be rotated (409).

    Only the key's own user rotates it: a rotation hands out a working key
    acting as that user. A member's request for another user's key answers
    404; an organization admin sees every key, so for another user's key
    the answer is 403 (revoke it instead). The calling key must hold every
    scope of the key it rotates (403 otherwise), and the replacement
    expires no later than the calling key does.

    Args:
        key_id (UUID):
        idempotency_key (str | Unset):
        body (ApiKeyRotate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[IssuedApiKey | Problem]
    """

    kwargs = _get_kwargs(
        key_id=key_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    key_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: ApiKeyRotate | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> IssuedApiKey | Problem | None:
    """Rotate an API key

     Issues a replacement key with the same user, name, scopes and expiry.
    The old key keeps working for `grace_period_seconds` (default one day),
    then expires. A revoked or expired key cannot be rotated (409).

    Only the key's own user rotates it: a rotation hands out a working key
    acting as that user. A member's request for another user's key answers
    404; an organization admin sees every key, so for another user's key
    the answer is 403 (revoke it instead). The calling key must hold every
    scope of the key it rotates (403 otherwise), and the replacement
    expires no later than the calling key does.

    Args:
        key_id (UUID):
        idempotency_key (str | Unset):
        body (ApiKeyRotate | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        IssuedApiKey | Problem
    """

    return (
        await asyncio_detailed(
            key_id=key_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
