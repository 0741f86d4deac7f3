"""The authorization code flow end to end, in process: consent page, codes, tokens, refresh, revocation.

One database of each kind and one app serve the whole module (a fresh app costs about a second, mostly the
spec's validation): each test registers its own client, signs in its own user and calls from its own client
address (the app trusts `X-Forwarded-For`), so no test sees another's grants, cookies or sign-in throttle.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.app import create_app
from gateway.contract import load_contract
from gateway.oauth import authorization, consent
from gateway.oauth.clients import FETCHES_PER_MINUTE_PER_ADDRESS
from gateway.oauth.resources import OAuthServer
from gateway.oauth.tokens import AccessTokens
from gateway.rate_limits import Policy
from storage import oauth
from storage.accounts import create_organization, create_user, set_password
from storage.database import dispose_engine, session_scope
from storage.models import OAuthCode, OAuthRevokedToken, Role, Tier, User, utcnow
from storage.passwords import hash_password
from tests.conftest import fresh_database
from tests.loopback import QuietHandler, serving

REDIRECT = "http://127.0.0.1:43111/callback"
# A redirect URI anyone could register: errors reach it only by the user's click.
APP_REDIRECT = "https://app.example/cb"
PASSWORD = "correct horse battery staple"
READ_SCOPES = "meta:read vault:read chat:read workflows:read templates:read"
# RFC 6749 §4.1.2.1 and §5.2: what an error_description may hold.
ERROR_DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")


_addresses = itertools.count(1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[str]:
    """A freshly migrated database of each kind, for the whole module."""
    url = fresh_database(request, request.param, tmp_path_factory.mktemp("oauth-flow"), sqlite_template)
    yield url
    dispose_engine(url)


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        validate_responses=True,
        blob_dir=tmp_path_factory.mktemp("blobs"),
        trust_forwarded_for=True,
    )


@pytest.fixture(scope="module")
def app_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def move(client: TestClient) -> None:
    """Call from a client address no test has used yet."""
    number = next(_addresses)
    client.headers["X-Forwarded-For"] = f"10.{number // 62500}.{number // 250 % 250}.{number % 250 + 1}"


@pytest.fixture
def client(app_client: TestClient) -> Iterator[TestClient]:
    """The module's app, seen from a client address of this test's own, with no cookie yet."""
    app_client.cookies.clear()
    move(app_client)
    yield app_client
    app_client.cookies.clear()


class _Documents(QuietHandler):
    """Client ID Metadata Documents on loopback: each path serves one naming its own URL."""

    def do_GET(self) -> None:
        client_id = f"http://{self.headers['Host']}{self.path}"
        body = {
            "client_id": client_id,
            "redirect_uris": ["http://127.0.0.1/callback"],
            "token_endpoint_auth_method": "none",
        }
        self.reply(json.dumps(body).encode(), "application/json")


@pytest.fixture(scope="module")
def documents() -> Iterator[str]:
    """The base URL of a server of metadata documents."""
    with serving(_Documents) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(settings: Settings) -> OAuthServer:
    """The issuer and resources as the app under test sees them."""
    return OAuthServer(settings, load_contract(), settings.instance_key())


@dataclass(frozen=True)
class Person:
    email: str
    user_id: uuid.UUID


@pytest.fixture(scope="module")
def password_hash() -> str:
    # Hashed once: a user per test, but not an argon2 hash per test.
    return hash_password(PASSWORD)


@pytest.fixture
def person(database_url: str, password_hash: str) -> Person:
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
        user.password_hash = password_hash
        return Person(user.email, user.id)


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hidden: list[tuple[str, str]] = []
        # (text, href) of each link.
        self.links: list[tuple[str, str]] = []
        self._in_link = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden":
            self.hidden.append((values["name"] or "", values["value"] or ""))
        elif tag == "a":
            self.links.append(("", values.get("href") or ""))
            self._in_link = True

    def handle_endtag(self, tag: str) -> None:
        self._in_link = self._in_link and tag != "a"

    def handle_data(self, data: str) -> None:
        if self._in_link:
            text, href = self.links[-1]
            self.links[-1] = (text + data, href)


def hidden_fields(html: str) -> list[tuple[str, str]]:
    parser = _Inputs()
    parser.feed(html)
    return parser.hidden


def links(html: str) -> list[tuple[str, str]]:
    parser = _Inputs()
    parser.feed(html)
    return parser.links


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def register(client: TestClient, *, redirect_uris: list[str] | None = None, **metadata: Any) -> dict[str, Any]:
    body = {"redirect_uris": redirect_uris or [REDIRECT], "client_name": "Notes app", **metadata}
    body.setdefault("token_endpoint_auth_method", "none")
    response = client.post("/oauth/register", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def query_of(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


@dataclass
class Flow:
    """One client's way through the flow, step by step."""

    client: TestClient
    client_id: str
    redirect_uri: str = REDIRECT
    state: str = "st-4b1c"
    client_secret: str | None = None

    def __post_init__(self) -> None:
        self.verifier, self.challenge = pkce()

    def params(self, **overrides: str | None) -> dict[str, str]:
        values: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            "state": self.state,
            **overrides,
        }
        return {name: value for name, value in values.items() if value is not None}

    def page(self, **overrides: str | None) -> Any:
        return self.client.get(f"/oauth/authorize?{urlencode(self.params(**overrides))}", follow_redirects=False)

    def submit(
        self,
        action: str = "approve",
        *,
        email: str = "",
        password: str = "",
        asking: dict[str, str | None] | None = None,
        **fields: str,
    ) -> Any:
        """Open the consent page (its request changed by `asking`) and press a button on it."""
        page = self.page(**(asking or {}))
        assert page.status_code == 200, page.text
        form = dict(hidden_fields(page.text))
        form.update(action=action, email=email, password=password, **fields)
        return self.client.post("/oauth/authorize", data=form, follow_redirects=False)

    def code(self, person: Person, *, asking: dict[str, str | None] | None = None, **fields: str) -> str:
        answer = self.submit(email=person.email, password=PASSWORD, asking=asking, **fields)
        assert answer.status_code == 303, answer.text
        return query_of(answer.headers["location"])["code"]

    def token(self, **form: str | None) -> Any:
        body = {"client_id": self.client_id, "client_secret": self.client_secret, **form}
        return self.client.post("/oauth/token", data={k: v for k, v in body.items() if v is not None})

    def exchange(self, code: str, **form: str | None) -> Any:
        values: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self.verifier,
            **form,
        }
        return self.token(**values)

    def tokens(self, person: Person, *, asking: dict[str, str | None] | None = None, **fields: str) -> dict[str, Any]:
        answer = self.exchange(self.code(person, asking=asking, **fields))
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def refresh(self, refresh_token: str, **form: str) -> Any:
        return self.token(grant_type="refresh_token", refresh_token=refresh_token, **form)

    def revoke(self, token: str) -> Any:
        body = {"client_id": self.client_id, "client_secret": self.client_secret, "token": token}
        return self.client.post("/oauth/revoke", data={k: v for k, v in body.items() if v is not None})


