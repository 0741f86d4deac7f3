"""Baseline for the whoami benchmark: a bare Starlette route doing the same key lookup, no contract."""

from __future__ import annotations

import os

from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.auth import authenticate, bearer_token
from gateway.problems import Problem

DATABASE_URL = os.environ["VAULTGATE_DATABASE_URL"]


async def whoami(request: Request) -> JSONResponse:
    try:
        token = bearer_token(request.headers.get("authorization"))
        principal = await to_thread.run_sync(authenticate, DATABASE_URL, token)
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
