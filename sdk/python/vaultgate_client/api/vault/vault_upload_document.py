from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.document import Document
from ...models.document_upload import DocumentUpload
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: DocumentUpload,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/vault/documents",
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Document | Problem | None:
    if response.status_code == 202:
        response_202 = Document.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Document | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: DocumentUpload,
    idempotency_key: str | Unset = UNSET,
) -> Response[Document | Problem]:
    """Upload a document

     Stores a PDF, DOCX, TXT or Markdown file and queues its ingestion
    (text extraction, chunking, indexing for search). Answers 202 with the
    document in status `pending`; poll the `Location` until it is `ready`
    or `failed` (with `error_code`).

    The type is read from the content, not the file name: anything else,
    macro-enabled or legacy Word files included, is a 415. A DOCX is
    checked before any parser sees it (entry count and sizes, compression
    ratio, encryption, DTDs, macros); an unsafe one is a 422
    `unsafe_document`. Files over 50 MiB are refused with 413 before they
    are read whole.

    Args:
        idempotency_key (str | Unset):
        body (DocumentUpload):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Document | Problem]
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
    body: DocumentUpload,
    idempotency_key: str | Unset = UNSET,
) -> Document | Problem | None:
    """Upload a document

     Stores a PDF, DOCX, TXT or Markdown file and queues its ingestion
    (text extraction, chunking, indexing for search). Answers 202 with the
    document in status `pending`; poll the `Location` until it is `ready`
    or `failed` (with `error_code`).

    The type is read from the content, not the file name: anything else,
    macro-enabled or legacy Word files included, is a 415. A DOCX is
    checked before any parser sees it (entry count and sizes, compression
    ratio, encryption, DTDs, macros); an unsafe one is a 422
    `unsafe_document`. Files over 50 MiB are refused with 413 before they
    are read whole.

    Args:
        idempotency_key (str | Unset):
        body (DocumentUpload):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Document | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: DocumentUpload,
    idempotency_key: str | Unset = UNSET,
) -> Response[Document | Problem]:
    """Upload a document

     Stores a PDF, DOCX, TXT or Markdown file and queues its ingestion
    (text extraction, chunking, indexing for search). Answers 202 with the
    document in status `pending`; poll the `Location` until it is `ready`
    or `failed` (with `error_code`).

    The type is read from the content, not the file name: anything else,
    macro-enabled or legacy Word files included, is a 415. A DOCX is
    checked before any parser sees it (entry count and sizes, compression
    ratio, encryption, DTDs, macros); an unsafe one is a 422
    `unsafe_document`. Files over 50 MiB are refused with 413 before they
    are read whole.

    Args:
        idempotency_key (str | Unset):
        body (DocumentUpload):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Document | Problem]
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
    body: DocumentUpload,
    idempotency_key: str | Unset = UNSET,
) -> Document | Problem | None:
    """Upload a document

     Stores a PDF, DOCX, TXT or Markdown file and queues its ingestion
    (text extraction, chunking, indexing for search). Answers 202 with the
    document in status `pending`; poll the `Location` until it is `ready`
    or `failed` (with `error_code`).

    The type is read from the content, not the file name: anything else,
    macro-enabled or legacy Word files included, is a 415. A DOCX is
    checked before any parser sees it (entry count and sizes, compression
    ratio, encryption, DTDs, macros); an unsafe one is a 422
    `unsafe_document`. Files over 50 MiB are refused with 413 before they
    are read whole.

    Args:
        idempotency_key (str | Unset):
        body (DocumentUpload):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Document | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
