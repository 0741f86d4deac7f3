from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.job_status import JobStatus
from ...models.problem import Problem
from ...models.workflow_run_page import WorkflowRunPage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    workflow_id: str | Unset = UNSET,
    status: JobStatus | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["workflow_id"] = workflow_id

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/workflows/runs",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WorkflowRunPage | None:
    if response.status_code == 200:
        response_200 = WorkflowRunPage.from_dict(response.json())

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
) -> Response[Problem | WorkflowRunPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    workflow_id: str | Unset = UNSET,
    status: JobStatus | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> Response[Problem | WorkflowRunPage]:
    """List workflow runs

     Runs in the caller's organization and mode, newest first.

    Args:
        workflow_id (str | Unset): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        status (JobStatus | Unset): `pending` (queued, not yet claimed by a worker) → `running` →
            one of
            the terminal states `completed`, `failed` (see `error_message`) or
            `cancelled` (by the caller or by a timeout).
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WorkflowRunPage]
    """

    kwargs = _get_kwargs(
        workflow_id=workflow_id,
        status=status,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    workflow_id: str | Unset = UNSET,
    status: JobStatus | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> Problem | WorkflowRunPage | None:
    """List workflow runs

     Runs in the caller's organization and mode, newest first.

    Args:
        workflow_id (str | Unset): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        status (JobStatus | Unset): `pending` (queued, not yet claimed by a worker) → `running` →
            one of
            the terminal states `completed`, `failed` (see `error_message`) or
            `cancelled` (by the caller or by a timeout).
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WorkflowRunPage
    """

    return sync_detailed(
        client=client,
        workflow_id=workflow_id,
        status=status,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    workflow_id: str | Unset = UNSET,
    status: JobStatus | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> Response[Problem | WorkflowRunPage]:
    """List workflow runs

     Runs in the caller's organization and mode, newest first.

    Args:
        workflow_id (str | Unset): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        status (JobStatus | Unset): `pending` (queued, not yet claimed by a worker) → `running` →
            one of
            the terminal states `completed`, `failed` (see `error_message`) or
            `cancelled` (by the caller or by a timeout).
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WorkflowRunPage]
    """

    kwargs = _get_kwargs(
        workflow_id=workflow_id,
        status=status,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    workflow_id: str | Unset = UNSET,
    status: JobStatus | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> Problem | WorkflowRunPage | None:
    """List workflow runs

     Runs in the caller's organization and mode, newest first.

    Args:
        workflow_id (str | Unset): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        status (JobStatus | Unset): `pending` (queued, not yet claimed by a worker) → `running` →
            one of
            the terminal states `completed`, `failed` (see `error_message`) or
            `cancelled` (by the caller or by a timeout).
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WorkflowRunPage
    """

    return (
        await asyncio_detailed(
            client=client,
            workflow_id=workflow_id,
            status=status,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
