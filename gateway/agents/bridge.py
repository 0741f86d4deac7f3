"""A tool call is the REST call, made in process.

The arguments become the operation's path, query and JSON body; the request runs
through the whole REST stack (routing, scope, rate limits, idempotency,
validation, handler, problem details) with the caller's principal in an ASGI
scope entry no client can set — never a header, never the raw token. The
answer becomes a tool result: a problem is `isError` with the problem object as
its structured content, so an agent reads `not_found` or `validation_error`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import mcp_types as types
from starlette.types import ASGIApp, Message, Scope

from core.failures import FieldError
from gateway.agents import lists
from gateway.agents.tools import IDEMPOTENCY_ARGUMENT, Tool
from gateway.auth import Principal
from gateway.middleware import COST, PRINCIPAL
from gateway.problems import PROBLEM_MEDIA_TYPE, Problem
from gateway.request_id import current_request_id


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Bridge:
    def __init__(self, rest_app: ASGIApp) -> None:
        self.rest_app = rest_app

    async def call(
        self, tool: Tool, arguments: dict[str, Any], principal: Principal, outer: Scope
    ) -> types.CallToolResult:
        try:
            request = _request(tool, arguments)
        except Problem as problem:
            return problem_result(problem, tool.operation.path)
        answer = await self._send(request, principal, outer)
        if answer.status >= 400 or answer.content_type == PROBLEM_MEDIA_TYPE:
            return _error_result(answer)
        result = answer.json()
        if tool.lists and isinstance(result, dict) and lists.needs_shaping(result):
            result = await self._shape_list(tool, request, result, principal, outer)
        if result is None:
            return types.CallToolResult(content=[types.TextContent(type="text", text=f"Done (HTTP {answer.status}).")])
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(result, ensure_ascii=False))],
            structured_content=result,
        )

    async def _shape_list(
        self, tool: Tool, request: _Request, page: dict[str, Any], principal: Principal, outer: Scope
    ) -> dict[str, Any]:
        count = len(page["data"])
        if count > lists.REFINE_ABOVE:
            return lists.refinement(tool.name, page, tool.query_descriptions)
        if not tool.pages:
            return lists.truncation(page, count, pages=False)
        # The first page again, `SHOW_AT_MOST` long: its cursor resumes right after the last item shown (a
        # cursor after item 50 would skip 26-50). The agent asked once, so the second request draws nothing.
        first = await self._send(request.with_limit(lists.SHOW_AT_MOST), principal, outer, cost=0)
        shorter = first.json() if first.status == 200 else None
        if not isinstance(shorter, dict):
            return lists.truncation(page, count, pages=False)
        return lists.truncation(shorter, count, pages=True)

    async def _send(self, request: _Request, principal: Principal, outer: Scope, cost: int | None = None) -> Answer:
        headers = [(b"accept", b"application/json"), (b"user-agent", b"vaultgate-mcp")]
        body = b""
        if request.body is not None:
            body = json.dumps(request.body).encode()
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if request.idempotency_key is not None:
            headers.append((b"idempotency-key", request.idempotency_key.encode()))
        if request_id := current_request_id():
            headers.append((b"x-request-id", request_id.encode()))
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": outer.get("scheme", "http"),
            "server": outer.get("server"),
            "client": outer.get("client"),
            "root_path": "",
            "path": request.path,
            "raw_path": request.raw_path.encode(),
            "query_string": request.query.encode(),
            "headers": headers,
            "state": dict(outer.get("state", {})),
            PRINCIPAL: principal,
        }
        if cost is not None:
            scope[COST] = cost
        return await _run(self.rest_app, scope, body)


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    raw_path: str
    query_items: tuple[tuple[str, str], ...]
    body: dict[str, Any] | None
    idempotency_key: str | None

    @property
    def query(self) -> str:
        return urlencode(self.query_items)

    def with_limit(self, limit: int) -> _Request:
        items = (*((k, v) for k, v in self.query_items if k != "limit"), ("limit", str(limit)))
        return _Request(self.method, self.path, self.raw_path, items, self.body, self.idempotency_key)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _request(tool: Tool, arguments: dict[str, Any]) -> _Request:
    known = {p.name for p in tool.parameters} | set(tool.body_properties or ())
    if tool.operation.idempotency_key is not None:
        known.add(IDEMPOTENCY_ARGUMENT)
    unknown = sorted(set(arguments) - known)
    if unknown:
        raise Problem(
            "validation_error",
            f"{tool.name} takes no argument named {', '.join(repr(u) for u in unknown)}.",
            errors=[FieldError(f"is not an argument of {tool.name}", parameter=name) for name in unknown],
        )
    path_values: dict[str, str] = {}
    raw_values: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    missing: list[str] = []
    for parameter in tool.parameters:
        value = arguments.get(parameter.name)
        if parameter.location == "path":
            if value is None or value == "":
                missing.append(parameter.name)
                continue
            text = _scalar(value)
            # A path value is one segment: a slash would route the call to another operation.
            path_values[parameter.name] = text.replace("/", "%2F")
            raw_values[parameter.name] = quote(text, safe="")
        elif value is not None:
            if isinstance(value, list):
                items = [_scalar(v) for v in value]
                query += (
                    [(parameter.name, v) for v in items] if parameter.explode else [(parameter.name, ",".join(items))]
                )
            else:
                query.append((parameter.name, _scalar(value)))
    if missing:
        raise Problem(
            "validation_error",
            f"{tool.name} needs {', '.join(repr(m) for m in missing)}.",
            errors=[FieldError("is required", parameter=name) for name in missing],
        )
    body = None
    if tool.body_properties is not None:
        body = {name: arguments[name] for name in tool.body_properties if name in arguments}
    key = arguments.get(IDEMPOTENCY_ARGUMENT)
    template = tool.operation.path
    return _Request(
        method=tool.operation.method,
        path=template.format(**path_values),
        raw_path=template.format(**raw_values),
        query_items=tuple(query),
        body=body,
        idempotency_key=str(key) if key is not None else None,
    )


async def _run(app: ASGIApp, scope: Scope, body: bytes) -> Answer:
    """One HTTP exchange with an ASGI app, in this task (so the request id's context carries over)."""
    sent = False
    status = 500
    content_type = ""
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status, content_type
        if message["type"] == "http.response.start":
            status = message["status"]
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    content_type = value.decode("latin-1").split(";")[0].strip()
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return Answer(status, content_type, b"".join(chunks))


def problem_result(problem: Problem, instance: str) -> types.CallToolResult:
    """A problem found before any REST call (bad arguments, a tool the server's restrictions leave out)."""
    body, _headers = problem.render(instance)
    return _error_result(Answer(problem.status, PROBLEM_MEDIA_TYPE, body))


def _error_result(answer: Answer) -> types.CallToolResult:
    try:
        problem = answer.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        problem = {"code": "internal_error", "status": answer.status, "detail": "The operation failed."}
    text = f"{problem.get('code', 'error')}: {problem.get('detail') or problem.get('title') or ''}".strip()
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=problem, is_error=True
    )
