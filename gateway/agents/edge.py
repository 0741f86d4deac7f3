"""`/mcp`, `/mcp/{server_id}` and `/mcp/{server_id}/{access_token}`: Streamable HTTP MCP, stateless.

The `mcp` SDK speaks the protocol (2025-11-25 with its handshake, 2026-07-28
without); this edge does what its defaults do not: Origin and Host checks
(DNS rebinding), the `Accept` rule, authentication (an API key, an OAuth access
token for `<issuer>/mcp` or the server's own resource, or a managed server's
path token) and the server's restrictions. No session lives in the process, so
any gateway process answers any request.

OAuth: every 401 of `/mcp` and `/mcp/{server_id}` names that resource's
protected-resource metadata (RFC 9728 §5.1), and a `tools/call` of a read tool
whose scope the token lacks is an HTTP 403 `insufficient_scope` challenge (the
MCP authorization spec's step-up), read from the JSON-RPC body before the SDK
sees it. A write tool is a tool error `oauth_read_only`: no scope would help.
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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.failures import NotFound
from core.settings import Settings
from gateway.agents import fixtures
from gateway.agents.bridge import Bridge, problem_result
from gateway.agents.tools import Tool, build_tools
from gateway.auth import (
    REALM,
    Principal,
    bearer_token,
    is_read_scope,
    naming_metadata,
    protected_resource_metadata_url,
    unauthorized,
)
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
        self.resources = authenticator.oauth.resources
        # RFC 6750 §3: which scopes to ask for in a 401's challenge (the read scopes: all a token will ever hold).
        self.read_scopes = " ".join(authenticator.oauth.read_scopes)
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
            principal = await self._admit(scope)
            if principal.auth_kind == "oauth":
                receive = await self._check_tool_scope(receive, principal)
        except Problem as problem:
            await _refuse(self._challenging(problem, scope["path"]), send)
            return
        scope[CALLER] = principal
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
            raise unauthorized(
                "Send 'Authorization: Bearer <api key or OAuth access token>', or use a managed MCP server's "
                "access URL.",
                error=None,
            )
        server = _maybe_server_id(server_id)
        audiences = self.resources.audiences_for_mcp(server)
        principal = await self.authenticator.bearer(scope, bearer_token(authorization), audiences)
        if server_id is not None:
            try:
                principal = await self.authenticator.through_server(scope, principal, _server_id(server_id))
            except NotFound:
                raise _no_such_server() from None
        return principal

    def _challenging(self, problem: Problem, path: str) -> Problem:
        """A 401 naming the metadata of the resource at `path` (how an MCP client learns where to get a token)."""
        match = _ROUTE.match(path)
        if problem.status != 401 or match is None or match.group("token") is not None:
            # A server's access URL carries its own token: no OAuth token opens it, so no metadata is named.
            return problem
        server = _maybe_server_id(match.group("server_id"))
        resource = PATH if server is None else f"{PATH}/{server}"
        return naming_metadata(
            problem, protected_resource_metadata_url(self.resources.issuer, resource), scope=self.read_scopes
        )

    async def _check_tool_scope(self, receive: Receive, principal: Principal) -> Receive:
        """403 `insufficient_scope` with a step-up challenge when an OAuth token calls a read tool it lacks the
        scope of; the body, read here, is replayed to the SDK."""
        replay = _Replay(receive)
        body = await replay.read(self.settings.max_json_body_bytes)
        tool = self._called_tool(body)
        if tool is None:
            return replay
        needed = tool.operation.scope
        allowed = principal.allowed_operations
        if (
            needed is None
            or not is_read_scope(needed)  # a write: the REST edge's `oauth_read_only` tool error, no step-up
            or needed in principal.scopes
            or (allowed is not None and tool.operation.operation_id not in allowed)  # the server refuses it anyway
        ):
            return replay
        detail = f"{tool.name} needs the '{needed}' scope, which this access token does not hold."
        resource = PATH if principal.mcp_server_id is None else f"{PATH}/{principal.mcp_server_id}"
        metadata = protected_resource_metadata_url(self.resources.issuer, resource)
        raise Problem(
            "insufficient_scope",
            detail,
            headers={
                "WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope", scope="{needed}", '
                f'resource_metadata="{metadata}", error_description="{detail}"'
            },
        )

    def _called_tool(self, body: bytes | None) -> Tool | None:
        """The tool a JSON-RPC `tools/call` names, if the body is one (anything else is the SDK's to judge)."""
        try:
            message = json.loads(body) if body else None
        except (ValueError, RecursionError):
            # Deep nesting included: the SDK answers it with its own parse error.
            return None
        params = message.get("params") if isinstance(message, dict) and message.get("method") == "tools/call" else None
        name = params.get("name") if isinstance(params, dict) else None
        return self.tools.get(name) if isinstance(name, str) else None

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
        # An OAuth token never writes: an agent is not shown tools that could only answer `oauth_read_only`
        # (called anyway, they do).
        read_only = principal.auth_kind == "oauth"
        return [
            t
            for t in self.tools.values()
            if (allowed is None or t.operation.operation_id in allowed) and not (read_only and not t.reads_only)
        ]

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
            # By scope, not method: a POST whose scope is a read scope only reads.
            read_only_hint=tool.reads_only,
            destructive_hint=method == "DELETE",
            idempotent_hint=method in ("GET", "DELETE"),
            open_world_hint=False,
        ),
    )


def _caller(ctx: Any) -> Principal:
    principal = ctx.request.scope[CALLER]
    assert isinstance(principal, Principal)
    return principal


class _Replay:
    """A `receive` that first replays the request messages read ahead of the app."""

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.buffered: list[Message] = []

    async def read(self, limit: int) -> bytes | None:
        """The whole body, or None when it is longer than `limit` (the SDK refuses it) or the client left."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            self.buffered.append(message)
            if message["type"] != "http.request":
                return None
            chunk: bytes = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return None
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def __call__(self) -> Message:
        if self.buffered:
            return self.buffered.pop(0)
        return await self.receive()


def _no_such_server() -> Problem:
    return Problem("not_found", "No MCP server with this id in your organization (in this mode).")


def _maybe_server_id(text: str | None) -> uuid.UUID | None:
    """The server id of a path, or None on `/mcp` (or when it is no id: that path answers 404 once authenticated)."""
    try:
        return None if text is None else uuid.UUID(text)
    except ValueError:
        return None


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
