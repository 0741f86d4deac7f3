from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.workflow_detail import WorkflowDetail
from ...types import Response


def _get_kwargs(
    workflow_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/workflows/{workflow_id}".format(
            workflow_id=quote(str(workflow_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WorkflowDetail | None:
    if response.status_code == 200:
        response_200 = WorkflowDetail.from_dict(response.json())

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
) -> Response[Problem | WorkflowDetail]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    workflow_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | WorkflowDetail]:
    """Get a workflow

     The workflow's current version: the inputs a run takes (with their
    types and defaults), whether a run needs a `project_id`, its steps,
    whose names are the `stage` of a running run, and `required_scopes`,
    every scope a key needs to run it.

    Args:
        workflow_id (str): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WorkflowDetail]
    """

    kwargs = _get_kwargs(
        workflow_id=workflow_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    workflow_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | WorkflowDetail | None:
    """Get a workflow

     The workflow's current version: the inputs a run takes (with their
    types and defaults), whether a run needs a `project_id`, its steps,
    whose names are the `stage` of a running run, and `required_scopes`,
    every scope a key needs to run it.

    Args:
        workflow_id (str): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WorkflowDetail
    """

    return sync_detailed(
        workflow_id=workflow_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    workflow_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | WorkflowDetail]:
    """Get a workflow

     The workflow's current version: the inputs a run takes (with their
    types and defaults), whether a run needs a `project_id`, its steps,
    whose names are the `stage` of a running run, and `required_scopes`,
    every scope a key needs to run it.

    Args:
        workflow_id (str): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WorkflowDetail]
    """

    kwargs = _get_kwargs(
        workflow_id=workflow_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    workflow_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | WorkflowDetail | None:
    """Get a workflow

     The workflow's current version: the inputs a run takes (with their
    types and defaults), whether a run needs a `project_id`, its steps,
    whose names are the `stage` of a running run, and `required_scopes`,
    every scope a key needs to run it.

    Args:
        workflow_id (str): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WorkflowDetail
    """

    return (
        await asyncio_detailed(
            workflow_id=workflow_id,
            client=client,
        )
    ).parsed
