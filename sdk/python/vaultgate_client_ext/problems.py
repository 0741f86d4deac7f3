"""The one exception the additions raise for an error answer: every `application/problem+json` becomes `Problem`."""

from __future__ import annotations

from typing import Any

import httpx

from vaultgate_client.models.field_error import FieldError
from vaultgate_client.types import UNSET

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """An RFC 9457 problem the API answered: `code` is stable, `request_id` is what to quote to an operator.

    Built from whatever body came back (a proxy's, a broken one): a member of the wrong type reads as absent, so
    reporting an error never fails with an error of its own. `body` keeps what was answered, as answered.
    """

    def __init__(self, status: int, body: dict[str, Any], retry_after: float | None = None) -> None:
        self.status = status
        self.code = text(body.get("code")) or "unknown"
        self.title = text(body.get("title"))
        self.detail = text(body.get("detail"))
        self.request_id = text(body.get("request_id"))
        errors = body.get("errors")
        self.errors = [field_error(error) for error in errors] if isinstance(errors, list) else []
        self.retry_after = retry_after
        self.body = body
        super().__init__(f"{status} {self.code}: {self.detail} (request {self.request_id})")

    @classmethod
    def from_response(cls, response: httpx.Response, retry_after: float | None = None) -> Problem:
        try:
            body = response.json()
        except ValueError:
            body = {}
        return cls(response.status_code, body if isinstance(body, dict) else {}, retry_after)


def text(value: object) -> str:
    return value if isinstance(value, str) else ""


def field_error(error: object) -> FieldError:
    """A `FieldError` from one `errors` entry; a bare string is taken as its detail."""
    if not isinstance(error, dict):
        return FieldError(detail=text(error))
    pointer, parameter = error.get("pointer"), error.get("parameter")
    parsed = FieldError(
        detail=text(error.get("detail")),
        pointer=pointer if isinstance(pointer, str) else UNSET,
        parameter=parameter if isinstance(parameter, str) else UNSET,
    )
    parsed.additional_properties = {
        key: value for key, value in error.items() if key not in {"detail", "pointer", "parameter"}
    }
    return parsed


def is_problem(response: httpx.Response) -> bool:
    # Media types are case-insensitive and may carry parameters (RFC 9110 §8.3.1).
    media_type: str = response.headers.get("content-type", "")
    return media_type.split(";")[0].strip().lower() == PROBLEM_MEDIA_TYPE
