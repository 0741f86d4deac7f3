from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.workflow_run import WorkflowRun
from ...types import Response


def _get_kwargs(
    run_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/workflows/runs/{run_id}".format(
            run_id=quote(str(run_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | WorkflowRun | None:
    if response.status_code == 200:
        response_200 = WorkflowRun.from_dict(response.json())

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
) -> Response[Problem | WorkflowRun]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | WorkflowRun]:
    """Get a run's status

     A run's state, `progress` (the share of its steps done) and `stage`
    (the running step's name), its `inputs`, and — once `completed` —
    its `outputs`. A `failed` run has a human-readable `error_message`
    and a stable `error_code`; a `cancelled` one says why (the caller, or
    its `timeout`). Poll every 2–5 seconds: each call costs a token.

    Args:
        run_id (str): A workflow run's id: `run_` and a UUID. Example:
            run_c1d2e3f4-5a6b-4c7d-8e9f-0a1b2c3d4e5f.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WorkflowRun]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | WorkflowRun | None:
    """Get a run's status

     A run's state, `progress` (the share of its steps done) and `stage`
    (the running step's name), its `inputs`, and — once `completed` —
    its `outputs`. A `failed` run has a human-readable `error_message`
    and a stable `error_code`; a `cancelled` one says why (the caller, or
    its `timeout`). Poll every 2–5 seconds: each call costs a token.

    Args:
        run_id (str): A workflow run's id: `run_` and a UUID. Example:
            run_c1d2e3f4-5a6b-4c7d-8e9f-0a1b2c3d4e5f.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WorkflowRun
    """

    return sync_detailed(
        run_id=run_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | WorkflowRun]:
    """Get a run's status

     A run's state, `progress` (the share of its steps done) and `stage`
    (the running step's name), its `inputs`, and — once `completed` —
    its `outputs`. A `failed` run has a human-readable `error_message`
    and a stable `error_code`; a `cancelled` one says why (the caller, or
    its `timeout`). Poll every 2–5 seconds: each call costs a token.

    Args:
        run_id (str): A workflow run's id: `run_` and a UUID. Example:
            run_c1d2e3f4-5a6b-4c7d-8e9f-0a1b2c3d4e5f.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WorkflowRun]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | WorkflowRun | None:
    """Get a run's status

     A run's state, `progress` (the share of its steps done) and `stage`
    (the running step's name), its `inputs`, and — once `completed` —
    its `outputs`. A `failed` run has a human-readable `error_message`
    and a stable `error_code`; a `cancelled` one says why (the caller, or
    its `timeout`). Poll every 2–5 seconds: each call costs a token.

    Args:
        run_id (str): A workflow run's id: `run_` and a UUID. Example:
            run_c1d2e3f4-5a6b-4c7d-8e9f-0a1b2c3d4e5f.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WorkflowRun
    """

    return (
        await asyncio_detailed(
            run_id=run_id,
            client=client,
        )
    ).parsed
