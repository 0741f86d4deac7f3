"""Dynamic client registration (RFC 7591) and reading or deleting a registration (RFC 7592).

Anyone may register (that is the point: an MCP client meets this server for the
first time), so registration is bounded: the body's size, every list and
string in it, and how often one address registers. A registration grants
nothing by itself; a user still signs in and approves on the consent page.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.oauth.client_metadata import InvalidClientMetadata, decode_json, parse_client_metadata
from gateway.oauth.resources import OAuthServer
from gateway.oauth.responses import NO_STORE, no_store_json, oauth_error
from gateway.rate_limits import Bucket, Policy, buckets_for, client_address
from storage.database import session_scope
from storage.models import OAuthClient
from storage.oauth_clients import (
    client_for_registration_token,
    delete_client,
    register_client,
    rotate_registration_token,
)

MAX_BODY_BYTES = 64 * 1024


class _TooLarge(Exception):
    pass


async def _body(request: Request) -> bytes:
    """The body, refused once it passes MAX_BODY_BYTES (before reading it whole)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _TooLarge
    return bytes(body)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def client_information(server: OAuthServer, record: OAuthClient) -> dict[str, Any]:
    """RFC 7591 §3.2.1 / RFC 7592 §3: the client's id and metadata, without its secrets."""
    return {
        "client_id": record.client_id,
        "client_id_issued_at": int(record.created_at.timestamp()),
        "registration_client_uri": f"{server.issuer}/oauth/register/{record.client_id}",
        **record.client_metadata,
    }


def routes(server: OAuthServer) -> list[BaseRoute]:
    buckets = buckets_for(server.settings.redis_url)
    database_url = server.settings.database_url
    # Per client address, shared by the registration endpoints: a client registers once per install, and reads
    # or deletes its registration rarely.
    per_minute = server.settings.oauth_registrations_per_minute
    policy = Policy("oauth_registration", per_minute, per_minute / 60)

    async def throttled(request: Request) -> Response | None:
        address = client_address(request.scope, trust_forwarded_for=server.settings.trust_forwarded_for)
        draw = await buckets.draw([Bucket("address", f"oauth-register:{address}")], policy, 1)
        if draw.allowed:
            return None
        return oauth_error(
            "rate_limited",
            f"Too many registration requests from this address; retry in {draw.retry_after} s.",
            429,
            {"Retry-After": str(draw.retry_after)},
        )

    async def register(request: Request) -> Response:
        if refusal := await throttled(request):
            return refusal
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return oauth_error("invalid_client_metadata", "Send the client metadata as application/json.")
        try:
            data = decode_json(await _body(request))
            metadata = parse_client_metadata(data, scopes=server.read_scopes, default_auth_method="client_secret_post")
        except _TooLarge:
            return oauth_error(
                "invalid_client_metadata", f"The client metadata is larger than {MAX_BODY_BYTES // 1024} KiB.", 413
            )
        except ValueError:
            return oauth_error("invalid_client_metadata", "The body is not valid JSON.")
        except InvalidClientMetadata as exc:
            return oauth_error(exc.error, exc.description)
        document = metadata.document()

        def store() -> dict[str, Any]:
            with session_scope(database_url) as session:
                issued = register_client(
                    session, document, with_secret=metadata.token_endpoint_auth_method == "client_secret_post"
                )
                answer = client_information(server, issued.record)
            answer["registration_access_token"] = issued.registration_access_token
            if issued.client_secret is not None:
                # Shown once; it never expires (RFC 7591 §3.2.1: 0).
                answer["client_secret"] = issued.client_secret
                answer["client_secret_expires_at"] = 0
            return answer

        return no_store_json(await to_thread.run_sync(store), 201)

    async def managed(request: Request) -> Response:
        if request.method == "HEAD":
            # Starlette answers HEAD wherever GET is served; here a read rotates the token, and a HEAD's answer
            # (the new token) would be thrown away, leaving the client locked out of its registration.
            return oauth_error("method_not_allowed", "HEAD is not allowed here.", 405, {"Allow": "GET, DELETE"})
        if refusal := await throttled(request):
            return refusal
        client_id = request.path_params["client_id"]
        token = _bearer(request)

        def act() -> dict[str, Any] | None:
            if token is None:
                return None
            with session_scope(database_url) as session:
                record = client_for_registration_token(session, client_id, token)
                if record is None:
                    return None
                if request.method == "DELETE":
                    delete_client(session, record)
                    return {}
                answer = client_information(server, record)
                # RFC 7592 §3: the read answers a registration_access_token, and only a hash of the current one
                # is kept, so the answer carries the next one; the client must discard the one it sent.
                rotated = rotate_registration_token(session, record)
                if rotated is None:
                    return None
                answer["registration_access_token"] = rotated
                return answer

        answer = await to_thread.run_sync(act)
        if answer is None:
            # RFC 7592 §2: an unknown client and a wrong token answer alike (401), so ids cannot be probed.
            return oauth_error(
                "invalid_token",
                "Send this client's registration_access_token as a Bearer token.",
                401,
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if request.method == "DELETE":
            return Response(status_code=204, headers=NO_STORE)
        return no_store_json(answer)

    return [
        Route("/oauth/register", register, methods=["POST"]),
        Route("/oauth/register/{client_id}", managed, methods=["GET", "DELETE"]),
    ]
