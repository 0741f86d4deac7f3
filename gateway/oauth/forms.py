"""Reading the authorization server's form bodies and parameters: bounded, UTF-8, each parameter once."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request

Params = ImmutableMultiDict[str, str]

FORM_BYTES = 64 * 1024
# C0, DEL and C1: no parameter needs one, PostgreSQL refuses NUL in text, and a client or redirect URI that
# holds one is not what it looks like.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class FormError(Exception):
    """The body is not a form this server reads (media type, size, encoding)."""


class Unreadable(Exception):
    """A parameter sent twice (RFC 6749 §3.1) or holding a control character."""


def single(params: Params, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise Unreadable(f"The request repeats {name}.")
    if values and CONTROL.search(values[0]):
        raise Unreadable(f"The request's {name} holds a control character.")
    # RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
    return values[0] if values and values[0] else None


async def read_form(request: Request) -> Params:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise FormError("The body must be application/x-www-form-urlencoded.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > FORM_BYTES:
        raise FormError(f"The body is over {FORM_BYTES // 1024} KiB.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_BYTES:
            raise FormError(f"The body is over {FORM_BYTES // 1024} KiB.")
    try:
        return ImmutableMultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise FormError("The body is not UTF-8.") from exc
