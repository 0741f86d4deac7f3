"""`/mcp`, `/mcp/{server_id}` and `/mcp/{server_id}/{access_token}`: Streamable HTTP MCP, stateless.

The `mcp` SDK speaks the protocol (2025-11-25 with its handshake, 2026-07-28
without); this edge does what its defaults do not: Origin and Host checks
(DNS rebinding), the `Accept` rule, authentication (an API key, or a managed
server's path token) and the server's restrictions. No session lives in the
process, so any gateway process answers any request.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import mcp_types as types
from mcp.server.caching import CacheHint
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from core.failures import NotFound
from core.settings import Settings
from gateway.agents import fixtures
from gateway.agents.bridge import Bridge, problem_result
from gateway.agents.tools import Tool, build_tools
from gateway.auth import Principal, bearer_token
from gateway.authenticator import Authenticator
from gateway.contract import Contract
from gateway.middleware import acceptable, refusal
from gateway.problems import Problem
from gateway.signed_urls import public_base_url

PATH = "/mcp"
# The principal of the MCP request, for the tool handlers (an ASGI scope entry: no client can set it).
CALLER = "vaultgate.mcp_caller"
_ROUTE = re.compile(r"^/mcp(?:/(?P<server_id>[^/]+)(?:/(?P<token>[^/]+))?)?/?$")
# Anything after a server id is, or may be, a token: logs keep none of it.
_TOKEN_PATH = re.compile(r"^(/mcp/[^/?]+)/[^?]*")
_HOST = re.compile(r"^(?P<name>[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$")
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
TOOLS_TTL_MS = 60_000
# JSON-RPC error codes for refusals made before the protocol starts (the SDK uses the same range).
_REFUSED = -32001
_RATE_LIMITED = -32029


def redact(path: str) -> str:
    """A path (with its query) with any MCP access token replaced: the token is a credential, not for a log."""
    return _TOKEN_PATH.sub(r"\1/[redacted]", path, count=1)


class _RedactTokens(logging.Filter):
    """Keeps the path token of `/mcp/{server_id}/{access_token}` out of uvicorn's access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], redact(record.args[2]), *record.args[3:])
        return True


def redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactTokens) for f in access.filters):
        access.addFilter(_RedactTokens())


