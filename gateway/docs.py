"""Interactive API docs at /docs (Scalar), served entirely from this server."""

from __future__ import annotations

from pathlib import Path

from scalar_fastapi import AgentScalarConfig, get_scalar_api_reference
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

# Filled in by scripts/fetch-scalar.sh (package data of a wheel built after it); fixed paths, never derived
# from a request.
SCALAR_DIR = Path(__file__).resolve().parent / "static" / "scalar"
SCALAR_BUNDLE = SCALAR_DIR / "standalone.js"
SCALAR_VERSION_FILE = SCALAR_DIR / "VERSION"
SCALAR_BUNDLE_URL = "/docs/scalar/standalone.js"

# Names the file relative to the package, not its absolute path: this page answers anyone.
MISSING_BUNDLE_MESSAGE = (
    "API docs are unavailable: the Scalar bundle gateway/static/scalar/standalone.js is missing.\n"
    "Operator, in a checkout: run scripts/fetch-scalar.sh from the repository root, then reload.\n"
    "From a wheel: a wheel carries the bundle only when scripts/fetch-scalar.sh ran before it was built; "
    "build it again so, or copy package/dist/browser/standalone.js of the npm package @scalar/api-reference "
    "(the version scripts/fetch-scalar.sh pins) into static/scalar/ of the installed gateway package.\n"
)

# An empty data: URI, so the browser neither fetches a remote icon (scalar_fastapi's
# default points at fastapi.tiangolo.com) nor falls back to /favicon.ico.
NO_FAVICON = "data:,"


def _bundle_version() -> str:
    try:
        return SCALAR_VERSION_FILE.read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


def _missing_bundle() -> Response:
    return PlainTextResponse(MISSING_BUNDLE_MESSAGE, status_code=503)


def docs_routes(openapi_url: str) -> list[BaseRoute]:
    """Return the routes for GET /docs and GET /docs/scalar/standalone.js, showing the spec served at `openapi_url`."""

    async def docs_page(request: Request) -> Response:
        if not SCALAR_BUNDLE.is_file():
            return _missing_bundle()
        # We use scalar_fastapi's page builder (it works outside FastAPI: it only
        # returns a Starlette HTMLResponse) because every outbound feature can be
        # switched off through its arguments or `overrides`:
        # - scalar_js_url: the local bundle instead of the jsDelivr CDN; the ?v=
        #   query busts the long-lived cache when fetch-scalar.sh pins a new version.
        # - scalar_favicon_url: empty data: URI instead of a remote icon.
        # - with_default_fonts=False: no @font-face loads from fonts.scalar.com.
        # - telemetry=False.
        # - scalar_proxy_url left empty: no proxyUrl is emitted, and the default
        #   proxy (proxy.scalar.com) only applies to Scalar's "web" layout, not
        #   "modern"; "Test request" calls go straight to this origin.
        # - agent disabled, mcp disabled: both are auto-enabled on localhost and
        #   talk to Scalar's services.
        # - show_developer_tools="never": the localhost toolbar links to
        #   dashboard.scalar.com ("register", "share").
        # - hide_client_button: the sidebar button opens client.scalar.com.
        # - integration=None: we are not FastAPI; it only labels that button.
        # Not network related: default_open_all_tags, so every operation is on the
        # page (and findable with the browser's own search) whatever tag it is in;
        # Scalar's default collapses all tags but the first. Fine at our size.
        return get_scalar_api_reference(
            openapi_url=openapi_url,
            title="Vaultgate API",
            scalar_js_url=f"{SCALAR_BUNDLE_URL}?v={_bundle_version()}",
            scalar_favicon_url=NO_FAVICON,
            with_default_fonts=False,
            telemetry=False,
            agent=AgentScalarConfig(disabled=True),
            show_developer_tools="never",
            hide_client_button=True,
            default_open_all_tags=True,
            integration=None,
            overrides={"mcp": {"disabled": True}},
        )

    async def scalar_bundle(request: Request) -> Response:
        if not SCALAR_BUNDLE.is_file():
            return _missing_bundle()
        return FileResponse(
            SCALAR_BUNDLE,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )

    return [
        Route("/docs", docs_page, methods=["GET"], include_in_schema=False),
        Route(SCALAR_BUNDLE_URL, scalar_bundle, methods=["GET"], include_in_schema=False),
    ]
