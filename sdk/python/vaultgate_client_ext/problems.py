"""The one exception the additions raise for an error answer: every `application/problem+json` becomes `Problem`."""

from __future__ import annotations

from typing import Any

import httpx

from vaultgate_client.models.field_error import FieldError

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """An RFC 9457 problem the API answered: `code` is stable, `request_id` is what to quote to an operator."""

    def __init__(self, status: int, body: dict[str, Any], retry_after: float | None = None) -> None:
        self.status = status
        self.code: str = body.get("code", "unknown")
        self.title: str = body.get("title", "")
        self.detail: str = body.get("detail", "")
        self.request_id: str = body.get("request_id", "")
        self.errors = [FieldError.from_dict(error) for error in body.get("errors", [])]
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


def is_problem(response: httpx.Response) -> bool:
    media_type: str = response.headers.get("content-type", "")
    return media_type.split(";")[0].strip() == PROBLEM_MEDIA_TYPE
