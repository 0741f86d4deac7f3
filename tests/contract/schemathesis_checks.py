"""Checks the schemathesis run adds to its own (loaded through `SCHEMATHESIS_HOOKS`)."""

from __future__ import annotations

import json
from typing import Any

import schemathesis

PROBLEM_MEDIA_TYPE = "application/problem+json"


@schemathesis.check
def documented_error_code(ctx: Any, response: Any, case: Any) -> bool | None:
    """A problem answer carries a `code` its operation lists in `x-error-codes`: clients switch on them."""
    if not response.headers.get("content-type", [""])[0].startswith(PROBLEM_MEDIA_TYPE):
        return None
    if response.request.method.upper() != case.operation.method.upper():
        return None  # a method the path lacks: its 405 answers the path, no operation
    listed = case.operation.definition.raw.get("x-error-codes")
    code = json.loads(response.content).get("code")
    if listed is not None and code not in listed:
        operation_id = case.operation.definition.raw.get("operationId")
        raise AssertionError(f"{operation_id} answered {response.status_code} {code!r}, not in its x-error-codes")
    return None
