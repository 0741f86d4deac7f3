from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.template_fill_started import TemplateFillStarted
from ...models.template_fill_upload import TemplateFillUpload
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: TemplateFillUpload,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/templates/fill",
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | TemplateFillStarted | None:
    if response.status_code == 202:
        response_202 = TemplateFillStarted.from_dict(response.json())

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
) -> Response[Problem | TemplateFillStarted]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: TemplateFillUpload,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | TemplateFillStarted]:
    """Start a template fill

     Uploads a DOCX template and starts filling it from the vault; answers
    202 with `{job_id, status: "pending"}` and a `Location` to poll
    (`templates.get_fill_status`) every 2–5 seconds.

    The template is Word text with Jinja tags, as docxtpl reads them
    (`{{ project.name }}`, `{%tr for d in documents %}` for table rows),
    in the body, headers, footers and document properties. It sees
    `project` and `documents` (each as `vault.get_document` shows it,
    with its `text` and `fields` too), `search(query, k)`,
    `ask(question)` (an extractive answer with `citations`) and `today`,
    all scoped to `project_id` and `document_ids`. The `required(name)`
    filter on a table loop fails the fill with `table_fill_failed` when
    nothing matches. Rendering is sandboxed: no attribute or call outside
    the data is reachable, and a fill that runs too long or too large
    fails (`render_timeout`, `render_resource_limit`).

    The file is typed by its content: anything but a DOCX (a macro-enabled
    `.docm`, a legacy or password-protected `.doc`, a PDF renamed `.docx`)
    is a 415; a DOCX that cannot be parsed safely (zip bomb, DTDs or
    entities, a body over 5 MB) a 422 `unsafe_document`. Templates over
    25 MiB are refused with 413 before they are read whole. A user whose
    `template_fill` permission the organization turned off gets 403
    `permission_denied` (organization admins are never refused).

    Fills cost 25 tokens and store a document: send an `Idempotency-Key`,
    so a retried request after a dropped answer does not start a second fill.

    Args:
        idempotency_key (str | Unset):
        body (TemplateFillUpload):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TemplateFillStarted]
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
    body: TemplateFillUpload,
    idempotency_key: str | Unset = UNSET,
) -> Problem | TemplateFillStarted | None:
    """Start a template fill

     Uploads a DOCX template and starts filling it from the vault; answers
    202 with `{job_id, status: "pending"}` and a `Location` to poll
    (`templates.get_fill_status`) every 2–5 seconds.

    The template is Word text with Jinja tags, as docxtpl reads them
    (`{{ project.name }}`, `{%tr for d in documents %}` for table rows),
    in the body, headers, footers and document properties. It sees
    `project` and `documents` (each as `vault.get_document` shows it,
    with its `text` and `fields` too), `search(query, k)`,
    `ask(question)` (an extractive answer with `citations`) and `today`,
    all scoped to `project_id` and `document_ids`. The `required(name)`
    filter on a table loop fails the fill with `table_fill_failed` when
    nothing matches. Rendering is sandboxed: no attribute or call outside
    the data is reachable, and a fill that runs too long or too large
    fails (`render_timeout`, `render_resource_limit`).

    The file is typed by its content: anything but a DOCX (a macro-enabled
    `.docm`, a legacy or password-protected `.doc`, a PDF renamed `.docx`)
    is a 415; a DOCX that cannot be parsed safely (zip bomb, DTDs or
    entities, a body over 5 MB) a 422 `unsafe_document`. Templates over
    25 MiB are refused with 413 before they are read whole. A user whose
    `template_fill` permission the organization turned off gets 403
    `permission_denied` (organization admins are never refused).

    Fills cost 25 tokens and store a document: send an `Idempotency-Key`,
    so a retried request after a dropped answer does not start a second fill.

    Args:
        idempotency_key (str | Unset):
        body (TemplateFillUpload):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TemplateFillStarted
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: TemplateFillUpload,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | TemplateFillStarted]:
    """Start a template fill

     Uploads a DOCX template and starts filling it from the vault; answers
    202 with `{job_id, status: "pending"}` and a `Location` to poll
    (`templates.get_fill_status`) every 2–5 seconds.

    The template is Word text with Jinja tags, as docxtpl reads them
    (`{{ project.name }}`, `{%tr for d in documents %}` for table rows),
    in the body, headers, footers and document properties. It sees
    `project` and `documents` (each as `vault.get_document` shows it,
    with its `text` and `fields` too), `search(query, k)`,
    `ask(question)` (an extractive answer with `citations`) and `today`,
    all scoped to `project_id` and `document_ids`. The `required(name)`
    filter on a table loop fails the fill with `table_fill_failed` when
    nothing matches. Rendering is sandboxed: no attribute or call outside
    the data is reachable, and a fill that runs too long or too large
    fails (`render_timeout`, `render_resource_limit`).

    The file is typed by its content: anything but a DOCX (a macro-enabled
    `.docm`, a legacy or password-protected `.doc`, a PDF renamed `.docx`)
    is a 415; a DOCX that cannot be parsed safely (zip bomb, DTDs or
    entities, a body over 5 MB) a 422 `unsafe_document`. Templates over
    25 MiB are refused with 413 before they are read whole. A user whose
    `template_fill` permission the organization turned off gets 403
    `permission_denied` (organization admins are never refused).

    Fills cost 25 tokens and store a document: send an `Idempotency-Key`,
    so a retried request after a dropped answer does not start a second fill.

    Args:
        idempotency_key (str | Unset):
        body (TemplateFillUpload):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TemplateFillStarted]
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
    body: TemplateFillUpload,
    idempotency_key: str | Unset = UNSET,
) -> Problem | TemplateFillStarted | None:
    """Start a template fill

     Uploads a DOCX template and starts filling it from the vault; answers
    202 with `{job_id, status: "pending"}` and a `Location` to poll
    (`templates.get_fill_status`) every 2–5 seconds.

    The template is Word text with Jinja tags, as docxtpl reads them
    (`{{ project.name }}`, `{%tr for d in documents %}` for table rows),
    in the body, headers, footers and document properties. It sees
    `project` and `documents` (each as `vault.get_document` shows it,
    with its `text` and `fields` too), `search(query, k)`,
    `ask(question)` (an extractive answer with `citations`) and `today`,
    all scoped to `project_id` and `document_ids`. The `required(name)`
    filter on a table loop fails the fill with `table_fill_failed` when
    nothing matches. Rendering is sandboxed: no attribute or call outside
    the data is reachable, and a fill that runs too long or too large
    fails (`render_timeout`, `render_resource_limit`).

    The file is typed by its content: anything but a DOCX (a macro-enabled
    `.docm`, a legacy or password-protected `.doc`, a PDF renamed `.docx`)
    is a 415; a DOCX that cannot be parsed safely (zip bomb, DTDs or
    entities, a body over 5 MB) a 422 `unsafe_document`. Templates over
    25 MiB are refused with 413 before they are read whole. A user whose
    `template_fill` permission the organization turned off gets 403
    `permission_denied` (organization admins are never refused).

    Fills cost 25 tokens and store a document: send an `Idempotency-Key`,
    so a retried request after a dropped answer does not start a second fill.

    Args:
        idempotency_key (str | Unset):
        body (TemplateFillUpload):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TemplateFillStarted
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
