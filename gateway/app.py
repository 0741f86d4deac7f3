"""The application factory: the contract bound to handlers, wrapped in the gateway's edge."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial, wraps
from pathlib import Path
from typing import Any

from connexion import AsyncApp
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.types import ASGIApp

from gateway.contract import SPEC_PATH, Contract, load_contract
from gateway.docs import docs_routes
from gateway.errors import install_error_handlers
from gateway.middleware import GatewayMiddleware
from gateway.pages import openapi_endpoint, problem_page
from gateway.rate_limits import buckets_for
from gateway.request_id import RequestIdMiddleware
from gateway.settings import Settings, get_settings
from gateway.validation import VALIDATOR_MAP


def _success_media_type(contract: Contract, operation_id: str) -> str:
    for status, response in contract.document_operation(operation_id)["responses"].items():
        if str(status).startswith("2") and "content" in response:
            return str(next(iter(response["content"])))
    return "application/json"


def resolve_handler(contract: Contract, package: str, operation_id: str) -> Callable[..., Any]:
    """`meta.whoami` → `handlers/meta.py:whoami`, answering with its 2xx media type.

    connexion cannot tell which media type a handler's dict is for when the
    operation also documents problem+json errors, so the type is named here once.
    """
    tag, verb = operation_id.split(".", 1)
    handler = getattr(importlib.import_module(f"{package}.{tag}"), verb)
    media_type = _success_media_type(contract, operation_id)

    @wraps(handler)
    def typed(*args: Any, **kwargs: Any) -> tuple[Any, int, dict[str, str]]:
        # Handlers answer `body`, `(body, status)` or `(body, status, headers)`.
        result = handler(*args, **kwargs)
        body, status, *headers = result if isinstance(result, tuple) else (result, 200)
        return body, status, {"Content-Type": media_type, **(headers[0] if headers else {})}

    return typed


def create_app(
    settings: Settings | None = None, spec_path: Path = SPEC_PATH, handler_package: str = "handlers"
) -> ASGIApp:
    settings = settings or get_settings()
    spec_path = spec_path.resolve()
    contract = load_contract(spec_path)
    buckets = buckets_for(settings.redis_url)
    middlewares = [
        partial(GatewayMiddleware, contract=contract, settings=settings, buckets=buckets)
        if m is SecurityMiddleware
        else m
        for m in ConnexionMiddleware.default_middlewares
    ]
    app = AsyncApp(__name__, middlewares=middlewares, validator_map=VALIDATOR_MAP)
    app.add_api(
        spec_path,
        resolver=Resolver(function_resolver=partial(resolve_handler, contract, handler_package)),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
    )
    app.add_url_rule(f"{contract.base_path}/openapi.json", "openapi", openapi_endpoint(contract), methods=["GET"])
    app.add_url_rule("/problems/{code}", "problem_page", problem_page, methods=["GET"])
    for route in docs_routes(f"{contract.base_path}/openapi.json"):
        app.add_url_rule(route.path, route.name, route.endpoint, methods=sorted(route.methods or ["GET"]))  # type: ignore[attr-defined]
    install_error_handlers(app, contract)
    return RequestIdMiddleware(app)
