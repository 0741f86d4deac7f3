"""The official `mcp` SDK's OAuth client provider connects to a live `vaultgate serve` with no key pasted anywhere.

Unaided, from the first 401: protected-resource and authorization-server discovery, registration (RFC 7591) or
a Client ID Metadata Document, PKCE, the consent page (signed in by a test driver standing in for the user at the
browser), the token, tool calls, a refresh. The driver only does what a person does: opens the URL the SDK hands
it, fills the form and hands the redirect back.
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urljoin, urlsplit

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from storage.accounts import create_organization, create_user, set_password
from storage.database import dispose_engine, session_scope
from storage.models import Role, Tier
from tests.conftest import LiveServer, running_server
from tests.loopback import QuietHandler, serving
from tests.tls import self_signed

T = TypeVar("T")
PASSWORD = "correct horse battery staple"
# Nothing listens here: the driver reads the redirect's Location instead of following it, as a native app's
# loopback listener would receive it.
REDIRECT = "http://127.0.0.1:53682/callback"
CLIENT_NAME = "SDK test app"


# ---- the user at the browser --------------------------------------------------------------------------------------


class _ConsentForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.action = values.get("action") or ""
        elif tag == "input" and values.get("type") == "hidden":
            self.hidden[values.get("name") or ""] = values.get("value") or ""


@dataclass
class ConsentDriver:
    """Opens the authorization URL, signs in, picks test data, approves, and hands the redirect to the SDK."""

    email: str
    consent_pages: list[str] = field(default_factory=list)
    redirect_query: dict[str, str] = field(default_factory=dict)

    async def open(self, authorization_url: str) -> None:
        self.consent_pages.append(authorization_url)
        async with httpx.AsyncClient(timeout=30) as browser:
            page = await browser.get(authorization_url)
            assert page.status_code == 200, page.text
            assert CLIENT_NAME in page.text
            form = _ConsentForm()
            form.feed(page.text)
            answer = await browser.post(
                urljoin(authorization_url, form.action),
                data={**form.hidden, "email": self.email, "password": PASSWORD, "mode": "test", "action": "approve"},
            )
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert location.startswith(f"{REDIRECT}?")
        self.redirect_query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}

    async def callback(self) -> AuthorizationCodeResult:
        query = self.redirect_query
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))


class MemoryStorage:
    """The SDK's TokenStorage, kept in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


# ---- a live server, a user with a password, a metadata document over https ----------------------------------------


