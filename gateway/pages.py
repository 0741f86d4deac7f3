"""Pages the gateway serves beside the API: the served contract and the problem type pages."""

from __future__ import annotations

import html
import json
from datetime import date

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gateway.contract import Contract
from gateway.problems import PROBLEM_CODES, Problem


def openapi_endpoint(contract: Contract) -> object:
    # Served verbatim (servers included): connexion's own copy rewrites `servers`.
    # YAML reads unquoted dates (x-sunset) as dates; JSON has only strings for them.
    payload = json.dumps(contract.document, separators=(",", ":"), default=date.isoformat).encode()

    async def openapi_json(request: Request) -> Response:
        return Response(payload, media_type="application/json")

    return openapi_json


async def problem_page(request: Request) -> Response:
    """Explain one problem `type`: RFC 9457 §3.1.1 says its URI should resolve to documentation."""
    code = request.path_params["code"]
    entry = PROBLEM_CODES.get(code)
    if entry is None:
        raise Problem("not_found", f"No problem type named '{code}'.")
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{html.escape(entry.title)} · Vaultgate</title>"
        f"<h1>{html.escape(entry.title)}</h1>"
        f"<p>HTTP status {entry.status} · <code>code: {html.escape(entry.code)}</code></p>"
        f"<p>{html.escape(entry.explanation)}</p>"
        "<p>Every error body is <code>application/problem+json</code> (RFC 9457) with "
        "<code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code>, "
        "<code>instance</code>, <code>code</code> and <code>request_id</code>.</p></html>"
    )
    return HTMLResponse(body)