@pytest.fixture
def flow(client: TestClient) -> Flow:
    return Flow(client, register(client)["client_id"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_whole_flow_signs_in_approves_exchanges_and_refreshes(flow: Flow, person: Person, server: OAuthServer) -> None:
    answer = flow.submit(email=person.email, password=PASSWORD)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(f"{REDIRECT}?")
    returned = query_of(location)
    assert returned["state"] == flow.state
    assert returned["iss"] == server.issuer

    exchanged = flow.exchange(returned["code"], resource=server.resources.mcp)
    assert exchanged.status_code == 200, exchanged.text
    assert exchanged.headers["cache-control"] == "no-store"
    tokens = exchanged.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 600
    assert tokens["scope"].split() == sorted(READ_SCOPES.split())
    claims = server.tokens.verify(tokens["access_token"], (server.resources.mcp,))
    assert claims.user_id == person.user_id
    assert claims.client_id == flow.client_id

    refreshed = flow.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]
    assert server.tokens.verify(refreshed.json()["access_token"], (server.resources.mcp,)).grant_id == claims.grant_id


def test_token_for_the_api_reads_whoami_in_the_chosen_mode(flow: Flow, person: Person, server: OAuthServer) -> None:
    api = flow.tokens(person, asking={"resource": server.resources.api}, mode="test")
    whoami = flow.client.get("/api/v2/meta/whoami", headers=bearer(api["access_token"]))
    assert whoami.status_code == 200, whoami.text
    assert whoami.json()["auth_kind"] == "oauth"
    assert whoami.json()["mode"] == "test"


def test_consent_page_names_the_client_its_redirect_host_and_scopes(client: TestClient) -> None:
    registered = register(
        client, client_name='<img src=x onerror="alert(1)">', redirect_uris=["https://app.example/cb"]
    )
    page = Flow(client, registered["client_id"], redirect_uri="https://app.example/cb").page(scope="vault:read")
    assert page.status_code == 200
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page.text
    assert "<img" not in page.text
    assert "app.example" in page.text
    assert "vault:read" in page.text
    assert "meta:read" not in page.text


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("g\u0456thub.com", "xn--gthub-n2e.com"),  # U+0456, a Cyrillic i
        # IDNA 2008, as browsers: Python's IDNA 2003 codec would show fass.example.
        ("fa\u00df.example", "xn--fa-hia.example"),
        # No valid IDNA name: escaped, so the override reverses nothing.
        ("\u202emoc.elgoog.example", "%E2%80%AEmoc.elgoog.example"),
    ],
)
def test_consent_and_error_pages_show_a_redirect_host_in_the_ascii_form_the_browser_visits(
    client: TestClient, host: str, shown: str
) -> None:
    redirect = f"https://{host}/cb"
    flow = Flow(client, register(client, redirect_uris=[redirect])["client_id"], redirect_uri=redirect)
    page = flow.page()
    assert page.status_code == 200
    assert f"goes back to <strong>{shown}</strong>" in page.text
    [(text, _)] = links(flow.page(scope="vault:write").text)
    assert text == f"Return to {shown}"


