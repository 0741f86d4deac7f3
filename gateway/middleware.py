"""The per-operation edge, after routing: content negotiation, authentication, scope, rate limits and body caps.

It takes connexion's SecurityMiddleware's place in the stack, so the scope an
operation needs is read from the spec's `x-scope` rather than from code.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from core.secrets import InstanceKey
from core.settings import Settings
from gateway.auth import Principal, UnknownKey, authenticate, bearer_token, require_scope, unknown_key
from gateway.body_caps import body_cap, capped_receive
from gateway.contract import IDEMPOTENCY_HEADER, Contract
from gateway.credential_cache import CredentialCache
from gateway.deprecation import deprecation_headers, refuse_after_sunset
from gateway.errors import problem_response, translate
from gateway.idempotency import run_idempotently
from gateway.problems import Problem
from gateway.rate_limits import POLICIES, Bucket, Buckets, Draw, Level, Policy, client_address, rate_limit_headers
from gateway.request_id import add_response_headers
from storage import api_keys, idempotency
from storage.models import utcnow


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
        self, app: ASGIApp, *, contract: Contract, settings: Settings, instance_key: InstanceKey, buckets: Buckets
    ) -> None:
        self.app = app
        self.contract = contract
        self.settings = settings
        self.instance_key = instance_key
        self.buckets = buckets
        self.credentials = CredentialCache(settings.credential_cache_seconds)
        self.key_lookups = Policy(
            "key-lookups", settings.key_lookups_per_address, settings.key_lookups_refill_per_second
        )

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
        context["credentials"] = self.credentials
        if operation.deprecated:
            add_response_headers(scope, deprecation_headers(operation))
            refuse_after_sunset(operation, utcnow())
        if not acceptable(headers.get("accept"), operation.media_types):
            raise Problem("not_acceptable", f"This operation answers only {', '.join(operation.media_types)}.")
        if operation.authenticated:
            principal = await self._authenticate(scope, bearer_token(headers.get("authorization")))
            require_scope(principal, operation.scope)
            context["token_info"] = principal
            await self._draw_tokens(scope, context, principal, operation.cost)
        receive = capped_receive(receive, scope, body_cap(self.settings, self.contract, operation_id, headers))
        if operation.authenticated and operation.idempotency_key is not None and IDEMPOTENCY_HEADER in headers:

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

    async def _authenticate(self, scope: Scope, token: str) -> Principal:
        """The key's principal: remembered, else looked up (within the address's allowance unless it worked lately)."""
        principal = self.credentials.get(token)
        if principal is not None:
            return principal
        # A well-formed key costs a database query to refuse; a malformed one is refused without any.
        if api_keys.is_well_formed(token) and not self.credentials.verified_lately(token):
            await self._draw_key_lookup(scope)
        if self.credentials.known_unknown(token):
            raise unknown_key()
        try:
            principal = await to_thread.run_sync(authenticate, self.settings.database_url, token)
        except Problem as refusal:
            self.credentials.refused(token, unknown=isinstance(refusal, UnknownKey))
            raise
        self.credentials.put(token, principal)
        return principal

    async def _draw_key_lookup(self, scope: Scope) -> None:
        """429 once the caller's address has looked up too many keys not verified lately (forged ones, mostly)."""
        address = client_address(scope, trust_forwarded_for=self.settings.trust_forwarded_for)
        draw = await self.buckets.draw([Bucket("address", f"address:{address}")], self.key_lookups, 1)
        if not draw.allowed:
            raise Problem(
                "rate_limited",
                f"Too many API keys were tried from your address (keys that worked lately still do); "
                f"retry in {draw.retry_after} s.",
                headers={"Retry-After": str(draw.retry_after)},
            )

    async def _draw_tokens(self, scope: Scope, context: dict[str, Any], principal: Principal, cost: int) -> None:
        policy = POLICIES[principal.tier]
        # The key's bucket inside its organization's (in this mode): more keys do not mean more tokens.
        buckets = (
            Bucket(policy.name, f"key:{principal.key_id}"),
            Bucket(f"{policy.name}-organization", f"organization:{principal.organization_id}:{principal.mode.value}"),
        )
        if self.settings.rate_limits_enabled:
            draw = await self.buckets.draw(buckets, policy, cost)
        else:
            draw = Draw(True, tuple(Level(bucket.name, policy.capacity, 0) for bucket in buckets), limited=False)
        add_response_headers(scope, rate_limit_headers(policy, draw, cost))
        context["rate_limit"] = (policy, draw)
        if not draw.allowed:
            raise Problem("rate_limited", _refusal(draw, principal), headers={"Retry-After": str(draw.retry_after)})


def _refusal(draw: Draw, principal: Principal) -> str:
    """Which bucket refused the call: the key's, or its organization's (named when both did, as it holds back every key)."""
    key, organization = draw.levels
    if organization.reset_seconds == 0:
        return f"This key's '{key.name}' bucket is empty; retry in {draw.retry_after} s."
    return (
        f"Your organization's '{organization.name}' bucket, shared by all its {principal.mode.value}-mode keys, "
        f"is empty; retry in {draw.retry_after} s."
    )
