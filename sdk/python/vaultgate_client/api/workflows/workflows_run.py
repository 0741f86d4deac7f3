from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.workflow_run_request import WorkflowRunRequest
from ...models.workflow_run_started import WorkflowRunStarted
from ...types import UNSET, Response, Unset


def _get_kwargs(
    workflow_id: str,
    *,
    body: WorkflowRunRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/workflows/{workflow_id}/runs".format(
            workflow_id=quote(str(workflow_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | WorkflowRunStarted | None:
    if response.status_code == 202:
        response_202 = WorkflowRunStarted.from_dict(response.json())

        return response_202

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
) -> Response[Problem | WorkflowRunStarted]:
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
    body: WorkflowRunRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | WorkflowRunStarted]:
    """Run a workflow

     Starts a run of the workflow's current version and answers 202 at
    once; poll the `Location` (`workflows.get_run_status`) every 2–5
    seconds until the run is `completed`, `failed` or `cancelled`.

    `inputs` are checked against the workflow's declared inputs: every
    missing, unknown or ill-typed one is listed in one 422, each with its
    pointer (e.g. `/inputs/start_date`). A run of a workflow that
    `requires_project` must name a `project_id`. A disabled workflow
    answers 409.

    A run acts with its steps' reach: besides `workflows:write`, the key
    needs the scopes of the actions its steps use (`vault:read` for a step
    that reads the vault, `templates:write` for `fill_template`), listed in
    `workflows.get`'s `required_scopes`. A key lacking any answers 403
    `insufficient_scope`, its `WWW-Authenticate` header naming the missing
    scopes (`scope="templates:write vault:read"`), before the inputs are
    checked.

    Runs cost 25 tokens and have effects: send an `Idempotency-Key`, so a
    retried request after a dropped answer does not start a second run.

    Args:
        workflow_id (str): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        idempotency_key (str | Unset):
        body (WorkflowRunRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WorkflowRunStarted]
    """

    kwargs = _get_kwargs(
        workflow_id=workflow_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    workflow_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: WorkflowRunRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Problem | WorkflowRunStarted | None:
    """Run a workflow

     Starts a run of the workflow's current version and answers 202 at
    once; poll the `Location` (`workflows.get_run_status`) every 2–5
    seconds until the run is `completed`, `failed` or `cancelled`.

    `inputs` are checked against the workflow's declared inputs: every
    missing, unknown or ill-typed one is listed in one 422, each with its
    pointer (e.g. `/inputs/start_date`). A run of a workflow that
    `requires_project` must name a `project_id`. A disabled workflow
    answers 409.

    A run acts with its steps' reach: besides `workflows:write`, the key
    needs the scopes of the actions its steps use (`vault:read` for a step
    that reads the vault, `templates:write` for `fill_template`), listed in
    `workflows.get`'s `required_scopes`. A key lacking any answers 403
    `insufficient_scope`, its `WWW-Authenticate` header naming the missing
    scopes (`scope="templates:write vault:read"`), before the inputs are
    checked.

    Runs cost 25 tokens and have effects: send an `Idempotency-Key`, so a
    retried request after a dropped answer does not start a second run.

    Args:
        workflow_id (str): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        idempotency_key (str | Unset):
        body (WorkflowRunRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WorkflowRunStarted
    """

    return sync_detailed(
        workflow_id=workflow_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    workflow_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: WorkflowRunRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | WorkflowRunStarted]:
    """Run a workflow

     Starts a run of the workflow's current version and answers 202 at
    once; poll the `Location` (`workflows.get_run_status`) every 2–5
    seconds until the run is `completed`, `failed` or `cancelled`.

    `inputs` are checked against the workflow's declared inputs: every
    missing, unknown or ill-typed one is listed in one 422, each with its
    pointer (e.g. `/inputs/start_date`). A run of a workflow that
    `requires_project` must name a `project_id`. A disabled workflow
    answers 409.

    A run acts with its steps' reach: besides `workflows:write`, the key
    needs the scopes of the actions its steps use (`vault:read` for a step
    that reads the vault, `templates:write` for `fill_template`), listed in
    `workflows.get`'s `required_scopes`. A key lacking any answers 403
    `insufficient_scope`, its `WWW-Authenticate` header naming the missing
    scopes (`scope="templates:write vault:read"`), before the inputs are
    checked.

    Runs cost 25 tokens and have effects: send an `Idempotency-Key`, so a
    retried request after a dropped answer does not start a second run.

    Args:
        workflow_id (str): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        idempotency_key (str | Unset):
        body (WorkflowRunRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | WorkflowRunStarted]
    """

    kwargs = _get_kwargs(
        workflow_id=workflow_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    workflow_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: WorkflowRunRequest | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Problem | WorkflowRunStarted | None:
    """Run a workflow

     Starts a run of the workflow's current version and answers 202 at
    once; poll the `Location` (`workflows.get_run_status`) every 2–5
    seconds until the run is `completed`, `failed` or `cancelled`.

    `inputs` are checked against the workflow's declared inputs: every
    missing, unknown or ill-typed one is listed in one 422, each with its
    pointer (e.g. `/inputs/start_date`). A run of a workflow that
    `requires_project` must name a `project_id`. A disabled workflow
    answers 409.

    A run acts with its steps' reach: besides `workflows:write`, the key
    needs the scopes of the actions its steps use (`vault:read` for a step
    that reads the vault, `templates:write` for `fill_template`), listed in
    `workflows.get`'s `required_scopes`. A key lacking any answers 403
    `insufficient_scope`, its `WWW-Authenticate` header naming the missing
    scopes (`scope="templates:write vault:read"`), before the inputs are
    checked.

    Runs cost 25 tokens and have effects: send an `Idempotency-Key`, so a
    retried request after a dropped answer does not start a second run.

    Args:
        workflow_id (str): A workflow's id: `wf_` and a UUID. Example:
            wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        idempotency_key (str | Unset):
        body (WorkflowRunRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | WorkflowRunStarted
    """

    return (
        await asyncio_detailed(
            workflow_id=workflow_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