def test_consent_page_shows_a_metadata_documents_host_in_ascii_and_no_format_characters() -> None:
    # A nameless document is called by its URL, override and all; its host is a homograph.
    client_id = "https://g\u0456thub.example/\u202eppa-diputs.json"
    view = consent.ConsentView(
        client_name=client_id.removeprefix("https://"),
        client_id=client_id,
        is_metadata_document=True,
        redirect_uri=REDIRECT,
        resource="https://vaultgate.test/mcp",
        resource_label="the MCP server",
        scopes=("vault:read",),
        hidden=[],
        csrf_field="A" * 43,
    )
    page = consent.render_consent(view)
    assert "published by <strong>xn--gthub-n2e.example</strong>" in page
    assert "<h1>g\u0456thub.example/?ppa-diputs.json wants to read your Vaultgate data</h1>" in page
    assert "\u202e" not in page


def test_error_page_shows_no_control_or_format_characters() -> None:
    # Its message may quote a client (a metadata document's failure, say).
    page = consent.render_error("Stopped", "The app \u202eppa-diputs\x1b[2J failed.")
    assert "The app ?ppa-diputs?[2J failed." in page


def test_consent_page_cannot_be_framed_or_cached(flow: Flow) -> None:
    page = flow.page()
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    # The Approve answer is a 303 to the client: Chromium checks that redirect against form-action too.
    assert "form-action 'self' http://127.0.0.1:43111;" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    cookie = page.headers["set-cookie"]
    assert "vg_oauth_csrf=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/oauth/authorize" in cookie


@pytest.mark.parametrize("method", [None, "plain"])
def test_authorization_without_s256_pkce_is_refused_at_a_loopback_redirect(flow: Flow, method: str | None) -> None:
    answer = flow.page(code_challenge_method=method, **({"code_challenge": None} if method is None else {}))
    assert answer.status_code == 302
    returned = query_of(answer.headers["location"])
    assert returned["error"] == "invalid_request"
    assert returned["state"] == flow.state
    assert "iss" in returned


@pytest.mark.parametrize(
    ("asking", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"scope": "vault:write"}, "invalid_scope"),
        ({"resource": "https://elsewhere.example/mcp"}, "invalid_target"),
    ],
)
def test_errors_for_a_redirect_uri_that_is_not_loopback_are_a_page_linking_back(
    client: TestClient, server: OAuthServer, asking: dict[str, str | None], error: str
) -> None:
    flow = Flow(client, register(client, redirect_uris=[APP_REDIRECT])["client_id"], redirect_uri=APP_REDIRECT)
    answer = flow.page(**asking)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert answer.headers["x-frame-options"] == "DENY"
    [(text, href)] = links(answer.text)
    assert text == "Return to app.example"
    assert href.startswith(f"{APP_REDIRECT}?")
    returned = query_of(href)
    assert returned["error"] == error
    assert returned["error_description"]
    assert returned["state"] == flow.state
    assert returned["iss"] == server.issuer


def test_approve_and_deny_go_to_a_redirect_uri_that_is_not_loopback_at_once(client: TestClient, person: Person) -> None:
    flow = Flow(client, register(client, redirect_uris=[APP_REDIRECT])["client_id"], redirect_uri=APP_REDIRECT)
    denied = flow.submit("deny")
    assert denied.status_code == 303
    assert denied.headers["location"].startswith(f"{APP_REDIRECT}?")
    assert query_of(denied.headers["location"])["error"] == "access_denied"
    approved = flow.submit(email=person.email, password=PASSWORD)
    assert approved.status_code == 303
    assert "code" in query_of(approved.headers["location"])


def test_an_error_found_in_the_posted_form_is_a_page_for_a_redirect_uri_that_is_not_loopback(
    client: TestClient, person: Person
) -> None:
    flow = Flow(client, register(client, redirect_uris=[APP_REDIRECT])["client_id"], redirect_uri=APP_REDIRECT)
    form = dict(hidden_fields(flow.page().text), action="approve", email=person.email, password=PASSWORD)
    # The CSRF field binds the client, redirect and challenge; a scope edited in the form is checked again.
    answer = client.post("/oauth/authorize", data={**form, "scope": "vault:write"}, follow_redirects=False)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    [(_, href)] = links(answer.text)
    assert query_of(href)["error"] == "invalid_scope"


