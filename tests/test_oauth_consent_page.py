"""The consent page in headless Chromium against a live server: sign in, approve, land on the app's loopback
redirect with a code; deny, land with `access_denied`. The page's screenshot is kept as a test artifact."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright import sync_api

from storage.accounts import create_organization, create_user, set_password
from storage.database import dispose_engine, session_scope
from storage.models import Role, Tier
from tests.conftest import ROOT, LiveServer
from tests.loopback import QuietHandler, serving
from tests.test_docs_offline import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS

SCREENSHOT = ROOT / "var" / "test-artifacts" / "oauth-consent.png"
PASSWORD = "a long enough password"


class _Landing(QuietHandler):
    """The app's redirect endpoint: whatever lands here is what the app would receive."""

    def do_GET(self) -> None:
        self.reply(b"<!doctype html><title>Back in the app</title><p>Done.", "text/html")


@pytest.fixture(scope="module")
def landing() -> Iterator[str]:
    """The redirect URI of an app on this computer (RFC 8252 loopback), served for real so Chromium lands."""
    with serving(_Landing) as port:
        yield f"http://127.0.0.1:{port}/callback"


def sign_up(database_url: str) -> str:
    """A user with a password in the live server's database; its email."""
    with session_scope(database_url) as session:
        organization = create_organization(session, name="Acme", tier=Tier.pro)
        user = create_user(
            session,
            organization=organization,
            email=f"ada-{uuid.uuid4().hex[:8]}@example.com",
            name="Ada",
            role=Role.admin,
            permissions=[],
        )
        set_password(session, user, PASSWORD)
        email = user.email
    dispose_engine(database_url)
    return email


def authorize_url(base: str, client_id: str, redirect_uri: str, state: str) -> tuple[str, str]:
    """The authorization URL, and the PKCE verifier that redeems its code."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        "scope": "meta:read vault:read",
        "resource": f"{base}/mcp",
    }
    return f"{base}/oauth/authorize?{urlencode(query)}", verifier


def landed(url: str, redirect_uri: str) -> dict[str, str]:
    assert url.startswith(f"{redirect_uri}?"), url
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_consent_page_signs_in_and_approves_or_denies_in_chromium(live_server: LiveServer, landing: str) -> None:
    server = live_server
    # Deliberately a failure, not a skip: a skipped browser test would hide a broken consent page.
    assert CHROMIUM.exists(), "no /usr/bin/chromium: run scripts/install-chromium.sh"
    email = sign_up(server.database_url)
    registered = httpx.post(
        f"{server.url}/oauth/register",
        json={"client_name": "Notes for Ada", "redirect_uris": [landing], "token_endpoint_auth_method": "none"},
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    client_id = registered.json()["client_id"]
    issuer = httpx.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=30).json()["issuer"]

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            blocked: list[str] = []
            page.on(
                "console", lambda message: blocked.append(message.text) if "Content Security" in message.text else None
            )

            url, verifier = authorize_url(server.url, client_id, landing, "approve-1")
            page.goto(url)
            assert page.get_by_role("heading").inner_text() == "Notes for Ada wants to read your Vaultgate data"
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            with page.expect_navigation(url=f"{landing}?**"):
                page.get_by_role("button", name="Approve").click()
            approved = landed(page.url, landing)
            assert approved["state"] == "approve-1"
            assert approved["iss"] == issuer
            # The code is real: the app redeems it.
            exchanged = httpx.post(
                f"{server.url}/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "client_id": client_id,
                    "code": approved["code"],
                    "redirect_uri": landing,
                    "code_verifier": verifier,
                },
                timeout=30,
            )
            assert exchanged.status_code == 200, exchanged.text
            assert exchanged.json()["scope"] == "meta:read vault:read"

            url, _ = authorize_url(server.url, client_id, landing, "deny-2")
            page.goto(url)
            with page.expect_navigation(url=f"{landing}?**"):
                page.get_by_role("button", name="Deny").click()
            denied = landed(page.url, landing)
            assert denied["error"] == "access_denied"
            assert denied["state"] == "deny-2"
            assert denied["iss"] == issuer
            assert "code" not in denied
            assert blocked == []
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 0