@dataclass(frozen=True)
class Setup:
    server: LiveServer
    email: str
    documents: str  # the https origin serving Client ID Metadata Documents


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An https server on loopback answering every path with the Client ID Metadata Document for its URL."""
    cert, key = self_signed(tmp_path_factory.mktemp("cimd"))

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            document = {
                "client_id": f"{origin}{self.path}",
                "client_name": CLIENT_NAME,
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
            }
            self.reply(json.dumps(document).encode(), "application/json")

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with serving(Handler, context) as port:
        origin = f"https://localhost:{port}"
        yield origin, cert


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, documents: tuple[str, Path]) -> Iterator[Setup]:
    origin, cert = documents
    # The document lives on loopback (allowed by the private-CIMD setting) behind a certificate the gateway trusts
    # (SSL_CERT_FILE, as an operator with a private CA would do): the SDK only takes an https client_metadata_url.
    env = {"VAULTGATE_OAUTH_ALLOW_PRIVATE_CIMD": "1", "SSL_CERT_FILE": str(cert)}
    with running_server(tmp_path_factory.mktemp("oauth-sdk"), seed_examples=False, extra_env=env) as server:
        email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
        with session_scope(server.database_url) as session:
            organization = create_organization(session, name="Acme", tier=Tier.enterprise)
            user = create_user(
                session, organization=organization, email=email, name="Ada", role=Role.admin, permissions=[]
            )
            set_password(session, user, PASSWORD)
        dispose_engine(server.database_url)
        yield Setup(server, email, origin)


# ---- the SDK ------------------------------------------------------------------------------------------------------


def provider_for(setup: Setup, driver: ConsentDriver, storage: MemoryStorage, **options: Any) -> OAuthClientProvider:
    return OAuthClientProvider(
        server_url=f"{setup.server.url}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name=CLIENT_NAME,
            redirect_uris=[REDIRECT],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=driver.open,
        callback_handler=driver.callback,
        **options,
    )


def connected(url: str, provider: OAuthClientProvider, mode: str, use: Callable[[Client], Awaitable[T]]) -> T:
    async def main() -> T:
        async with (
            httpx2.AsyncClient(auth=provider, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http), mode=mode) as client,
        ):
            return await use(client)

    return anyio.run(main)


@dataclass
class Session:
    tools: set[str]
    whoami: dict[str, Any]
    write: dict[str, Any]
    refreshed_whoami: dict[str, Any]
    tokens_before_refresh: OAuthToken


def read_write_refresh(provider: OAuthClientProvider, storage: MemoryStorage) -> Callable[[Client], Awaitable[Session]]:
    async def use(client: Client) -> Session:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        whoami = await client.call_tool("meta_whoami", {})
        write = await client.call_tool("vault_create_project", {"name": "Tower"})
        assert storage.tokens is not None
        before = storage.tokens
        # The access token's lifetime, as the SDK counts it, runs out: its next request refreshes first.
        provider.context.token_expiry_time = time.time() - 1
        refreshed = await client.call_tool("meta_whoami", {})
        assert not whoami.is_error, whoami
        assert not refreshed.is_error, refreshed
        return Session(
            tools=tools,
            whoami=whoami.structured_content or {},
            write={**(write.structured_content or {}), "is_error": write.is_error},
            refreshed_whoami=refreshed.structured_content or {},
            tokens_before_refresh=before,
        )

    return use


def assert_read_only_session(session: Session, storage: MemoryStorage, driver: ConsentDriver, client_id: str) -> None:
    assert {"meta_whoami", "vault_search"} <= session.tools
    assert session.whoami["auth_kind"] == "oauth"
    assert session.whoami["key"] is None
    assert session.whoami["oauth_client"] == {"client_id": client_id, "client_name": CLIENT_NAME}
    assert session.whoami["mode"] == "test"  # as picked on the consent page
    assert (session.write["is_error"], session.write["code"]) == (True, "oauth_read_only")
    # One consent for the whole session, the refresh included; the redirect carried the issuer (RFC 9207).
    assert len(driver.consent_pages) == 1
    assert driver.redirect_query["iss"] == driver.consent_pages[0].split("/oauth/")[0]
    assert storage.tokens is not None
    assert storage.tokens.access_token != session.tokens_before_refresh.access_token
    assert storage.tokens.refresh_token != session.tokens_before_refresh.refresh_token
    assert session.refreshed_whoami["oauth_client"]["client_id"] == client_id


def test_the_sdk_registers_signs_in_calls_tools_and_refreshes_unaided(setup: Setup) -> None:
    driver, storage = ConsentDriver(setup.email), MemoryStorage()
    provider = provider_for(setup, driver, storage)

    session = connected(f"{setup.server.url}/mcp", provider, "legacy", read_write_refresh(provider, storage))

    assert storage.client_info is not None
    client_id = storage.client_info.client_id
    assert client_id is not None
    assert not client_id.startswith("https://")  # registered here (RFC 7591)
    assert_read_only_session(session, storage, driver, client_id)
    query = parse_qs(urlsplit(driver.consent_pages[0]).query)
    assert query["resource"] == [f"{setup.server.url}/mcp"]
    assert query["code_challenge_method"] == ["S256"]


def test_the_sdk_signs_in_with_a_client_id_metadata_document(setup: Setup) -> None:
    driver, storage = ConsentDriver(setup.email), MemoryStorage()
    document = f"{setup.documents}/clients/{uuid.uuid4().hex}.json"
    provider = provider_for(setup, driver, storage, client_metadata_url=document)

    session = connected(f"{setup.server.url}/mcp", provider, "auto", read_write_refresh(provider, storage))

    assert storage.client_info is not None
    assert storage.client_info.client_id == document  # no registration: the URL is the client id
    assert_read_only_session(session, storage, driver, document)
