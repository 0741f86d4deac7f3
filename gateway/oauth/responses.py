"""The authorization server's JSON answers: RFC 6749 §5.2 error bodies, never cached (RFC 6749 §5.1)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# RFC 6749 §4.1.2.1 and §5.2: the only characters an error_description may hold.
_NOT_IN_ERROR_DESCRIPTION = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def error_description(text: str) -> str:
    """`text` with what RFC 6749 forbids in an error_description replaced: a guard, as messages name no input."""
    return _NOT_IN_ERROR_DESCRIPTION.sub("?", text)


def no_store_json(body: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code, headers={**NO_STORE, **(headers or {})})


def oauth_error(
    error: str, description: str, status_code: int = 400, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """`{"error", "error_description"}` (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 7009 §2.2.1)."""
    return no_store_json({"error": error, "error_description": error_description(description)}, status_code, headers)
