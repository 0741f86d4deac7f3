"""The token endpoint (RFC 6749 §3.2: codes and refresh tokens for tokens) and revocation (RFC 7009).

Clients authenticate with `client_id` (and `client_secret` for `client_secret_post`) in the form body. Every
answer is JSON, never cached; errors are RFC 6749 §5.2's `{"error", "error_description"}`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.oauth import grants
from gateway.oauth.clients import Client, ClientError, find_client
from gateway.oauth.forms import FormError, Params, Unreadable, read_form, single
from gateway.oauth.grants import TokenError
from gateway.oauth.resources import OAuthServer
from gateway.oauth.responses import NO_STORE, no_store_json, oauth_error
from gateway.rate_limits import client_address


class _Endpoints:
    def __init__(self, server: OAuthServer) -> None:
        self.server = server

    async def token(self, request: Request) -> Response:
        try:
            form = await token_form(request)
            client = await self._authenticate(request, form)
            grant_type = field(form, "grant_type")
            work: Callable[[], grants.IssuedTokens]
            if grant_type == "authorization_code":
                work = partial(
                    grants.exchange_code,
                    self.server,
                    client,
                    code=field(form, "code"),
                    redirect_uri=field(form, "redirect_uri"),
                    code_verifier=field(form, "code_verifier"),
                    resource=field(form, "resource"),
                )
            elif grant_type == "refresh_token":
                work = partial(
                    grants.refresh,
                    self.server,
                    client,
                    refresh_token=field(form, "refresh_token"),
                    scope=field(form, "scope"),
                    resource=field(form, "resource"),
                )
            elif grant_type is None:
                raise TokenError("invalid_request", "grant_type is required.")
            else:
                raise TokenError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token.")
            issued = await to_thread.run_sync(work)
        except TokenError as exc:
            return token_error(exc)
        return no_store_json(issued.as_json())

    async def revoke(self, request: Request) -> Response:
        try:
            form = await token_form(request)
            client = await self._authenticate(request, form)
            # token_type_hint only orders the lookups, and both kinds are told apart by their form anyway.
            await to_thread.run_sync(grants.revoke, self.server, client, field(form, "token"))
        except TokenError as exc:
            return token_error(exc)
        # RFC 7009 §2.2: 200 whether or not the token was known.
        return Response(status_code=200, headers=NO_STORE)

    async def _authenticate(self, request: Request, form: Params) -> Client:
        if request.headers.get("authorization", "").lower().startswith("basic "):
            raise TokenError(
                "invalid_client",
                "client_secret_basic is not supported: send client_id and client_secret in the form body "
                "(client_secret_post).",
                headers={"WWW-Authenticate": 'Basic realm="vaultgate"'},
            )
        client_id = field(form, "client_id")
        if client_id is None:
            raise TokenError("invalid_client", "client_id is required in the body.")
        try:
            client = await find_client(self.server, client_id, address=self._address(request))
        except ClientError as exc:
            wait = {} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
            raise TokenError(exc.error, exc.description, headers=wait) from exc
        if not client.authenticates(field(form, "client_secret")):
            raise TokenError("invalid_client", "The client_secret is missing or wrong.")
        return client

    def _address(self, request: Request) -> str:
        return client_address(request.scope, trust_forwarded_for=self.server.settings.trust_forwarded_for)


def field(form: Params, name: str) -> str | None:
    try:
        return single(form, name)
    except Unreadable as exc:
        raise TokenError("invalid_request", str(exc)) from exc


async def token_form(request: Request) -> Params:
    try:
        return await read_form(request)
    except FormError as exc:
        raise TokenError("invalid_request", str(exc)) from exc


def token_error(exc: TokenError) -> Response:
    return oauth_error(exc.error, exc.description, exc.status, exc.headers)


def routes(server: OAuthServer) -> list[BaseRoute]:
    endpoints = _Endpoints(server)
    return [
        Route("/oauth/token", endpoints.token, methods=["POST"]),
        Route("/oauth/revoke", endpoints.revoke, methods=["POST"]),
    ]