class McpEdge:
    def __init__(self, rest_app: ASGIApp, contract: Contract, settings: Settings, authenticator: Authenticator) -> None:
        self.settings = settings
        self.authenticator = authenticator
        self.tools = build_tools(contract)
        self.list_cost = contract.operation("meta.capabilities").cost if "meta.capabilities" in contract else 1
        self.bridge = Bridge(rest_app)
        public = urlsplit(public_base_url(settings))
        self.public_host = public.netloc.lower()
        self.public_origin = f"{public.scheme}://{public.netloc}".lower()
        metadata = f"{public_base_url(settings)}/.well-known/oauth-protected-resource{PATH}"
        # RFC 9728 §5.1 and RFC 6750 §3: where to learn how to authenticate, and which scopes to ask for (the read
        # scopes: all an OAuth token will ever hold).
        read_scopes = " ".join(scope for scope in contract.scopes if scope.endswith(":read"))
        self.challenge = f'Bearer resource_metadata="{metadata}", scope="{read_scopes}"'
        server: Server[Any] = Server(
            "vaultgate",
            version=contract.version,
            title="Vaultgate",
            instructions=(
                "Tools for a document vault: search and read documents, run workflows, follow template fills. "
                "Each tool is one operation of the Vaultgate REST API (the same scopes, rate limits and errors); "
                "a failed call answers a problem object with a stable `code`."
            ),
            # The list changes with a deploy or a server's restrictions, and differs by credential: private.
            cache_hints={"tools/list": CacheHint(ttl_ms=TOOLS_TTL_MS, scope="private")},
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            # 2026-07-28 checks `Mcp-Param-*` headers against the tool's schema; without this the SDK would build
            # (and draw for) the whole tools/list on every call.
            get_tool_input_schema=self._input_schema,
        )
        if settings.mcp_conformance_fixtures:
            fixtures.install(server, self._list_tools, self._call_tool)
        self.manager = StreamableHTTPSessionManager(
            app=server, stateless=True, max_request_body_size=settings.max_json_body_bytes
        )
        redact_access_log()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.manager.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            scope[CALLER] = await self._admit(scope)
        except Problem as problem:
            if problem.status == 401 and "resource_metadata" not in problem.headers.get("WWW-Authenticate", ""):
                # Any 401 on /mcp names the metadata: it is how an MCP client learns how to authenticate.
                problem.headers = {**problem.headers, "WWW-Authenticate": self.challenge}
            await _refuse(problem, send)
            return
        await self.manager.handle_request(scope, receive, send)

    async def _admit(self, scope: Scope) -> Principal:
        match = _ROUTE.match(scope["path"])
        if match is None:
            raise Problem("not_found", "No MCP endpoint here: use /mcp or a managed server's URL.")
        headers = Headers(scope=scope)
        self._check_host_and_origin(headers)
        if scope["method"] != "POST":
            # Stateless: no session to resume or end, and no channel for the server to speak first on.
            raise Problem(
                "method_not_allowed", "MCP here is stateless: send each request as a POST.", headers={"Allow": "POST"}
            )
        self._check_accept(headers.get("accept"))
        server_id, token = match.group("server_id"), match.group("token")
        if token is not None:
            return await self.authenticator.server_token(scope, _server_id(server_id), token)
        authorization = headers.get("authorization")
        if not authorization:
            raise Problem(
                "unauthorized",
                "Send 'Authorization: Bearer <api key>', or use a managed MCP server's access URL.",
                headers={"WWW-Authenticate": self.challenge},
            )
        principal = await self.authenticator.api_key(scope, bearer_token(authorization))
        if server_id is not None:
            try:
                principal = await self.authenticator.through_server(scope, principal, _server_id(server_id))
            except NotFound:
                raise _no_such_server() from None
        return principal

    def _check_host_and_origin(self, headers: Headers) -> None:
        host = (headers.get("host") or "").lower()
        if host != self.public_host and not _is_loopback(host):
            raise Problem("misdirected_request", "This Host is not the gateway's public host.")
        origin = headers.get("origin")
        if origin is None:
            return
        origin = origin.lower()
        parts = urlsplit(origin)
        # Local tools (an inspector on another port) are loopback origins; any other page is refused.
        local = parts.scheme in ("http", "https") and _is_loopback(parts.netloc)
        if origin != self.public_origin and not local:
            raise Problem("forbidden", "Requests from this Origin are refused (DNS rebinding protection).")

    @staticmethod
    def _check_accept(accept: str | None) -> None:
        needed = ("application/json", "text/event-stream")
        if not all(_accepts(accept, media_type) for media_type in needed):
            raise Problem("not_acceptable", f"MCP over HTTP needs 'Accept: {', '.join(needed)}'.")

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        tool = self.tools.get(name)
        return None if tool is None else tool.input_schema

    def _visible(self, principal: Principal) -> list[Tool]:
        allowed = principal.allowed_operations
        return [t for t in self.tools.values() if allowed is None or t.operation.operation_id in allowed]

    async def _list_tools(self, ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        principal = _caller(ctx)
        # The list is what `meta.capabilities` answers over REST, and costs what it costs.
        _policy, draw = await self.authenticator.draw(principal, self.list_cost)
        if not draw.allowed:
            raise MCPError(
                _RATE_LIMITED, refusal(draw, principal), {"code": "rate_limited", "retry_after": draw.retry_after}
            )
        return types.ListToolsResult(tools=[_describe(tool) for tool in self._visible(principal)])

    async def _call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        principal = _caller(ctx)
        tool = self.tools.get(params.name)
        if tool is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}")
        allowed = principal.allowed_operations
        if allowed is not None and tool.operation.operation_id not in allowed:
            refusal = Problem("forbidden", f"This MCP server's restrictions do not allow {params.name}.")
            return problem_result(refusal, tool.operation.path)
        return await self.bridge.call(tool, dict(params.arguments or {}), principal, ctx.request.scope)


def _describe(tool: Tool) -> types.Tool:
    method = tool.operation.method
    return types.Tool(
        name=tool.name,
        title=tool.operation.summary,
        description=tool.description,
        input_schema=tool.input_schema,
        output_schema=tool.output_schema,
        annotations=types.ToolAnnotations(
            title=tool.operation.summary,
            read_only_hint=method == "GET",
            destructive_hint=method == "DELETE",
            idempotent_hint=method in ("GET", "DELETE"),
            open_world_hint=False,
        ),
    )


def _caller(ctx: Any) -> Principal:
    principal = ctx.request.scope[CALLER]
    assert isinstance(principal, Principal)
    return principal


def _no_such_server() -> Problem:
    return Problem("not_found", "No MCP server with this id in your organization (in this mode).")


def _server_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise _no_such_server() from None


def _is_loopback(netloc: str) -> bool:
    """`localhost`, `127.0.0.1` or `[::1]`, with any port; anything malformed is not."""
    match = _HOST.match(netloc)
    return match is not None and match.group("name") in _LOOPBACK


def _accepts(accept: str | None, media_type: str) -> bool:
    return bool(accept) and acceptable(accept, (media_type,)) and not _only_problem(accept)


def _only_problem(accept: str | None) -> bool:
    # `acceptable` always admits problem+json; here the client must take the type itself.
    return all(part.split(";")[0].strip().lower() == "application/problem+json" for part in (accept or "").split(","))


async def _refuse(problem: Problem, send: Send) -> None:
    """A refusal before the protocol starts, as JSON-RPC (what MCP clients read) with the problem as its data."""
    document = problem.body(instance=PATH)
    body = json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": _REFUSED, "message": problem.detail, "data": document}}
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in problem.headers.items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
