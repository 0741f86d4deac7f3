"""The HTTP layer under the generated client: idempotency keys on writes, retries after 429/503, problems raised."""

from __future__ import annotations

import email.utils
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from vaultgate_client import AuthenticatedClient
from vaultgate_client_ext.problems import Problem, is_problem

WRITE_METHODS = frozenset({"POST", "PATCH", "DELETE"})
RETRIED_STATUSES = frozenset({429, 503})
# A 409 with this code is a retry that overtook the first attempt of the same write, still running: once that has
# ended, the same request gets its kept answer (docs of the `conflict` response), so it is retried like a 429.
IN_FLIGHT_CODE = "idempotency_key_in_use"


class ResilientTransport(httpx.BaseTransport):
    """Wraps a transport so each logical call is safe to repeat and fails as a `Problem`.

    A write gets a fresh `Idempotency-Key` unless the caller set one; its retries send the same request, key
    included, so the gateway answers a retry of a write that did land with the kept answer instead of doing it
    twice. A 429 or 503 is retried after its `Retry-After` (seconds or an HTTP date; without one, 1 s doubling)
    at most `max_attempts` times in all, and never when the wait would exceed `max_wait` seconds; so is a 409
    `idempotency_key_in_use`.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        max_attempts: int = 3,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.max_attempts = max(1, max_attempts)
        self.max_wait = max_wait
        self.sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in WRITE_METHODS and "Idempotency-Key" not in request.headers:
            request.headers["Idempotency-Key"] = str(uuid.uuid4())
        request.read()  # a streamed body (an upload) could not be sent a second time
        for attempt in range(1, self.max_attempts + 1):
            response = self.inner.handle_request(request)
            delay = retry_delay(response, attempt)
            if not retried(response) or attempt == self.max_attempts or delay > self.max_wait:
                break
            response.close()
            self.sleep(delay)
        if is_problem(response):
            response.read()
            raise Problem.from_response(response, retry_after=retry_after(response))
        return response

    def close(self) -> None:
        self.inner.close()


def retried(response: httpx.Response) -> bool:
    if response.status_code in RETRIED_STATUSES:
        return True
    if response.status_code != 409 or not is_problem(response):
        return False
    response.read()
    return Problem.from_response(response).code == IN_FLIGHT_CODE


def retry_delay(response: httpx.Response, attempt: int) -> float:
    """How long to wait before `attempt` + 1: what `Retry-After` asks for, else 1 s doubling each attempt."""
    asked = retry_after(response)
    return float(2 ** (attempt - 1)) if asked is None else asked


def retry_after(response: httpx.Response) -> float | None:
    """Seconds `Retry-After` asks for (RFC 9110 §10.2.3: delay-seconds or an HTTP date), if it says."""
    value: str = response.headers.get("retry-after", "").strip()
    if value.isascii() and value.isdigit():  # str.isdigit() also takes "²" and "٣", which are no delay-seconds
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when.replace(tzinfo=when.tzinfo or UTC) - datetime.now(UTC)).total_seconds())


class ApiKeyClient(AuthenticatedClient):
    """The generated client with a repr that leaves the API key out (attrs' would print `token`), so logging or
    printing the client, or an exception's locals, does not leak it."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r}, token=<hidden>)"


def connect(
    base_url: str, api_key: str, *, timeout: float = 30.0, max_attempts: int = 3, max_wait: float = 60.0
) -> AuthenticatedClient:
    """A generated `AuthenticatedClient` for the API root (`https://host/api/v2`) whose calls go through
    `ResilientTransport`. Only its synchronous functions get the additions."""
    client = ApiKeyClient(base_url=base_url, token=api_key, raise_on_unexpected_status=True)
    transport = ResilientTransport(max_attempts=max_attempts, max_wait=max_wait)
    headers = {"Authorization": f"Bearer {api_key}"}
    return client.set_httpx_client(
        httpx.Client(base_url=base_url, headers=headers, timeout=timeout, transport=transport)
    )


def download(client: AuthenticatedClient, url: str) -> bytes:
    """The bytes behind a signed download URL (`download_url`, `filled_download_url`).

    The signature is the credential: the API key is not sent, since the URL may be a storage bucket's.
    """
    with httpx.Client(transport=ResilientTransport(), timeout=client.get_httpx_client().timeout) as plain:
        response = plain.get(url)
        response.raise_for_status()  # which answers None, not the response, before httpx 0.25
        return response.content
