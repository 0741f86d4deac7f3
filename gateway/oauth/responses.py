"""The authorization server's JSON answers: RFC 6749 §5.2 error bodies, never cached (RFC 6749 §5.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def no_store_json(body: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code, headers={**NO_STORE, **(headers or {})})


def oauth_error(
    error: str, description: str, status_code: int = 400, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """`{"error", "error_description"}` (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 7009 §2.2.1)."""
    return no_store_json({"error": error, "error_description": description}, status_code, headers)