def test_metadata_documents_are_fetched_on_a_ration_per_caller_address(settings: Settings, documents: str) -> None:
    # Documents on loopback need the private setting, and an issuer on another host than theirs.
    private = settings.model_copy(update={"oauth_allow_private_cimd": True, "public_url": "http://vaultgate.test"})
    with TestClient(create_app(private), raise_server_exceptions=False) as browser:
        move(browser)

        def new_client() -> Flow:
            return Flow(browser, f"{documents}/{uuid.uuid4().hex}.json")

        for _ in range(FETCHES_PER_MINUTE_PER_ADDRESS):
            assert new_client().page().status_code == 200
        refused = new_client().page()
        assert refused.status_code == 400
        assert "for this address" in refused.text
        token = new_client().token(grant_type="authorization_code", code="x", code_verifier="v" * 43)
        assert (token.status_code, token.json()["error"]) == (503, "temporarily_unavailable")
        assert int(token.headers["retry-after"]) > 0
        move(browser)
        assert new_client().page().status_code == 200


def test_unregistered_redirect_uri_is_a_page_and_never_a_redirect(flow: Flow) -> None:
    answer = flow.page(redirect_uri="https://attacker.example/cb?sign-in-again-at=evil.example", code_challenge=None)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "The redirect_uri is not one this client registered." in answer.text
    # The sender's text never appears on a page in the gateway's name.
    assert "example" not in answer.text
    assert answer.headers["x-frame-options"] == "DENY"


def test_unknown_client_is_a_page(client: TestClient) -> None:
    answer = Flow(client, "no-such-client").page()
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "No client is registered" in answer.text


def test_loopback_redirect_matches_on_any_port(flow: Flow, person: Person) -> None:
    flow.redirect_uri = "http://127.0.0.1:50999/callback"
    answer = flow.submit(email=person.email, password=PASSWORD)
    assert answer.headers["location"].startswith("http://127.0.0.1:50999/callback?")
    assert flow.exchange(query_of(answer.headers["location"])["code"]).status_code == 200


def test_redirect_uri_may_be_left_out_when_the_client_registered_one(flow: Flow, person: Person) -> None:
    flow.redirect_uri = None  # type: ignore[assignment]
    answer = flow.submit(email=person.email, password=PASSWORD)
    assert answer.headers["location"].startswith(f"{REDIRECT}?")
    assert flow.exchange(query_of(answer.headers["location"])["code"]).status_code == 200


def test_resource_that_is_not_ours_is_invalid_target(flow: Flow) -> None:
    answer = flow.page(resource="https://elsewhere.example/mcp")
    assert query_of(answer.headers["location"])["error"] == "invalid_target"


def test_managed_server_resource_is_accepted(flow: Flow, person: Person, server: OAuthServer) -> None:
    resource = server.resources.server(uuid.uuid4())
    assert flow.page(resource=resource).status_code == 200
    tokens = flow.tokens(person, asking={"resource": resource})
    assert server.tokens.verify(tokens["access_token"], (resource,)).audience == resource


def test_resource_at_the_token_endpoint_must_be_the_authorized_one(
    flow: Flow, person: Person, server: OAuthServer
) -> None:
    answer = flow.exchange(flow.code(person), resource=server.resources.api)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_target"


def test_scope_beyond_read_is_invalid_scope(flow: Flow) -> None:
    answer = flow.page(scope="vault:read vault:write")
    returned = query_of(answer.headers["location"])
    assert returned["error"] == "invalid_scope"
    assert "scope parameter" in returned["error_description"]


def test_error_descriptions_name_the_parameter_never_its_value(flow: Flow) -> None:
    hostile = '"><img src=x onerror=alert(1)> \u00e9\\'
    for asking, parameter in (({"resource": hostile}, "resource"), ({"scope": f"meta:read {hostile}"}, "scope")):
        description = query_of(flow.page(**asking).headers["location"])["error_description"]
        assert f"{parameter} parameter" in description
        assert "img" not in description
        assert ERROR_DESCRIPTION.fullmatch(description), description
    # The token endpoint's answers keep to the same characters (RFC 6749 §5.2).
    answer = flow.token(grant_type="authorization_code", code="x", code_verifier="\u00e9")
    assert answer.json()["error"] == "invalid_request"
    assert ERROR_DESCRIPTION.fullmatch(answer.json()["error_description"])


def test_offline_access_is_accepted_and_not_a_token_scope(flow: Flow, person: Person) -> None:
    issued = flow.tokens(person, asking={"scope": "vault:read offline_access"})
    assert issued["scope"] == "vault:read"
    assert issued["refresh_token"]


