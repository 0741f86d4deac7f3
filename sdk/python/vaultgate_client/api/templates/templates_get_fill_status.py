from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.template_fill import TemplateFill
from ...types import Response


def _get_kwargs(
    job_id: UUID,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/templates/fill/{job_id}".format(
            job_id=quote(str(job_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | TemplateFill | None:
    if response.status_code == 200:
        response_200 = TemplateFill.from_dict(response.json())

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
) -> Response[Problem | TemplateFill]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    job_id: UUID,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | TemplateFill]:
    """Get a fill's status

     A fill's state, `progress` and `progress_stage` ("Validating
    template", "Sourcing from vault", "Filling narrative sections",
    "Filling tables", "Rendering document", then `done`). Once
    `completed`, `filled_document_id` names the filled document in the
    vault and `filled_download_url` is a link to it valid for one hour,
    signed afresh on every call: poll again for a new one. A `failed`
    fill has a stable `error_code` and an `error_message` for people.

    Args:
        job_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TemplateFill]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_id: UUID,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | TemplateFill | None:
    """Get a fill's status

     A fill's state, `progress` and `progress_stage` ("Validating
    template", "Sourcing from vault", "Filling narrative sections",
    "Filling tables", "Rendering document", then `done`). Once
    `completed`, `filled_document_id` names the filled document in the
    vault and `filled_download_url` is a link to it valid for one hour,
    signed afresh on every call: poll again for a new one. A `failed`
    fill has a stable `error_code` and an `error_message` for people.

    Args:
        job_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TemplateFill
    """

    return sync_detailed(
        job_id=job_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    job_id: UUID,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | TemplateFill]:
    """Get a fill's status

     A fill's state, `progress` and `progress_stage` ("Validating
    template", "Sourcing from vault", "Filling narrative sections",
    "Filling tables", "Rendering document", then `done`). Once
    `completed`, `filled_document_id` names the filled document in the
    vault and `filled_download_url` is a link to it valid for one hour,
    signed afresh on every call: poll again for a new one. A `failed`
    fill has a stable `error_code` and an `error_message` for people.

    Args:
        job_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TemplateFill]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_id: UUID,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | TemplateFill | None:
    """Get a fill's status

     A fill's state, `progress` and `progress_stage` ("Validating
    template", "Sourcing from vault", "Filling narrative sections",
    "Filling tables", "Rendering document", then `done`). Once
    `completed`, `filled_document_id` names the filled document in the
    vault and `filled_download_url` is a link to it valid for one hour,
    signed afresh on every call: poll again for a new one. A `failed`
    fill has a stable `error_code` and an `error_message` for people.

    Args:
        job_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TemplateFill
    """

    return (
        await asyncio_detailed(
            job_id=job_id,
            client=client,
        )
    ).parsed
