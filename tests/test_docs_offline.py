"""Headless Chromium check that /docs renders and never leaves the server's origin."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright import sync_api

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000
# After rendering, the network must stay silent this long before we judge it, so
# late loaders (fonts, telemetry, lazy features) get their chance to show up.
# (Playwright's "networkidle" is not used: with Debian's Chromium it sometimes
# never fired at all, and it can fire before Scalar has even fetched the spec.)
QUIET_S = 1.0
EXPECTED_SUMMARIES = ("Who am I", "List capabilities")
# Schemes that never touch the network.
LOCAL_SCHEMES = {"data", "blob"}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def test_docs_render_offline_same_origin(live_server: Any) -> None:
    # Deliberately a failure, not a skip: a skipped browser test would hide a broken /docs.
    assert CHROMIUM.exists(), "no /usr/bin/chromium: run scripts/install-chromium.sh"
    base = str(live_server.url).rstrip("/")
    own_origin = _origin(base)
    requested: list[str] = []
    blocked: list[str] = []
    page_errors: list[str] = []
    in_flight: set[Any] = set()
    last_activity = [time.monotonic()]

    def on_request(request: Any) -> None:
        requested.append(request.url)
        in_flight.add(request)
        last_activity[0] = time.monotonic()

    def on_request_done(request: Any) -> None:
        in_flight.discard(request)
        last_activity[0] = time.monotonic()

    def is_local(url: str) -> bool:
        return urlsplit(url).scheme in LOCAL_SCHEMES or _origin(url) == own_origin

    def guard(route: Any) -> None:
        # Never let an off-origin request out (the check must not depend on whether
        # this machine happens to have internet); it is still recorded as an offender.
        if is_local(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.set_default_timeout(TIMEOUT_MS)
            context.on("request", on_request)
            context.on("requestfinished", on_request_done)
            context.on("requestfailed", on_request_done)
            context.route("**/*", guard)
            page = context.new_page()
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))

            started = time.monotonic()
            response = page.goto(f"{base}/docs", wait_until="domcontentloaded")
            assert response is not None, "GET /docs got no response"
            assert response.status == 200, f"GET /docs answered {response.status}: {response.text()[:500]}"

            for summary in EXPECTED_SUMMARIES:
                locator = page.get_by_text(summary, exact=True).filter(visible=True).first
                try:
                    locator.wait_for(state="visible", timeout=TIMEOUT_MS)
                except sync_api.TimeoutError:
                    pytest.fail(
                        f"operation {summary!r} not rendered within {TIMEOUT_MS} ms "
                        f"({time.monotonic() - started:.1f} s); page errors: {page_errors}; "
                        f"requests: {requested}"
                    )
            deadline = time.monotonic() + TIMEOUT_MS / 1000
            while in_flight or time.monotonic() - last_activity[0] < QUIET_S:
                if time.monotonic() > deadline:
                    break
                page.wait_for_timeout(100)  # lets Playwright deliver events meanwhile
            still_in_flight = sorted(r.url for r in in_flight)
        finally:
            browser.close()

    print("requests made by /docs:", *requested, sep="\n  ")
    assert any(url.startswith(f"{base}/api/v2/openapi.json") for url in requested), requested
    offenders = sorted({url for url in requested if not is_local(url)} | set(blocked))
    assert not offenders, f"/docs made {len(offenders)} request(s) off {base}: {offenders}; all requests: {requested}"
    assert not still_in_flight, f"network never went quiet; in flight: {still_in_flight}"
