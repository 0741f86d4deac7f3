"""The per-operation edge, after routing: content negotiation, authentication, scope, rate limits and body caps.

It takes connexion's SecurityMiddleware's place in the stack, so the scope an
operation needs is read from the spec's `x-scope` rather than from code.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from core.secrets import InstanceKey
from core.settings import Settings
from gateway.auth import (
    Principal,
    bearer_token,
    naming_metadata,
    protected_resource_metadata_url,
    require_operation,
    require_read_only,
    require_scope,
)
from gateway.authenticator import Authenticator
from gateway.body_caps import body_cap, capped_receive
from gateway.contract import IDEMPOTENCY_HEADER, Contract
from gateway.deprecation import deprecation_headers, refuse_after_sunset
from gateway.errors import problem_response, translate
from gateway.idempotency import run_idempotently
from gateway.problems import Problem
from gateway.rate_limits import Draw, rate_limit_headers
from gateway.request_id import add_response_headers
from storage import idempotency
from storage.models import utcnow

# ASGI scope entries set only by in-process callers (the MCP bridge): who calls, and what the call draws.
PRINCIPAL = "vaultgate.principal"
COST = "vaultgate.cost"


def _admits(media_range: str, media_type: str) -> bool:
    kind, _, subtype = media_range.partition("/")
    offered_kind, _, offered_subtype = media_type.partition("/")
    return kind == "*" or (kind == offered_kind and subtype in ("*", offered_subtype))


def acceptable(accept: str | None, offered: tuple[str, ...]) -> bool:
    """Whether an `Accept` header (RFC 9110 §12.5.1) admits one of the `offered` media types."""
    if not accept or not offered:
        return True
    for media_range in accept.split(","):
        media_type, *params = (part.strip() for part in media_range.split(";"))
        refused = any(p.replace(" ", "").lower() in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params)
        if not refused and any(_admits(media_type.lower(), o) for o in (*offered, "application/problem+json")):
            return True
    return False


class GatewayMiddleware:
    """Runs for every routed operation before request validation."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        contract: Contract,
        settings: Settings,
        instance_key: InstanceKey,
        authenticator: Authenticator,
    ) -> None:
        self.app = app
        self.contract = contract
        self.settings = settings
        self.instance_key = instance_key
        self.authenticator = authenticator
        self.buckets = authenticator.buckets
        resources = authenticator.oauth.resources
        self.audiences = resources.audiences_for_rest()
        self.metadata_url = protected_resource_metadata_url(resources.issuer, resources.api_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        operation_id = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")
        if operation_id is None:
            await self.app(scope, receive, send)
            return
        operation = self.contract.operation(operation_id)
        headers = Headers(scope=scope)
        context = scope.setdefault("extensions", {}).setdefault("connexion_context", {})
        context["settings"] = self.settings
        context["instance_key"] = self.instance_key
        context["credentials"] = self.authenticator.credentials
        if operation.deprecated:
            add_response_headers(scope, deprecation_headers(operation))
            refuse_after_sunset(operation, utcnow())
        if not acceptable(headers.get("accept"), operation.media_types):
            raise Problem("not_acceptable", f"This operation answers only {', '.join(operation.media_types)}.")
        principal: Principal | None = None
        if operation.authenticated:
            # An MCP tool call arrives in process with its caller already authenticated, in an entry of the ASGI
            # scope that no client can set; a request from outside is authenticated by its Authorization header.
            principal = scope.get(PRINCIPAL)
            if principal is None:
                principal = await self._authenticate(scope, headers)
            require_operation(principal, operation_id)
            require_read_only(principal, operation_id, operation.scope)
            require_scope(principal, operation.scope)
            context["token_info"] = principal
            await self._draw_tokens(scope, context, principal, scope.get(COST, operation.cost))
        receive = capped_receive(receive, scope, body_cap(self.settings, self.contract, operation_id, headers))
        if principal is not None and operation.idempotency_key is not None and IDEMPOTENCY_HEADER in headers:

            def render_failure(exc: Exception) -> Response:
                return problem_response(translate(exc, scope["method"], scope["path"], self.contract), scope["path"])

            await run_idempotently(
                self.app,
                scope,
                receive,
                send,
                parameter=operation.idempotency_key,
                database_url=self.settings.database_url,
                owner=idempotency.Owner(principal.tenant, principal.caller),
                instance_key=self.instance_key,
                render_failure=render_failure,
            )
            return
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope, headers: Headers) -> Principal:
        try:
            return await self.authenticator.bearer(scope, bearer_token(headers.get("authorization")), self.audiences)
        except Problem as problem:
            # RFC 9728 §5.1: a 401 tells an OAuth client where to learn how to get a token for this API.
            if problem.status == 401:
                naming_metadata(problem, self.metadata_url)
            raise

    async def _draw_tokens(self, scope: Scope, context: dict[str, Any], principal: Principal, cost: int) -> None:
        policy, draw = await self.authenticator.draw(principal, cost)
        add_response_headers(scope, rate_limit_headers(policy, draw, cost))
        context["rate_limit"] = (policy, draw)
        if not draw.allowed:
            raise Problem("rate_limited", refusal(draw, principal), headers={"Retry-After": str(draw.retry_after)})


def refusal(draw: Draw, principal: Principal) -> str:
    """Which bucket refused the call: the key's, or its organization's (named when both did, as it holds back every key)."""
    key, organization = draw.levels
    if organization.reset_seconds == 0:
        if principal.auth_kind == "oauth":
            # One bucket per app and user, whichever of the user's grants to the app the token came from.
            whose = f"The '{key.name}' bucket of {principal.oauth_client_name} acting for you"
        else:
            whose = f"This key's '{key.name}' bucket"
        return f"{whose} is empty; retry in {draw.retry_after} s."
    return (
        f"Your organization's '{organization.name}' bucket, shared by all its {principal.mode.value}-mode keys "
        f"and apps, is empty; retry in {draw.retry_after} s."
    )
