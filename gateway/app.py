"""The application factory: the contract bound to handlers, wrapped in the gateway's edge."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial, wraps
from pathlib import Path
from typing import Any

from anyio import to_thread
from connexion import AsyncApp
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from core.settings import Settings, get_settings
from gateway.agents.edge import PATH as MCP_PATH
from gateway.agents.edge import McpEdge
from gateway.authenticator import Authenticator
from gateway.contract import SPEC_PATH, Contract, load_contract
from gateway.docs import docs_routes
from gateway.errors import install_error_handlers
from gateway.job_kinds import JOB_KINDS
from gateway.middleware import GatewayMiddleware
from gateway.oauth.resources import OAuthServer
from gateway.oauth.routes import is_oauth_path, oauth_app
from gateway.pages import openapi_endpoint, problem_page
from gateway.rate_limits import buckets_for
from gateway.request_id import RequestIdMiddleware
from gateway.validation import VALIDATOR_MAP
from jobs.worker import WorkerPool


def _media_types_by_status(contract: Contract, operation_id: str) -> dict[int, str]:
    """The first media type each success status documents; statuses without a body are absent."""
    return {
        int(status): str(next(iter(response["content"])))
        for status, response in contract.document_operation(operation_id)["responses"].items()
        if str(status).startswith("2") and response.get("content")
    }


def resolve_handler(contract: Contract, package: str, operation_id: str) -> Callable[..., Any]:
    """`meta.whoami` → `handlers/meta.py:whoami`, answering with its 2xx media type.

    connexion cannot tell which media type a handler's dict is for when the
    operation also documents problem+json errors, so the type is named here once.
    """
    tag, verb = operation_id.split(".", 1)
    handler = getattr(importlib.import_module(f"{package}.{tag}"), verb)
    media_types = _media_types_by_status(contract, operation_id)

    def shaped(result: Any) -> Any:
        # Handlers answer `body`, `(body, status)`, `(body, status, headers)` or a finished Response.
        if isinstance(result, Response):
            return result
        body, status, *headers = result if isinstance(result, tuple) else (result, 200)
        if status not in media_types:
            # No body documented (204): connexion would otherwise label the empty answer with some media type.
            return Response(status_code=status, headers=headers[0] if headers else None)
        return body, status, {"Content-Type": media_types[status], **(headers[0] if headers else {})}

    if inspect.iscoroutinefunction(handler):
        # An async handler (a streamed answer) runs on the event loop; connexion sees the coroutine function.
        @wraps(handler)
        async def typed_async(*args: Any, **kwargs: Any) -> Any:
            return shaped(await handler(*args, **kwargs))

        return typed_async

    @wraps(handler)
    def typed(*args: Any, **kwargs: Any) -> Any:
        return shaped(handler(*args, **kwargs))

    return typed


def create_app(
    settings: Settings | None = None, spec_path: Path = SPEC_PATH, handler_package: str = "handlers"
) -> ASGIApp:
    settings = settings or get_settings()
    spec_path = spec_path.resolve()
    contract = load_contract(spec_path)
    # Read at start-up: a missing or unsafe instance key stops the gateway before it serves anything.
    instance_key = settings.instance_key()
    oauth = OAuthServer(settings, contract, instance_key)
    authenticator = Authenticator(settings, buckets_for(settings.redis_url), contract, oauth)
    middlewares = [
        partial(
            GatewayMiddleware,
            contract=contract,
            settings=settings,
            instance_key=instance_key,
            authenticator=authenticator,
        )
        if m is SecurityMiddleware
        else m
        for m in ConnexionMiddleware.default_middlewares
    ]

    @asynccontextmanager
    async def run_job_workers(_app: Any) -> AsyncIterator[None]:
        # In-process workers live and die with the server process that serves the API.
        pool = WorkerPool(settings, settings.job_workers, JOB_KINDS)
        pool.start()
        try:
            yield
        finally:
            await to_thread.run_sync(pool.stop)

    app = AsyncApp(__name__, middlewares=middlewares, validator_map=VALIDATOR_MAP, lifespan=run_job_workers)
    app.add_api(
        # The parsed document, not the file: connexion renders a spec file as a Jinja template first, and the
        # templates tag documents Jinja tags (`{{ project.name }}`) that must reach readers as written.
        contract.document,
        resolver=Resolver(function_resolver=partial(resolve_handler, contract, handler_package)),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
    )
    spec_url = f"{contract.base_path}/openapi.json"
    app.add_url_rule(spec_url, "openapi", openapi_endpoint(contract), methods=["GET"])
    app.add_url_rule("/problems/{code}", "problem_page", problem_page, methods=["GET"])
    for route in docs_routes(spec_url):
        app.add_url_rule(route.path, route.name, route.endpoint, methods=sorted(route.methods or ["GET"]))  # type: ignore[attr-defined]
    mcp = McpEdge(app, contract, settings, authenticator)
    install_error_handlers(app, contract)
    return RequestIdMiddleware(_Edges(app, mcp, oauth_app(oauth)))


class _Edges:
    """`/mcp…` to the MCP edge, the authorization server's paths to its app, everything else to the REST app;
    one lifespan runs the MCP edge's and the REST app's."""

    def __init__(self, rest: ASGIApp, mcp: McpEdge, oauth: ASGIApp) -> None:
        self.rest = rest
        self.mcp = mcp
        self.oauth = oauth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            async with self.mcp.running():
                await self.rest(scope, receive, send)
            return
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == MCP_PATH or path.startswith(f"{MCP_PATH}/")):
            await self.mcp(scope, receive, send)
            return
        if scope["type"] == "http" and is_oauth_path(path):
            await self.oauth(scope, receive, send)
            return
        await self.rest(scope, receive, send)
