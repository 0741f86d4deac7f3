"""RFC 9457 problem details: the one way any layer of the gateway fails.

    Exception
     └── Problem                 raised anywhere above storage; rendered as problem+json
          ├── status 4xx         the client can fix it (`code` says how)
          └── status 5xx         the server failed; detail stays generic

Errors from lower layers (connexion, starlette, storage) are translated once,
in `gateway.errors`, into a `Problem` before rendering.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.failures import FieldError
from gateway.request_id import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemCode:
    """A stable error code: its default status, title and the page explaining it."""

    code: str
    status: int
    title: str
    explanation: str


_CODES = [
    ProblemCode(
        "validation_error",
        400,
        "Validation error",
        "The request does not match the operation's contract: a parameter or body "
        "field is missing, has the wrong type or is out of range. `errors` lists "
        "every offending field with a JSON Pointer (`pointer`) or the parameter "
        "name (`parameter`).",
    ),
    ProblemCode(
        "invalid_json",
        400,
        "Malformed JSON body",
        "The body could not be parsed as JSON encoded in UTF-8. Fix the encoding "
        "or syntax; nothing was changed on the server.",
    ),
    ProblemCode(
        "invalid_multipart",
        400,
        "Malformed multipart body",
        "The multipart/form-data body is broken (bad boundary, truncated part). Nothing was stored.",
    ),
    ProblemCode(
        "invalid_cursor",
        400,
        "Invalid cursor",
        "The `cursor` parameter was altered, or belongs to another list, caller or set of "
        "filters. Pass `next_cursor` from the previous page unchanged, with the same filters.",
    ),
    ProblemCode(
        "unauthorized",
        401,
        "Unauthorized",
        "The request has no valid credentials. Send `Authorization: Bearer <key>` "
        "with a live or test API key that is neither revoked nor expired, or an OAuth access token issued "
        "for this resource (its `WWW-Authenticate` names the metadata that says where to get one).",
    ),
    ProblemCode(
        "insufficient_scope",
        403,
        "Insufficient scope",
        "The credentials are valid but lack the scope this operation requires. "
        "The required scope is named in the detail and in `WWW-Authenticate`.",
    ),
    ProblemCode("forbidden", 403, "Forbidden", "The caller is authenticated but not allowed to do this."),
    ProblemCode(
        "oauth_read_only",
        403,
        "OAuth tokens only read",
        "The operation changes something (its scope is not a `:read` scope), and the credentials are an OAuth "
        "access token, which only ever reads whatever scopes it was granted. Use an API key holding the scope.",
    ),
    ProblemCode(
        "permission_denied",
        403,
        "Permission denied",
        "The organization has turned this permission off for the calling user.",
    ),
    ProblemCode(
        "not_found",
        404,
        "Not found",
        "No such resource, or it belongs to another organization or mode, or it "
        "was deleted. Vaultgate does not distinguish these cases.",
    ),
    ProblemCode(
        "method_not_allowed",
        405,
        "Method not allowed",
        "The path exists but not with this method; `Allow` lists the methods it supports.",
    ),
    ProblemCode(
        "not_acceptable",
        406,
        "Not acceptable",
        "The `Accept` header admits no media type this operation can produce (it answers `application/json`).",
    ),
    ProblemCode(
        "misdirected_request",
        421,
        "Misdirected request",
        "The `Host` header names neither the gateway's public host (`VAULTGATE_PUBLIC_URL`) nor a loopback "
        "address. The MCP endpoint refuses such requests so a web page cannot reach it by DNS rebinding.",
    ),
    ProblemCode("conflict", 409, "Conflict", "The request conflicts with the current state of the resource."),
    ProblemCode(
        "idempotency_key_in_use",
        409,
        "Idempotency key in use",
        "A request with the same `Idempotency-Key` is still being processed. Retry after "
        "`Retry-After` seconds to receive its stored response.",
    ),
    ProblemCode(
        "gone",
        410,
        "Gone",
        "The operation was deprecated and its sunset date has passed. Its documentation names the replacement.",
    ),
    ProblemCode(
        "idempotency_key_reused",
        422,
        "Idempotency key reused",
        "This `Idempotency-Key` was first used with another method, path or body. Use a new key "
        "for a different request.",
    ),
    ProblemCode(
        "payload_too_large",
        413,
        "Payload too large",
        "The body exceeds the cap for this operation. It was refused before being read whole.",
    ),
    ProblemCode(
        "unsupported_media_type",
        415,
        "Unsupported media type",
        "The `Content-Type` of the body is not one this operation accepts, or an uploaded file's "
        "content (read from its bytes, not its name) is not a type the operation accepts.",
    ),
    ProblemCode(
        "unsafe_document",
        422,
        "Unsafe document",
        "The uploaded file is of an accepted type but cannot be parsed safely: for a DOCX, too "
        "many zip entries, an entry too large or compressed too well (a zip bomb), unsafe entry "
        "names, or XML parts declaring a DTD or entities. Nothing was stored.",
    ),
    ProblemCode(
        "invalid_signature",
        403,
        "Invalid signature",
        "The signed URL was altered or has expired. Ask the operation that issued it for a fresh one.",
    ),
    ProblemCode(
        "rate_limited",
        429,
        "Rate limited",
        "A token bucket cannot pay for the operation: the API key's, or its organization's, which all the "
        "organization's keys in that mode share (`RateLimit` shows both); or too many API keys not verified "
        "lately were tried from your address. Retry after `Retry-After` seconds.",
    ),
    ProblemCode(
        "internal_error",
        500,
        "Internal server error",
        "The server failed to handle the request. It was logged with the "
        "`request_id`; quote it when you report the problem.",
    ),
    ProblemCode(
        "answer_interrupted",
        502,
        "Answer interrupted",
        "The configured answer generator failed after part of a streamed answer was sent (`chat.stream` ends "
        "with this as its `error` event). Ask again, or use `chat.ask`, which falls back to the extractive answer.",
    ),
    ProblemCode(
        "service_unavailable",
        503,
        "Service unavailable",
        "A component the gateway depends on (such as the database) is unreachable.",
    ),
]
PROBLEM_CODES: dict[str, ProblemCode] = {entry.code: entry for entry in _CODES}


@dataclass
class Problem(Exception):
    """An error answered as `application/problem+json`; `code` picks the defaults."""

    code: str
    detail: str
    status: int = 0
    title: str = ""
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Every code needs a page at /problems/<code>, so an unregistered one is a bug.
        known = PROBLEM_CODES[self.code]
        self.status = self.status or known.status
        self.title = self.title or known.title
        super().__init__(f"{self.status} {self.code}: {self.detail}")

    def body(self, instance: str) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "code": self.code,
            "request_id": current_request_id(),
        }
        if self.errors:
            document["errors"] = [error.as_dict() for error in self.errors]
        document.update(self.extensions)
        return document

    def render(self, instance: str) -> tuple[bytes, dict[str, str]]:
        """Serialize for the wire: body bytes and headers (content type included)."""
        payload = json.dumps(self.body(instance), separators=(",", ":")).encode()
        return payload, {"Content-Type": PROBLEM_MEDIA_TYPE, **self.headers}
