"""The fixtures the official MCP conformance runner calls, served on /mcp only for its test.

`@modelcontextprotocol/conformance` (0.1.16) checks a server through tools,
resources and prompts of its own naming (`test_simple_text`,
`test://static-text`, `test_simple_prompt`, ...), answering what its reference
server answers. `install` adds them to the edge's MCP server when
`Settings.mcp_conformance_fixtures` is on (tests/test_mcp_conformance.py turns
it on; nothing else does): the contract's tools stay as they are, the fixtures
are listed after them, and the edge's authentication still admits every
request first. The fixtures that would need a server-to-client request
(sampling, elicitation) are absent: a stateless server has no channel for the
answer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError

ListTools = Callable[[Any, types.PaginatedRequestParams | None], Awaitable[types.ListToolsResult]]
CallTool = Callable[[Any, types.CallToolRequestParams], Awaitable[types.CallToolResult]]
Context = ServerRequestContext[Any, Any]

# A 1x1 PNG and a minimal WAV, as the runner's reference server sends them.
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="
NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}}
# SEP-1613: the runner checks that `$schema`, `$defs` and `additionalProperties` reach the client untouched.
JSON_SCHEMA_2020_12: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {"address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
    "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
    "additionalProperties": False,
}
RESOURCE_NOT_FOUND = -32002  # the MCP specification's code for resources/read of an unknown URI
_STEP_SECONDS = 0.05  # the runner's reference tools pause this long between notifications


def _text(text: str) -> types.TextContent:
    return types.TextContent(type="text", text=text)


def _image() -> types.ImageContent:
    return types.ImageContent(type="image", data=PNG, mime_type="image/png")


def _embedded(uri: str, mime_type: str, text: str) -> types.EmbeddedResource:
    resource = types.TextResourceContents(uri=uri, mime_type=mime_type, text=text)
    return types.EmbeddedResource(type="resource", resource=resource)


def _result(*content: types.ContentBlock, is_error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=list(content), is_error=is_error)


async def _simple_text(ctx: Context) -> types.CallToolResult:
    return _result(_text("This is a simple text response for testing."))


async def _image_content(ctx: Context) -> types.CallToolResult:
    return _result(_image())


async def _audio_content(ctx: Context) -> types.CallToolResult:
    return _result(types.AudioContent(type="audio", data=WAV, mime_type="audio/wav"))


async def _embedded_resource(ctx: Context) -> types.CallToolResult:
    return _result(_embedded("test://embedded-resource", "text/plain", "This is an embedded resource content."))


async def _multiple_content_types(ctx: Context) -> types.CallToolResult:
    data = json.dumps({"test": "data", "value": 123})
    return _result(
        _text("Multiple content types test:"),
        _image(),
        _embedded("test://mixed-content-resource", "application/json", data),
    )


async def _with_logging(ctx: Context) -> types.CallToolResult:
    steps = ("Tool execution started", "Tool processing data", "Tool execution completed")
    for index, message in enumerate(steps):
        if index:
            await anyio.sleep(_STEP_SECONDS)
        # On this request's stream (a stateless server has no other); sent as a plain notification, since the
        # SDK's `send_log_message` warns that logging is deprecated in 2026-07-28, a revision the runner skips.
        log = types.LoggingMessageNotification(
            params=types.LoggingMessageNotificationParams(level="info", data=message)
        )
        await ctx.session.send_notification(log, related_request_id=ctx.request_id)
    return _result(_text("Tool with logging executed successfully"))


async def _with_progress(ctx: Context) -> types.CallToolResult:
    for index, progress in enumerate((0, 50, 100)):
        if index:
            await anyio.sleep(_STEP_SECONDS)
        await ctx.session.report_progress(progress, 100, f"Completed step {progress} of 100")
    token = ctx.meta.get("progress_token") if ctx.meta else None
    return _result(_text(str(token if token is not None else 0)))


async def _error_handling(ctx: Context) -> types.CallToolResult:
    return _result(_text("This tool intentionally returns an error for testing"), is_error=True)


async def _json_schema_2020_12(ctx: Context) -> types.CallToolResult:
    return _result(_text("JSON Schema 2020-12 tool called."))


_TOOLS: dict[str, tuple[str, dict[str, Any], Callable[[Context], Awaitable[types.CallToolResult]]]] = {
    "test_simple_text": ("Tests simple text content response", NO_ARGUMENTS, _simple_text),
    "test_image_content": ("Tests image content response", NO_ARGUMENTS, _image_content),
    "test_audio_content": ("Tests audio content response", NO_ARGUMENTS, _audio_content),
    "test_embedded_resource": ("Tests embedded resource content response", NO_ARGUMENTS, _embedded_resource),
    "test_multiple_content_types": (
        "Tests response with multiple content types (text, image, resource)",
        NO_ARGUMENTS,
        _multiple_content_types,
    ),
    "test_tool_with_logging": ("Tests tool that emits log messages during execution", NO_ARGUMENTS, _with_logging),
    "test_tool_with_progress": ("Tests tool that reports progress notifications", NO_ARGUMENTS, _with_progress),
    "test_error_handling": ("Tests error response handling", NO_ARGUMENTS, _error_handling),
    "json_schema_2020_12_tool": (
        "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
        JSON_SCHEMA_2020_12,
        _json_schema_2020_12,
    ),
}
TOOL_NAMES = frozenset(_TOOLS)
TOOLS = [
    types.Tool(name=name, description=description, input_schema=schema)
    for name, (description, schema, _call) in _TOOLS.items()
]

# ---- resources -----------------------------------------------------------------------------------------------------

_STATIC_TEXT = "This is the content of the static text resource."
RESOURCES = [
    types.Resource(
        name="static-text",
        title="Static Text Resource",
        uri="test://static-text",
        description="A static text resource for testing",
        mime_type="text/plain",
    ),
    types.Resource(
        name="static-binary",
        title="Static Binary Resource",
        uri="test://static-binary",
        description="A static binary resource (image) for testing",
        mime_type="image/png",
    ),
    types.Resource(
        name="watched-resource",
        title="Watched Resource",
        uri="test://watched-resource",
        description="A resource clients may subscribe to",
        mime_type="text/plain",
    ),
]
TEMPLATE_PREFIX, TEMPLATE_SUFFIX = "test://template/", "/data"
RESOURCE_TEMPLATES = [
    types.ResourceTemplate(
        name="template",
        title="Resource Template",
        uri_template=f"{TEMPLATE_PREFIX}{{id}}{TEMPLATE_SUFFIX}",
        description="A resource template with parameter substitution",
        mime_type="application/json",
    )
]


def _contents(uri: str) -> types.TextResourceContents | types.BlobResourceContents:
    if uri == "test://static-text":
        return types.TextResourceContents(uri=uri, mime_type="text/plain", text=_STATIC_TEXT)
    if uri == "test://static-binary":
        return types.BlobResourceContents(uri=uri, mime_type="image/png", blob=PNG)
    if uri == "test://watched-resource":
        return types.TextResourceContents(uri=uri, mime_type="text/plain", text="Watched resource content")
    if uri.startswith(TEMPLATE_PREFIX) and uri.endswith(TEMPLATE_SUFFIX):
        resource_id = uri.removeprefix(TEMPLATE_PREFIX).removesuffix(TEMPLATE_SUFFIX)
        text = json.dumps({"id": resource_id, "templateTest": True, "data": f"Data for ID: {resource_id}"})
        return types.TextResourceContents(uri=uri, mime_type="application/json", text=text)
    raise MCPError(RESOURCE_NOT_FOUND, f"Unknown resource: {uri}")


# ---- prompts -------------------------------------------------------------------------------------------------------


def _argument(name: str, description: str) -> types.PromptArgument:
    return types.PromptArgument(name=name, description=description, required=True)


PROMPTS = [
    types.Prompt(
        name="test_simple_prompt", title="Simple Test Prompt", description="A simple prompt without arguments"
    ),
    types.Prompt(
        name="test_prompt_with_arguments",
        title="Prompt With Arguments",
        description="A prompt with required arguments",
        arguments=[_argument("arg1", "First test argument"), _argument("arg2", "Second test argument")],
    ),
    types.Prompt(
        name="test_prompt_with_embedded_resource",
        title="Prompt With Embedded Resource",
        description="A prompt that includes an embedded resource",
        arguments=[_argument("resourceUri", "URI of the resource to embed")],
    ),
    types.Prompt(
        name="test_prompt_with_image", title="Prompt With Image", description="A prompt that includes an image"
    ),
]


def _messages(name: str, arguments: dict[str, str]) -> list[types.PromptMessage]:
    def user(content: types.ContentBlock) -> types.PromptMessage:
        return types.PromptMessage(role="user", content=content)

    if name == "test_simple_prompt":
        return [user(_text("This is a simple prompt for testing."))]
    if name == "test_prompt_with_arguments":
        text = f"Prompt with arguments: arg1='{arguments.get('arg1', '')}', arg2='{arguments.get('arg2', '')}'"
        return [user(_text(text))]
    if name == "test_prompt_with_embedded_resource":
        embedded = _embedded(arguments.get("resourceUri", ""), "text/plain", "Embedded resource content for testing.")
        return [user(embedded), user(_text("Please process the embedded resource above."))]
    if name == "test_prompt_with_image":
        return [user(_image()), user(_text("Please analyze the image above."))]
    raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {name}")


# ---- the handlers ----------------------------------------------------------------------------------------------------


async def _list_resources(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
    return types.ListResourcesResult(resources=RESOURCES)


async def _list_templates(
    ctx: Context, params: types.PaginatedRequestParams | None
) -> types.ListResourceTemplatesResult:
    return types.ListResourceTemplatesResult(resource_templates=RESOURCE_TEMPLATES)


async def _read_resource(ctx: Context, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    return types.ReadResourceResult(contents=[_contents(params.uri)])


async def _subscription(ctx: Context, params: types.SubscribeRequestParams | types.UnsubscribeRequestParams) -> Any:
    # Accepted and forgotten: a stateless server keeps no subscriber to notify (the runner checks the answer only).
    _contents(params.uri)
    return types.EmptyResult()


async def _list_prompts(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
    return types.ListPromptsResult(prompts=PROMPTS)


async def _get_prompt(ctx: Context, params: types.GetPromptRequestParams) -> types.GetPromptResult:
    return types.GetPromptResult(messages=_messages(params.name, params.arguments or {}))


async def _complete(ctx: Context, params: types.CompleteRequestParams) -> types.CompleteResult:
    return types.CompleteResult(completion=types.Completion(values=[], total=0, has_more=False))


async def _set_logging_level(ctx: Context, params: types.SetLevelRequestParams) -> types.EmptyResult:
    return types.EmptyResult()


def install(server: Server[Any], list_tools: ListTools, call_tool: CallTool) -> None:
    """Serve the fixtures on `server` beside the edge's own `tools/list` and `tools/call`."""

    async def listed(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        result = await list_tools(ctx, params)
        return result.model_copy(update={"tools": [*result.tools, *TOOLS]})

    async def called(ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name in _TOOLS:
            return await _TOOLS[params.name][2](ctx)
        return await call_tool(ctx, params)

    server.add_request_handler("tools/list", types.PaginatedRequestParams, listed)
    server.add_request_handler("tools/call", types.CallToolRequestParams, called)
    server.add_request_handler("resources/list", types.PaginatedRequestParams, _list_resources)
    server.add_request_handler("resources/templates/list", types.PaginatedRequestParams, _list_templates)
    server.add_request_handler("resources/read", types.ReadResourceRequestParams, _read_resource)
    server.add_request_handler("resources/subscribe", types.SubscribeRequestParams, _subscription)
    server.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, _subscription)
    server.add_request_handler("prompts/list", types.PaginatedRequestParams, _list_prompts)
    server.add_request_handler("prompts/get", types.GetPromptRequestParams, _get_prompt)
    server.add_request_handler("completion/complete", types.CompleteRequestParams, _complete)
    server.add_request_handler("logging/setLevel", types.SetLevelRequestParams, _set_logging_level)