def test_redirect_uri_that_is_not_ascii_at_the_token_endpoint_is_invalid_grant(flow: Flow, person: Person) -> None:
    answer = flow.exchange(flow.code(person), redirect_uri=f"{REDIRECT}\u00e9")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_wrong_code_verifier_is_invalid_grant(flow: Flow, person: Person) -> None:
    code = flow.code(person)
    answer = flow.exchange(code, code_verifier=pkce()[0])
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert "code_verifier" in answer.json()["error_description"]


def test_reused_code_fails_and_revokes_what_its_first_use_got(flow: Flow, person: Person) -> None:
    code = flow.code(person)
    first = flow.exchange(code).json()
    again = flow.exchange(code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    refused = flow.refresh(first["refresh_token"])
    assert refused.json()["error"] == "invalid_grant"
    assert "used twice" in refused.json()["error_description"]


def test_expired_code_is_invalid_grant(flow: Flow, person: Person, database_url: str) -> None:
    code = flow.code(person)
    with session_scope(database_url) as session:
        session.execute(
            update(OAuthCode)
            .where(OAuthCode.code_hash == oauth.token_hash(code))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    answer = flow.exchange(code)
    assert answer.json()["error"] == "invalid_grant"
    assert "expired" in answer.json()["error_description"]


def test_code_of_another_client_is_invalid_grant(flow: Flow, person: Person) -> None:
    other = Flow(flow.client, register(flow.client)["client_id"])
    other.verifier = flow.verifier
    answer = other.exchange(flow.code(person))
    assert answer.json()["error"] == "invalid_grant"


def test_reused_refresh_token_revokes_the_whole_family(flow: Flow, person: Person) -> None:
    first = flow.tokens(person)
    second = flow.refresh(first["refresh_token"]).json()
    reused = flow.refresh(first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    newest = flow.refresh(second["refresh_token"])
    assert newest.json()["error"] == "invalid_grant"


def test_refresh_may_narrow_the_scope_but_not_widen_it(flow: Flow, person: Person) -> None:
    tokens = flow.tokens(person, asking={"scope": "vault:read meta:read"})
    narrowed = flow.refresh(tokens["refresh_token"], scope="vault:read")
    assert narrowed.json()["scope"] == "vault:read"
    widened = flow.refresh(narrowed.json()["refresh_token"], scope="vault:read chat:read")
    assert widened.json()["error"] == "invalid_scope"


def test_refresh_stays_with_the_authorized_resource(flow: Flow, person: Person, server: OAuthServer) -> None:
    tokens = flow.tokens(person)
    answer = flow.refresh(tokens["refresh_token"], resource=server.resources.api)
    assert answer.json()["error"] == "invalid_target"
    assert flow.refresh(tokens["refresh_token"], resource=server.resources.mcp).status_code == 200


def test_password_change_ends_the_apps_access(flow: Flow, person: Person, database_url: str) -> None:
    tokens = flow.tokens(person)
    with session_scope(database_url) as session:
        user = session.get(User, person.user_id)
        assert user is not None
        set_password(session, user, "a new password entirely")
    answer = flow.refresh(tokens["refresh_token"])
    assert answer.json()["error"] == "invalid_grant"
    assert "password" in answer.json()["error_description"]


@pytest.mark.parametrize("tamper", ["no_cookie", "wrong_field", "field_not_ascii", "other_request"])
def test_consent_form_without_its_csrf_proof_does_nothing(flow: Flow, person: Person, tamper: str) -> None:
    page = flow.page()
    form = dict(hidden_fields(page.text), action="approve", email=person.email, password=PASSWORD)
    if tamper == "no_cookie":
        flow.client.cookies.clear()
    elif tamper == "wrong_field":
        form["csrf_token"] = "A" * 43
    elif tamper == "field_not_ascii":
        form["csrf_token"] = "\u00e9" * 43
    else:
        # A field from one consent page does not fit another request's.
        form["code_challenge"] = pkce()[1]
    answer = flow.client.post("/oauth/authorize", data=form, follow_redirects=False)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "CSRF" in answer.text


# The old shape of a secret, and the new one with a signature this server never made.
@pytest.mark.parametrize("invented", ["A" * 43, f"{'A' * 43}.{'B' * 43}"])
def test_a_csrf_secret_this_server_did_not_issue_is_refused(flow: Flow, person: Person, invented: str) -> None:
    # Login CSRF: a cookie planted in the victim's browser, and the field the page computes for it.
    flow.client.cookies.set("vg_oauth_csrf", invented, path="/oauth/authorize")
    page = flow.page()
    assert f"vg_oauth_csrf={invented};" not in page.headers["set-cookie"]
    form = dict(hidden_fields(page.text), action="approve", email=person.email, password=PASSWORD)
    flow.client.cookies.clear()
    flow.client.cookies.set("vg_oauth_csrf", invented, path="/oauth/authorize")
    answer = flow.client.post("/oauth/authorize", data=form, follow_redirects=False)
    assert answer.status_code == 400
    assert "CSRF" in answer.text


def test_over_https_the_csrf_and_device_cookies_are_host_prefixed(settings: Settings, person: Person) -> None:
    https = settings.model_copy(update={"public_url": "https://vaultgate.example"})
    with TestClient(create_app(https), base_url="https://vaultgate.example") as browser:
        move(browser)
        flow = Flow(browser, register(browser)["client_id"])
        cookie = flow.page().headers["set-cookie"]
        assert cookie.startswith("__Host-vg_oauth_csrf=")
        assert "Secure" in cookie
        assert "Path=/;" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Domain" not in cookie
        # A cookie without the prefix, as a sibling subdomain could set, is no secret here.
        page = flow.page()
        form = dict(hidden_fields(page.text), action="approve", email=person.email, password=PASSWORD)
        secret = browser.cookies["__Host-vg_oauth_csrf"]
        browser.cookies.clear()
        browser.cookies.set("vg_oauth_csrf", secret, path="/oauth/authorize")
        assert "CSRF" in browser.post("/oauth/authorize", data=form, follow_redirects=False).text
        approved = flow.submit(email=person.email, password=PASSWORD)
        assert approved.status_code == 303
        device = approved.headers["set-cookie"]
        assert device.startswith("__Host-vg_oauth_device=")
        assert all(part in device for part in ("Secure", "Path=/;", "HttpOnly", "SameSite=strict"))
        assert "Domain" not in device


def test_deny_answers_access_denied_with_state_and_iss(flow: Flow, server: OAuthServer) -> None:
    answer = flow.submit("deny")
    assert answer.status_code == 303
    returned = query_of(answer.headers["location"])
    assert returned["error"] == "access_denied"
    assert returned["state"] == flow.state
    assert returned["iss"] == server.issuer
    assert "code" not in returned


@pytest.mark.parametrize("who", ["wrong_password", "unknown_email"])
def test_failed_sign_in_gives_no_code_and_does_not_say_why(flow: Flow, person: Person, who: str) -> None:
    email = person.email if who == "wrong_password" else "nobody@example.com"
    answer = flow.submit(email=email, password="not it" if who == "wrong_password" else PASSWORD)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "The email or the password is wrong." in answer.text
    # The page is back, ready for another try.
    assert ("action", "approve") not in hidden_fields(answer.text)
    assert any(name == "csrf_token" for name, _ in hidden_fields(answer.text))


def test_successes_count_nothing_and_failures_from_one_address_lock_the_email_there(flow: Flow, person: Person) -> None:
    for _ in range(9):
        assert flow.submit(email=person.email, password="guess").status_code == 400
    for _ in range(2):
        assert flow.submit(email=person.email, password=PASSWORD).status_code == 303
    assert flow.submit(email=person.email, password="guess").status_code == 400
    throttled = flow.submit(email=person.email, password=PASSWORD)
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["retry-after"]) <= 90
    assert "Too many failed sign-ins" in throttled.text
    assert "location" not in throttled.headers


def test_failures_from_other_addresses_do_not_lock_the_owner_out(flow: Flow, person: Person) -> None:
    for _ in range(10):
        move(flow.client)
        assert flow.submit(email=person.email, password="guess").status_code == 400
    move(flow.client)
    assert flow.submit(email=person.email, password=PASSWORD).status_code == 303


def test_failures_at_one_email_from_many_addresses_are_bounded(
    flow: Flow, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real bound is 50 failures; three keep the test short.
    monkeypatch.setattr(authorization, "EMAIL_FAILURES", Policy("sign-in-email-failures", 3, 3 / 900))
    for _ in range(3):
        move(flow.client)
        assert flow.submit(email=person.email, password="guess").status_code == 400
    move(flow.client)
    assert flow.submit(email=person.email, password=PASSWORD).status_code == 429


def test_failures_from_one_address_at_many_emails_are_bounded(
    flow: Flow, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real bound is 30 failures; three keep the test short.
    monkeypatch.setattr(authorization, "ADDRESS_FAILURES", Policy("sign-in-address-failures", 3, 3 / 900))
    for number in range(3):
        assert flow.submit(email=f"nobody-{number}-{person.email}", password="guess").status_code == 400
    assert flow.submit(email=person.email, password=PASSWORD).status_code == 429


def test_a_browser_that_signed_in_as_the_email_is_not_locked_out_by_failures_from_elsewhere(
    flow: Flow, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real bound is 50 failures (five addresses keep it empty); three keep the test short.
    monkeypatch.setattr(authorization, "EMAIL_FAILURES", Policy("sign-in-email-failures", 3, 3 / 900))
    approved = flow.submit(email=person.email, password=PASSWORD)
    cookie = approved.headers["set-cookie"]
    assert cookie.startswith(f"{consent.DEVICE_COOKIE}=")
    assert all(part in cookie for part in ("HttpOnly", "SameSite=strict", "Path=/oauth/authorize", "Max-Age=7776000"))
    device = flow.client.cookies[consent.DEVICE_COOKIE]
    flow.client.cookies.clear()
    for _ in range(3):
        move(flow.client)
        assert flow.submit(email=person.email, password="guess").status_code == 400
    # A browser without the cookie is throttled; the owner's, from yet another address, is not.
    move(flow.client)
    assert flow.submit(email=person.email, password=PASSWORD).status_code == 429
    move(flow.client)
    flow.client.cookies.set(consent.DEVICE_COOKIE, device, path="/oauth/authorize")
    assert flow.submit(email=person.email.upper(), password=PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("cookie", "status"), [("issued", 303), ("invented", 429), ("another_email", 429), ("expired", 429)]
)
def test_only_a_device_cookie_this_server_issued_for_the_email_skips_its_throttle(
    flow: Flow, person: Person, server: OAuthServer, monkeypatch: pytest.MonkeyPatch, cookie: str, status: int
) -> None:
    monkeypatch.setattr(authorization, "EMAIL_FAILURES", Policy("sign-in-email-failures", 1, 1 / 900))
    assert flow.submit(email=person.email, password="guess").status_code == 400
    devices = consent.DeviceCookies(server.keys.instance_key.derive("oauth-device-cookie"), secure=False)
    now, nonce = int(time.time()), secrets.token_urlsafe(16)
    value = {
        "issued": devices.value(person.email, now, nonce),
        "invented": f"{now}.{nonce}.{'A' * 43}",
        "another_email": devices.value(f"other-{person.email}", now, nonce),
        "expired": devices.value(person.email, now - consent.DEVICE_COOKIE_SECONDS - 60, nonce),
    }[cookie]
    move(flow.client)
    flow.client.cookies.set(consent.DEVICE_COOKIE, value, path="/oauth/authorize")
    assert flow.submit(email=person.email, password=PASSWORD).status_code == status


def test_failures_with_a_device_cookie_draw_from_its_own_bucket_not_the_emails(
    flow: Flow, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authorization, "EMAIL_FAILURES", Policy("sign-in-email-failures", 3, 3 / 900))
    monkeypatch.setattr(authorization, "DEVICE_FAILURES", Policy("sign-in-device-failures", 3, 3 / 900))
    flow.code(person)
    for _ in range(3):
        move(flow.client)
        assert flow.submit(email=person.email, password="guess").status_code == 400
    move(flow.client)
    assert flow.submit(email=person.email, password=PASSWORD).status_code == 429
    flow.client.cookies.clear()
    move(flow.client)
    assert flow.submit(email=person.email, password=PASSWORD).status_code == 303


@pytest.mark.parametrize("where", ["client_id", "redirect_uri", "state"])
def test_a_control_character_in_an_authorization_request_is_a_page(flow: Flow, where: str) -> None:
    sent = {"client_id": "vgc_\x00", "redirect_uri": f"\x01{REDIRECT}", "state": "st\x00"}[where]
    answer = flow.page(**{where: sent})
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert f"{where} holds a control character" in answer.text


@pytest.mark.parametrize(("endpoint", "where"), [("token", "client_id"), ("token", "code"), ("revoke", "token")])
def test_a_control_character_at_the_token_and_revocation_endpoints_is_invalid_request(
    flow: Flow, endpoint: str, where: str
) -> None:
    form = {"client_id": flow.client_id, "grant_type": "authorization_code", "code": "x", "token": "x"}
    answer = flow.client.post(f"/oauth/{endpoint}", data={**form, where: "x\x00"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "control character" in answer.json()["error_description"]


def test_a_control_character_in_the_email_is_a_failed_sign_in(flow: Flow, person: Person) -> None:
    answer = flow.submit(email=person.email.replace("@", "\x00@"), password=PASSWORD)
    assert answer.status_code == 400
    assert "The email or the password is wrong." in answer.text


def test_removed_user_cannot_sign_in(flow: Flow, person: Person, database_url: str) -> None:
    with session_scope(database_url) as session:
        session.execute(update(User).where(User.id == person.user_id).values(removed_at=utcnow()))
    assert "The email or the password is wrong." in flow.submit(email=person.email, password=PASSWORD).text


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_confidential_client_without_its_secret_is_invalid_client(
    client: TestClient, person: Person, secret: str | None
) -> None:
    registered = register(client, token_endpoint_auth_method="client_secret_post")
    flow = Flow(client, registered["client_id"], client_secret=registered["client_secret"])
    code = flow.code(person)
    flow.client_secret = secret
    answer = flow.exchange(code)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    flow.client_secret = registered["client_secret"]
    assert flow.exchange(code).status_code == 200


def test_client_secret_basic_is_refused_with_a_clear_reason(client: TestClient) -> None:
    registered = register(client, token_endpoint_auth_method="client_secret_post")
    credentials = base64.b64encode(f"{registered['client_id']}:{registered['client_secret']}".encode()).decode()
    answer = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert "client_secret_post" in answer.json()["error_description"]
    assert answer.headers["www-authenticate"].startswith("Basic")


def test_unsupported_grant_type(flow: Flow) -> None:
    answer = flow.token(grant_type="client_credentials")
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_revoking_a_refresh_token_ends_its_family(flow: Flow, person: Person) -> None:
    first = flow.tokens(person)
    second = flow.refresh(first["refresh_token"]).json()
    assert flow.revoke(first["refresh_token"]).status_code == 200
    answer = flow.refresh(second["refresh_token"])
    assert answer.json()["error"] == "invalid_grant"
    assert "the client revoked it" in answer.json()["error_description"]


def test_revoking_an_access_token_records_it_and_the_resource_refuses_it(
    flow: Flow, person: Person, server: OAuthServer, database_url: str
) -> None:
    tokens = flow.tokens(person, asking={"resource": server.resources.api})
    assert flow.revoke(tokens["access_token"]).status_code == 200
    jti = server.tokens.read(tokens["access_token"]).token_id
    with session_scope(database_url) as session:
        assert session.get(OAuthRevokedToken, jti) is not None
    refused = flow.client.get("/api/v2/meta/whoami", headers=bearer(tokens["access_token"]))
    assert refused.status_code == 401
    # The refresh token lives on: only that access token was revoked.
    assert flow.refresh(tokens["refresh_token"]).status_code == 200


def test_a_revoked_access_token_stays_refused_for_as_long_as_any_verifier_would_accept_it(
    flow: Flow, person: Person, server: OAuthServer, database_url: str, settings: Settings
) -> None:
    tokens = flow.tokens(person, asking={"resource": server.resources.api})
    grant_id = server.tokens.read(tokens["access_token"]).grant_id
    # A token past its `exp` but inside the verifiers' clock leeway: still accepted, so still worth revoking.
    late = AccessTokens(settings.model_copy(update={"oauth_access_token_seconds": -5}), server.issuer, server.keys)
    token, claims = late.issue(
        user_id=person.user_id,
        audience=server.resources.api,
        client_id=flow.client_id,
        scopes=["meta:read"],
        grant_id=grant_id,
    )
    assert flow.client.get("/api/v2/meta/whoami", headers=bearer(token)).status_code == 200

    assert flow.revoke(token).status_code == 200
    # Any later revocation clears rows of tokens no verifier accepts any more; this one must outlive the purge.
    assert flow.revoke(tokens["access_token"]).status_code == 200

    with session_scope(database_url) as session:
        row = session.get(OAuthRevokedToken, claims.token_id)
        assert row is not None
        assert row.expires_at >= claims.accepted_until


def test_another_client_cannot_revoke_a_token(flow: Flow, person: Person) -> None:
    tokens = flow.tokens(person)
    other = Flow(flow.client, register(flow.client)["client_id"])
    answer = other.revoke(tokens["refresh_token"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "unauthorized_client"
    assert flow.refresh(tokens["refresh_token"]).status_code == 200


def test_unknown_token_revocation_is_a_quiet_200(flow: Flow) -> None:
    assert flow.revoke("not-a-token-we-issued").status_code == 200


def test_racing_redemptions_claim_a_code_and_a_refresh_token_once(
    flow: Flow, person: Person, database_url: str
) -> None:
    # Two requests that both read the code (or token) unused before either writes: only one may win.
    code = flow.code(person)
    with session_scope(database_url) as first, session_scope(database_url) as second:
        found_first, found_second = oauth.find_code(first, code), oauth.find_code(second, code)
        assert found_first is not None
        assert found_second is not None
        assert oauth.claim_code(first, found_first[0])
    with session_scope(database_url) as session:
        assert not oauth.claim_code(session, found_second[0])
    tokens = flow.tokens(person)
    with session_scope(database_url) as session:
        found = oauth.find_refresh_token(session, tokens["refresh_token"])
        assert found is not None
        assert oauth.rotate_refresh_token(session, found[0])
        assert not oauth.rotate_refresh_token(session, found[0])
