"""Baseline for the whoami benchmark: a bare Starlette route doing the same key lookup (cache
included), without the contract, validation, rate limits or problem details."""

from __future__ import annotations

import os

from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.settings import get_settings
from gateway.auth import authenticate, bearer_token
from gateway.credential_cache import CredentialCache
from gateway.problems import Problem

DATABASE_URL = os.environ["VAULTGATE_DATABASE_URL"]
# The same one-second credential cache the gateway uses, so both do the same lookup work.
CREDENTIALS = CredentialCache(get_settings().credential_cache_seconds)


async def whoami(request: Request) -> JSONResponse:
    try:
        token = bearer_token(request.headers.get("authorization"))
        principal = CREDENTIALS.get(token)
        if principal is None:
            principal = await to_thread.run_sync(authenticate, DATABASE_URL, token)
            CREDENTIALS.put(token, principal)
    except Problem as problem:
        return JSONResponse({"code": problem.code}, status_code=problem.status)
    return JSONResponse(
        {
            "auth_kind": principal.auth_kind,
            "mode": principal.mode.value,
            "scopes": sorted(principal.scopes),
            "key": {"id": str(principal.key_id), "prefix": principal.key_prefix},
            "organization": {"id": str(principal.organization_id), "tier": principal.tier.value},
        }
    )


app = Starlette(routes=[Route("/api/v2/meta/whoami", whoami)])
