"""OAuth clients: discovery documents, dynamic registration (RFC 7591/7592), Client ID Metadata Documents, CORS."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import ipaddress
import json
import logging
import shutil
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import yaml
from anyio import to_thread
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.app import create_app
from gateway.contract import load_contract
from gateway.oauth import cimd, client_metadata, clients
from gateway.oauth.clients import Client, ClientError, find_client
from gateway.oauth.resources import OAuthServer
from storage import oauth
from storage.database import dispose_engine, session_scope
from storage.models import Mode, OAuthClient, OAuthGrant, User
from storage.oauth_clients import live_client, rotate_registration_token
from tests.conftest import ROOT, Tenants
from tests.tls import self_signed

Json = dict[str, Any]
ISSUER = "https://vault.example.com"
READ_SCOPES = [scope for scope in load_contract().scopes if scope.endswith(":read")]
LOOPBACK_CLIENT = {"redirect_uris": ["http://127.0.0.1:33418/callback"], "token_endpoint_auth_method": "none"}


@contextmanager
def app_client(settings: Settings, **overrides: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update=overrides)), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def sqlite_settings(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Settings]:
    """For behaviour no database changes (metadata checks, CORS, routing): SQLite only, one app for the module."""
    directory = tmp_path_factory.mktemp("oauth-edge")
    shutil.copy(sqlite_template, directory / "vaultgate.db")
    url = f"sqlite:///{directory / 'vaultgate.db'}"
    # Many registrations come from this one test address: the allowance is tested on an app of its own.
    yield Settings(database_url=url, blob_dir=directory / "blobs", oauth_registrations_per_minute=100_000)
    dispose_engine(url)


@pytest.fixture(scope="module")
def edge(sqlite_settings: Settings) -> Iterator[TestClient]:
    with app_client(sqlite_settings) as client:
        yield client


@pytest.fixture(scope="module")
def issuer_client(sqlite_settings: Settings) -> Iterator[TestClient]:
    with app_client(sqlite_settings, public_url=ISSUER) as client:
        yield client


def register(client: TestClient, **metadata: Any) -> Json:
    response = client.post("/oauth/register", json={**LOOPBACK_CLIENT, **metadata})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def oauth_server(settings: Settings) -> OAuthServer:
    return OAuthServer(settings, load_contract(), settings.instance_key())


def nulls(value: object) -> list[object]:
    if isinstance(value, dict):
        return [found for item in value.values() for found in nulls(item)]
    if isinstance(value, list):
        return [found for item in value for found in nulls(item)]
    return [value] if value is None else []


# ---- discovery -----------------------------------------------------------------------------------------------


def test_metadata_is_one_document_at_both_paths_naming_the_configured_issuer(issuer_client: TestClient) -> None:
    # A forged Host must not move the issuer: clients compare it with the URL they fetched.
    response = issuer_client.get("/.well-known/oauth-authorization-server", headers={"Host": "evil.example"})
    metadata = response.json()

    assert response.status_code == 200
    assert issuer_client.get("/.well-known/openid-configuration").json() == metadata
    assert metadata["issuer"] == ISSUER
    assert metadata["authorization_endpoint"] == f"{ISSUER}/oauth/authorize"
    assert metadata["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert metadata["registration_endpoint"] == f"{ISSUER}/oauth/register"
    assert metadata["revocation_endpoint"] == f"{ISSUER}/oauth/revoke"
    assert metadata["jwks_uri"] == f"{ISSUER}/oauth/jwks"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["none", "client_secret_post"]
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["scopes_supported"] == READ_SCOPES
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["client_id_metadata_document_supported"] is True
    assert nulls(metadata) == []
    # Not an OpenID provider: claiming ID tokens would send OpenID clients down a path that fails later.
    assert not {"id_token_signing_alg_values_supported", "subject_types_supported", "userinfo_endpoint"} & set(metadata)


def test_the_mcp_sdk_reads_the_metadata(issuer_client: TestClient) -> None:
    from mcp.client.auth.utils import should_use_client_metadata_url
    from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata

    metadata = OAuthMetadata.model_validate(issuer_client.get("/.well-known/oauth-authorization-server").json())
    resource = ProtectedResourceMetadata.model_validate(
        issuer_client.get("/.well-known/oauth-protected-resource/mcp").json()
    )

    assert str(metadata.registration_endpoint) == f"{ISSUER}/oauth/register"
    assert [str(server) for server in resource.authorization_servers] == [ISSUER]
    # The SDK then names itself by its metadata URL rather than registering.
    assert should_use_client_metadata_url(metadata, "https://app.example/client.json")


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/api/v2", f"{ISSUER}/api/v2"),
        ("/mcp", f"{ISSUER}/mcp"),
        ("/mcp/8d2b7c51-8c1e-4c4e-a0a5-3f0e6f0c9d11", f"{ISSUER}/mcp/8d2b7c51-8c1e-4c4e-a0a5-3f0e6f0c9d11"),
    ],
)
def test_each_resource_has_its_protected_resource_metadata(issuer_client: TestClient, path: str, resource: str) -> None:
    response = issuer_client.get(f"/.well-known/oauth-protected-resource{path}")
    metadata = response.json()

    assert response.status_code == 200
    assert metadata["resource"] == resource
    assert metadata["authorization_servers"] == [ISSUER]
    assert metadata["scopes_supported"] == READ_SCOPES
    assert metadata["bearer_methods_supported"] == ["header"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert nulls(metadata) == []


@pytest.mark.parametrize(
    "server_id", ["not-a-uuid", "8D2B7C51-8C1E-4C4E-A0A5-3F0E6F0C9D11", "8d2b7c518c1e4c4ea0a53f0e6f0c9d11"]
)
def test_only_a_canonical_server_id_has_protected_resource_metadata(issuer_client: TestClient, server_id: str) -> None:
    response = issuer_client.get(f"/.well-known/oauth-protected-resource/mcp/{server_id}")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_jwks_keeps_the_old_key_after_a_rotation_and_old_tokens_still_verify(settings: Settings) -> None:
    server = oauth_server(settings)
    old_token, _ = server.tokens.issue(
        user_id=uuid.uuid4(),
        audience=server.resources.mcp,
        client_id="vgc_x",
        scopes=["vault:read"],
        grant_id=uuid.uuid4(),
    )
    old_kid = server.keys.signing().kid
    with session_scope(settings.database_url) as session:
        new_kid = oauth.rotate_signing_key(session).kid
    server.keys.reload()

    with app_client(settings) as client:
        response = client.get("/oauth/jwks")
    published = response.json()

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert [key["kid"] for key in published["keys"]] == [new_kid, old_kid]
    assert all("d" not in key for key in published["keys"])
    assert server.tokens.verify(old_token, (server.resources.mcp,)).audience == server.resources.mcp
    # Anyone holding the published keys can check the signature, as a resource server elsewhere would.
    assert jwt.decode(old_token, KeySet.import_key_set(published)).claims["aud"] == server.resources.mcp


# ---- registration (RFC 7591, RFC 7592) ---------------------------------------------------------------------


def test_a_public_client_registers_without_a_secret(client: TestClient, settings: Settings) -> None:
    response = client.post(
        "/oauth/register", json={**LOOPBACK_CLIENT, "client_name": "Claude Code", "some_extension": {"x": 1}}
    )
    registered = response.json()

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert registered["client_id"].startswith("vgc_")
    assert registered["token_endpoint_auth_method"] == "none"
    assert registered["redirect_uris"] == LOOPBACK_CLIENT["redirect_uris"]
    assert registered["grant_types"] == ["authorization_code", "refresh_token"]
    assert registered["client_name"] == "Claude Code"
    assert registered["registration_client_uri"] == f"http://127.0.0.1:8080/oauth/register/{registered['client_id']}"
    assert "client_secret" not in registered
    assert "some_extension" not in registered
    assert nulls(registered) == []
    found = anyio.run(find_client, oauth_server(settings), registered["client_id"])
    assert (found.client_name, found.token_endpoint_auth_method, found.is_metadata_document) == (
        "Claude Code",
        "none",
        False,
    )


def test_a_confidential_clients_secret_is_shown_once_and_stored_hashed(client: TestClient, settings: Settings) -> None:
    registered = register(client, token_endpoint_auth_method="client_secret_post")
    secret, token = registered["client_secret"], registered["registration_access_token"]

    with session_scope(settings.database_url) as session:
        row = session.get(OAuthClient, registered["client_id"])
        assert row is not None
        stored = json.dumps([row.client_metadata, row.secret_hash, row.registration_token_hash])
    read = client.get(f"/oauth/register/{registered['client_id']}", headers={"Authorization": f"Bearer {token}"})
    found = anyio.run(find_client, oauth_server(settings), registered["client_id"])

    assert registered["client_secret_expires_at"] == 0
    assert secret not in stored
    assert token not in stored
    assert hashlib.sha256(secret.encode()).hexdigest() in stored
    assert read.status_code == 200
    assert "client_secret" not in read.json()
    assert read.json()["registration_access_token"] not in (token, secret)
    assert found.authenticates(secret)
    assert not found.authenticates(secret + "x")
    assert not found.authenticates(None)


def test_a_client_that_names_no_auth_method_gets_a_secret(edge: TestClient) -> None:
    response = edge.post("/oauth/register", json={"redirect_uris": LOOPBACK_CLIENT["redirect_uris"]})
    registered = response.json()

    assert registered["token_endpoint_auth_method"] == "client_secret_post"
    assert registered["client_secret"]


def test_registering_the_same_metadata_twice_makes_two_clients(edge: TestClient) -> None:
    assert register(edge)["client_id"] != register(edge)["client_id"]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "com.example.app:/oauth/callback",
        "http://[::1]:8080/cb",
        "http://localhost/cb",
        "http://127.0.0.1:80/cb",
        "https://app.example.com/cb",
        # The dotless private-use schemes MCP clients register (Cursor, Claude's desktop app).
        "cursor://anysphere.cursor-mcp/oauth/callback",
        "claude://claude.ai/mcp-auth-callback/sdk",
    ],
)
def test_redirect_uris_a_client_may_register(edge: TestClient, redirect_uri: str) -> None:
    assert register(edge, redirect_uris=[redirect_uri])["redirect_uris"] == [redirect_uri]


@pytest.mark.parametrize(
    ("metadata", "error", "names"),
    [
        ({"redirect_uris": None}, "invalid_redirect_uri", "redirect_uris"),
        ({"redirect_uris": []}, "invalid_redirect_uri", "redirect_uris"),
        ({"redirect_uris": ["http://app.example.com/cb"]}, "invalid_redirect_uri", "loopback"),
        ({"redirect_uris": ["http://localhost.evil.com/cb"]}, "invalid_redirect_uri", "loopback"),
        # The scheme is not named back: a metadata document's text must not reach the consent page's errors.
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri", "never a redirect target"),
        ({"redirect_uris": ["data:text/html,hi"]}, "invalid_redirect_uri", "never a redirect target"),
        # Operating system handlers, not apps: a redirect there runs whatever the handler does with the URI.
        ({"redirect_uris": ["ms-msdt:/id%20PCWDiagnostic"]}, "invalid_redirect_uri", "never a redirect target"),
        ({"redirect_uris": ["ms-officecmd.x:/open"]}, "invalid_redirect_uri", "never a redirect target"),
        ({"redirect_uris": ["search-ms:query=x"]}, "invalid_redirect_uri", "never a redirect target"),
        # RFC 8252 §7.1: a private-use scheme is a reverse domain name.
        ({"redirect_uris": ["myapp:/callback"]}, "invalid_redirect_uri", "reverse domain name"),
        ({"redirect_uris": ["vscode://callback"]}, "invalid_redirect_uri", "reverse domain name"),
        # A port spelled otherwise than as its number names the same target under another URI.
        ({"redirect_uris": ["http://127.0.0.1:0080/cb"]}, "invalid_redirect_uri", "port"),
        ({"redirect_uris": ["http://127.0.0.1:/cb"]}, "invalid_redirect_uri", "port"),
        ({"redirect_uris": ["https://app.example.com:000443/cb"]}, "invalid_redirect_uri", "port"),
        ({"redirect_uris": ["https://app.example.com/cb#frag"]}, "invalid_redirect_uri", "fragment"),
        ({"redirect_uris": ["/callback"]}, "invalid_redirect_uri", "absolute"),
        ({"redirect_uris": ["https://user@app.example.com/cb"]}, "invalid_redirect_uri", "user"),
        (
            {"redirect_uris": [f"http://127.0.0.1:{port}/cb" for port in range(1000, 1021)]},
            "invalid_redirect_uri",
            "20",
        ),
        ({"redirect_uris": ["https://app.example.com/" + "a" * 2000]}, "invalid_redirect_uri", "2000"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "invalid_client_metadata", "token_endpoint_auth"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata", "token_endpoint_auth"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata", "grant_types"),
        ({"grant_types": ["refresh_token"]}, "invalid_client_metadata", "authorization_code"),
        ({"response_types": ["token"]}, "invalid_client_metadata", "response_types"),
        ({"scope": "vault:read vault:write"}, "invalid_client_metadata", "scopes beyond"),
        ({"client_name": "n" * 201}, "invalid_client_metadata", "client_name"),
        # Terminal escapes would reach `vaultgate users grants`; a right-to-left override would make the consent
        # page show another name than the one registered.
        ({"client_name": "Notes\r\x1b[2K\x1b[1A"}, "invalid_client_metadata", "client_name"),
        ({"client_name": "Notes \u202egnp.exe"}, "invalid_client_metadata", "client_name"),
        ({"logo_uri": "javascript:alert(1)"}, "invalid_client_metadata", "logo_uri"),
    ],
)
def test_metadata_this_server_refuses(edge: TestClient, metadata: Json, error: str, names: str) -> None:
    body = {key: value for key, value in {**LOOPBACK_CLIENT, **metadata}.items() if value is not None}
    response = edge.post("/oauth/register", json=body)

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert names in response.json()["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b"redirect_uris=x", "text/plain"),
        # Deeper than the JSON parser can recurse, well under the size bound.
        (b"[" * 60_000, "application/json"),
    ],
)
def test_a_body_that_is_no_json_object_is_refused(edge: TestClient, content: bytes, content_type: str) -> None:
    response = edge.post("/oauth/register", content=content, headers={"Content-Type": content_type})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


def test_an_oversized_registration_is_refused_before_it_is_read(edge: TestClient) -> None:
    body = json.dumps({**LOOPBACK_CLIENT, "padding": "x" * 70_000}).encode()
    response = edge.post("/oauth/register", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.json()["error"] == "invalid_client_metadata"


def test_registrations_from_one_address_are_throttled(sqlite_settings: Settings) -> None:
    with app_client(sqlite_settings, oauth_registrations_per_minute=2) as client:
        answers = [client.post("/oauth/register", json=LOOPBACK_CLIENT) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert answers[2].json()["error"] == "rate_limited"
    assert int(answers[2].headers["Retry-After"]) >= 1


def test_a_registration_is_read_and_deleted_with_its_own_token_only(
    client: TestClient, settings: Settings, tenants: Tenants
) -> None:
    registered, other = register(client), register(client)
    path = f"/oauth/register/{registered['client_id']}"
    bearer = {"Authorization": f"Bearer {registered['registration_access_token']}"}
    caller = tenants.caller()
    with session_scope(settings.database_url) as session:
        user = session.get(User, caller.user_id)
        assert user is not None
        grant = oauth.create_grant(
            session, user=user, mode=Mode.live, client_id=registered["client_id"], client_name="x", scopes=READ_SCOPES
        )
        grant_id = grant.id

    refusals = [
        client.get(path),
        client.get(path, headers={"Authorization": f"Bearer {other['registration_access_token']}"}),
        client.delete(path, headers={"Authorization": "Bearer wrong"}),
        client.get("/oauth/register/vgc_unknown", headers=bearer),
    ]
    read = client.get(path, headers=bearer)
    # The read answered the next token (RFC 7592 §3); the one it was read with no longer works.
    bearer_after_read = {"Authorization": f"Bearer {read.json()['registration_access_token']}"}
    stale = client.delete(path, headers=bearer)
    deleted = client.delete(path, headers=bearer_after_read)

    assert [refusal.status_code for refusal in refusals] == [401, 401, 401, 401]
    assert {refusal.json()["error"] for refusal in refusals} == {"invalid_token"}
    assert refusals[0].headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert read.status_code == 200
    assert read.json()["redirect_uris"] == LOOPBACK_CLIENT["redirect_uris"]
    assert read.json()["registration_client_uri"].endswith(path)
    assert stale.status_code == 401
    assert deleted.status_code == 204
    assert client.get(path, headers=bearer_after_read).status_code == 401
    with pytest.raises(ClientError):
        anyio.run(find_client, oauth_server(settings), registered["client_id"])
    with session_scope(settings.database_url) as session:
        revoked = session.scalar(select(OAuthGrant).where(OAuthGrant.id == grant_id))
        assert revoked is not None
        assert (revoked.revoked_at is not None, revoked.revoked_reason) == (True, "client_deleted")


def test_of_two_reads_with_one_token_only_the_first_rotates_it(client: TestClient, settings: Settings) -> None:
    registered = register(client)
    with session_scope(settings.database_url) as session:
        stale = live_client(session, registered["client_id"])
        assert stale is not None
        session.expunge(stale)
    with session_scope(settings.database_url) as session:
        record = live_client(session, registered["client_id"])
        assert record is not None
        first = rotate_registration_token(session, record)
    with session_scope(settings.database_url) as session:
        second = rotate_registration_token(session, stale)  # read before the first rotation

    assert first is not None
    assert second is None
    bearer = {"Authorization": f"Bearer {first}"}
    assert client.get(f"/oauth/register/{registered['client_id']}", headers=bearer).status_code == 200


def test_head_on_a_registration_is_refused_and_leaves_its_token_working(client: TestClient) -> None:
    registered = register(client)
    path = f"/oauth/register/{registered['client_id']}"
    bearer = {"Authorization": f"Bearer {registered['registration_access_token']}"}

    # A read rotates the token; a HEAD's answer (the new token) would be thrown away.
    head = client.head(path, headers=bearer)

    assert (head.status_code, head.headers["allow"]) == (405, "GET, DELETE")
    assert client.get(path, headers=bearer).status_code == 200


@pytest.mark.parametrize(
    "client_id", ["vgc_\x00", "a\x00b", "vgc_\x1b[2K", "https://app.example/\x00.json", "x" * 2049]
)
def test_a_client_id_the_database_could_not_hold_is_a_client_error(settings: Settings, client_id: str) -> None:
    # PostgreSQL refuses NUL in any string (psycopg raises), and a grant's row holds 2,048 characters of an id.
    with pytest.raises(ClientError) as refused:
        anyio.run(find_client, oauth_server(settings), client_id)

    assert refused.value.error == "invalid_client"


def test_a_registration_path_the_database_could_not_hold_is_an_unknown_client(client: TestClient) -> None:
    bearer = {"Authorization": "Bearer x"}

    assert client.get("/oauth/register/vgc_%00", headers=bearer).status_code == 401
    assert client.delete("/oauth/register/" + "a" * 300, headers=bearer).status_code == 401


def test_an_unknown_client_id_is_a_client_error(settings: Settings) -> None:
    with pytest.raises(ClientError) as refused:
        anyio.run(find_client, oauth_server(settings), "vgc_" + "0" * 32)

    assert refused.value.error == "invalid_client"


def test_registration_limits_in_the_contract_are_the_codes() -> None:
    schema = yaml.safe_load((ROOT / "openapi" / "oauth.yaml").read_text())["components"]["schemas"]
    request = schema["ClientMetadataRequest"]["properties"]

    assert request["redirect_uris"]["maxItems"] == client_metadata.MAX_REDIRECT_URIS
    assert request["redirect_uris"]["items"]["maxLength"] == client_metadata.MAX_URI_LENGTH
    assert request["client_name"]["maxLength"] == client_metadata.MAX_NAME_LENGTH
    assert request["token_endpoint_auth_method"]["enum"] == list(client_metadata.AUTH_METHODS)


# ---- redirect matching and client authentication ----------------------------------------------------------


def client_with(*redirect_uris: str, method: str = "none", secret_hash: str | None = None) -> Client:
    return Client("vgc_x", "x", redirect_uris, method, secret_hash, is_metadata_document=False)


@pytest.mark.parametrize(
    ("registered", "asked", "admitted"),
    [
        ("http://127.0.0.1/callback", "http://127.0.0.1:53211/callback", True),
        ("http://127.0.0.1:3000/callback", "http://127.0.0.1:4000/callback", True),
        ("http://[::1]/callback", "http://[::1]:8080/callback", True),
        ("http://localhost:1/callback", "http://localhost:2/callback", True),
        ("http://127.0.0.1/callback", "http://127.0.0.1:53211/other", False),
        ("http://127.0.0.1/callback?a=1", "http://127.0.0.1:53211/callback?a=2", False),
        ("http://127.0.0.1/callback", "http://127.0.0.1:53211/callback#x", False),
        ("http://127.0.0.1/callback", "http://localhost:53211/callback", False),
        ("http://localhost/callback", "http://localhost.evil.com:53211/callback", False),
        ("http://127.0.0.1/callback", "http://user@127.0.0.1:53211/callback", False),
        ("https://app.example.com/cb", "https://app.example.com/cb", True),
        ("https://app.example.com/cb", "https://app.example.com:8443/cb", False),
        ("https://app.example.com/cb", "https://app.example.com/cb/", False),
        ("com.example.app:/cb", "com.example.app:/cb", True),
        # A port spelled with zeros is the same port to a browser, and could pad the URI past what a code holds.
        ("http://127.0.0.1/callback", "http://127.0.0.1:" + "0" * 2100 + "80/callback", False),
        ("http://127.0.0.1/callback", "http://127.0.0.1:080/callback", False),
        ("http://127.0.0.1/callback", "http://127.0.0.1:/callback", False),
        ("http://127.0.0.1/" + "a" * 1990, "http://127.0.0.1:53211/" + "a" * 1990, False),
        # Registered before these rules: asked for, refused all the same.
        ("ms-msdt:/id%20PCWDiagnostic", "ms-msdt:/id%20PCWDiagnostic", False),
    ],
)
def test_loopback_redirects_match_on_any_port_and_others_exactly(registered: str, asked: str, admitted: bool) -> None:
    assert client_with(registered).admits_redirect(asked) is admitted


def test_a_public_client_that_sends_a_secret_is_refused() -> None:
    assert client_with("http://127.0.0.1/cb").authenticates(None)
    assert not client_with("http://127.0.0.1/cb").authenticates("a secret")


# ---- Client ID Metadata Documents ---------------------------------------------------------------------------

Respond = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class DocumentServer:
    """A tiny HTTP(S) server on loopback serving whatever each path's responder writes."""

    base: str
    routes: dict[str, Respond] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def url(self, path: str, as_host: str | None = None) -> str:
        return f"{self.base}{path}" if as_host is None else f"http://{as_host}:{self.port}{path}"

    def serve_document(
        self, path: str, document: Json | None = None, *, as_host: str | None = None, **headers: str
    ) -> str:
        """Serve a good document at `path`, its URL naming `as_host` (which must resolve to loopback) if given."""
        url = self.url(path, as_host)
        body = json.dumps({"client_id": url, "client_name": "Inspector", **LOOPBACK_CLIENT} | (document or {}))
        self.routes[path] = answer(200, body.encode(), {"Content-Type": "application/json", **headers})
        return url


def answer(status: int, body: bytes, headers: dict[str, str]) -> Respond:
    def respond(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(body)

    return respond


@contextmanager
def document_server(context: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> Iterator[DocumentServer]:
    served: DocumentServer

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests.append((self.path, self.headers.get("Host", "")))
            served.headers.append(dict(self.headers))
            served.routes.get(self.path, answer(404, b"{}", {"Content-Type": "application/json"}))(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    if context is not None:
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    scheme = "https" if context else "http"
    served = DocumentServer(f"{scheme}://{host}:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def no_document_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with nothing cached: the process-wide caches would otherwise carry one test's hosts on."""
    for cache in ("_cache", "_host_failures", "_flights"):
        monkeypatch.setattr(cimd, cache, {})
    monkeypatch.setattr(cimd, "_fetching_for", set())


@pytest.fixture
def documents() -> Iterator[DocumentServer]:
    with document_server() as served:
        yield served


HANG = "hang"


@dataclass
class NameService:
    """Answers for names under .test instead of the system resolver's: an address, a gaierror code, or HANG."""

    answers: dict[str, str | int] = field(default_factory=dict)
    # Set when the test is over: lookups that hang until then end.
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> Iterator[NameService]:
    service, system_lookup = NameService(), socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if not (isinstance(host, str) and host.endswith(".test")):
            return system_lookup(host, port, *args, **kwargs)
        answer = service.answers.get(host, socket.EAI_NONAME)
        if answer == HANG:
            service.release.wait(30)
            answer = socket.EAI_AGAIN  # what a resolver says when its name server never answers
        if isinstance(answer, int):
            raise socket.gaierror(answer, "no answer")
        return system_lookup(answer, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield service
    service.release.set()
    # The lookup threads are the process's: the next test starts with all of them free.
    wait_for_lookups_to_end()


def wait_for_lookups_to_end() -> None:
    for _ in range(500):
        if not cimd._lookups._running:
            break
        time.sleep(0.01)


def cimd_server(tmp_path: Path, *, allow_private: bool, **overrides: Any) -> OAuthServer:
    # A URL client_id never touches the database: an unmigrated file is enough. The issuer is not on loopback,
    # where the documents are served: a document on the issuer's own host is refused.
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        oauth_allow_private_cimd=allow_private,
        **{"public_url": ISSUER, **overrides},
    )
    return oauth_server(settings)


def lookup(server: OAuthServer, client_id: str, address: str | None = None) -> Client:
    return anyio.run(partial(find_client, server, client_id, address=address))


def refusal(server: OAuthServer, client_id: str, error: str = "invalid_client", address: str | None = None) -> str:
    with pytest.raises(ClientError) as refused:
        lookup(server, client_id, address)
    assert refused.value.error == error
    return refused.value.description


def unfetched(url: str) -> str:
    """What a caller is told of a document that could not be fetched, whatever the reason (logged, not told)."""
    host = url.split("/")[2].rsplit(":", 1)[0]
    return f"The client's metadata document at {host} could not be fetched or is not a valid client metadata document."


def test_a_metadata_document_names_its_client(tmp_path: Path, documents: DocumentServer) -> None:
    url = documents.serve_document("/client.json")

    found = lookup(cimd_server(tmp_path, allow_private=True), url)

    assert found.client_id == url
    assert found.client_name == "Inspector"
    assert found.is_metadata_document
    assert found.token_endpoint_auth_method == "none"
    assert found.redirect_uris == tuple(LOOPBACK_CLIENT["redirect_uris"])
    assert found.admits_redirect("http://127.0.0.1:40000/callback")
    assert not found.admits_redirect("http://127.0.0.1:40000/elsewhere")


def test_a_good_document_is_cached_and_a_no_store_one_is_not(tmp_path: Path, documents: DocumentServer) -> None:
    server = cimd_server(tmp_path, allow_private=True)
    cached = documents.serve_document("/cached.json")
    fresh = documents.serve_document("/fresh.json", Cache_Control="no-store")

    for _ in range(2):
        lookup(server, cached)
        lookup(server, fresh)

    assert [path for path, _ in documents.requests] == ["/cached.json", "/fresh.json", "/fresh.json"]


def test_a_document_on_a_private_address_is_refused_unless_allowed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = cimd_server(tmp_path, allow_private=False)

    # Refused before any connection: nothing listens on these ports.
    with caplog.at_level(logging.INFO, logger="gateway.oauth.cimd"):
        assert refusal(server, "https://localhost:9/client.json") == unfetched("https://localhost:9/client.json")
        assert refusal(server, "https://10.1.2.3/client.json") == unfetched("https://10.1.2.3/client.json")
    assert "https" in refusal(server, "http://127.0.0.1:9/client.json")
    # Told to the operator, not to the caller, who could map the network with it.
    assert "127.0.0.1" in caplog.text
    assert "10.1.2.3, not a public address" in caplog.text


def test_a_name_resolving_to_any_private_address_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def public_and_private(host: str, port: int, *, caller: str | None = None) -> list[cimd.Address]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("169.254.169.254")]

    monkeypatch.setattr(cimd, "resolve", public_and_private)
    url = "https://app.example/client.json"

    with caplog.at_level(logging.INFO, logger="gateway.oauth.cimd"):
        assert refusal(cimd_server(tmp_path, allow_private=False), url) == unfetched(url)
    assert "169.254.169.254, not a public address" in caplog.text


def test_the_fetch_connects_to_the_vetted_address_without_a_second_lookup(
    tmp_path: Path, documents: DocumentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []

    async def vetted(host: str, port: int, *, caller: str | None = None) -> list[cimd.Address]:
        lookups.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(cimd, "resolve", vetted)
    port = documents.base.rsplit(":", 1)[1]
    # `.invalid` never resolves (RFC 6761): the document arrives only through the vetted address.
    url = f"http://client.invalid:{port}/client.json"
    documents.routes["/client.json"] = answer(
        200, json.dumps({"client_id": url, **LOOPBACK_CLIENT}).encode(), {"Content-Type": "application/json"}
    )

    found = lookup(cimd_server(tmp_path, allow_private=True), url)

    assert found.client_id == url
    assert lookups == ["client.invalid"]
    assert documents.requests == [("/client.json", f"client.invalid:{port}")]


@pytest.mark.parametrize(
    ("respond", "names"),
    [
        (
            lambda url: answer(
                200,
                json.dumps({"client_id": url + "x", **LOOPBACK_CLIENT}).encode(),
                {"Content-Type": "application/json"},
            ),
            "client_id",
        ),
        (lambda url: answer(200, b"{" + b" " * 70_000 + b"}", {"Content-Type": "application/json"}), "64 KiB"),
        (lambda url: answer(200, b"{nope", {"Content-Type": "application/json"}), "not valid JSON"),
        # Deeper than the JSON parser can recurse, well under the size bound.
        (lambda url: answer(200, b"[" * 60_000, {"Content-Type": "application/json"}), "not valid JSON"),
        (lambda url: answer(200, b"[]", {"Content-Type": "application/json"}), "JSON object"),
        (
            lambda url: answer(
                200,
                json.dumps(
                    {"client_id": url, **LOOPBACK_CLIENT, "token_endpoint_auth_method": "private_key_jwt"}
                ).encode(),
                {"Content-Type": "application/json"},
            ),
            "none",
        ),
        (
            lambda url: answer(
                200,
                json.dumps({"client_id": url, "redirect_uris": ["javascript:alert(1)"]}).encode(),
                {"Content-Type": "application/json"},
            ),
            "redirect_uris",
        ),
        (
            lambda url: answer(
                200,
                json.dumps({"client_id": url, "redirect_uris": ["ms-msdt:/id%20PCWDiagnostic"]}).encode(),
                {"Content-Type": "application/json"},
            ),
            "never a redirect target",
        ),
    ],
)
def test_a_document_its_author_must_fix_is_a_clear_client_error(
    tmp_path: Path, documents: DocumentServer, respond: Callable[[str], Respond], names: str
) -> None:
    path = f"/{uuid.uuid4().hex}.json"
    documents.routes[path] = respond(documents.url(path))

    refused = refusal(cimd_server(tmp_path, allow_private=True), documents.url(path))
    assert names in refused
    assert "PCWDiagnostic" not in refused


@pytest.mark.parametrize(
    ("respond", "logged"),
    [
        (lambda url: answer(200, b"<html></html>", {"Content-Type": "text/html"}), "text/html"),
        (lambda url: answer(302, b"", {"Location": "http://127.0.0.1:9/x.json"}), "HTTP 302"),
        (lambda url: answer(500, b"{}", {"Content-Type": "application/json"}), "HTTP 500"),
    ],
)
def test_a_document_that_cannot_be_fetched_is_one_generic_client_error(
    tmp_path: Path,
    documents: DocumentServer,
    caplog: pytest.LogCaptureFixture,
    respond: Callable[[str], Respond],
    logged: str,
) -> None:
    path = f"/{uuid.uuid4().hex}.json"
    documents.routes[path] = respond(documents.url(path))

    with caplog.at_level(logging.INFO, logger="gateway.oauth.cimd"):
        told = refusal(cimd_server(tmp_path, allow_private=True), documents.url(path))

    assert told == unfetched(documents.url(path))
    assert logged in caplog.text


def test_an_oversized_document_without_a_length_is_cut_off(tmp_path: Path, documents: DocumentServer) -> None:
    def endless(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        # The reader hangs up past 64 KiB, which is the point: not an error of this server's.
        with suppress(ConnectionError):
            for _ in range(20):
                handler.wfile.write(b" " * 8192)

    documents.routes["/endless.json"] = endless

    assert "64 KiB" in refusal(cimd_server(tmp_path, allow_private=True), documents.url("/endless.json"))


@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip"])
def test_a_compressed_document_is_refused_unread(
    tmp_path: Path, documents: DocumentServer, caplog: pytest.LogCaptureFixture, encoding: str
) -> None:
    url = documents.url("/client.json")
    body = json.dumps({"client_id": url, **LOOPBACK_CLIENT}).encode()
    for _ in encoding.split(","):
        body = gzip.compress(body)
    documents.routes["/client.json"] = answer(
        200, body, {"Content-Type": "application/json", "Content-Encoding": encoding}
    )

    with caplog.at_level(logging.INFO, logger="gateway.oauth.cimd"):
        told = refusal(cimd_server(tmp_path, allow_private=True), url)

    # Stacked, a few hundred bytes inflate to gigabytes: what arrives is what is counted, and nothing is inflated.
    assert told == unfetched(url)
    assert f"Content-Encoding {encoding}, though asked for identity" in caplog.text


def test_a_fetch_asks_for_an_uncompressed_document_and_says_who_fetches(
    tmp_path: Path, documents: DocumentServer
) -> None:
    lookup(cimd_server(tmp_path, allow_private=True), documents.serve_document("/client.json"))

    [headers] = documents.headers
    assert headers["Accept-Encoding"] == "identity"
    assert headers["User-Agent"] == f"Vaultgate-CIMD/1 (+{ISSUER})"


def test_a_host_that_stalls_before_its_first_byte_is_given_up_on_early(
    tmp_path: Path, documents: DocumentServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(cimd, "STEP_TIMEOUT_SECONDS", 0.1)

    def stalled(handler: http.server.BaseHTTPRequestHandler) -> None:
        documents.release.wait(30)  # set when the test is over

    documents.routes["/stalled.json"] = stalled
    started = time.monotonic()

    with caplog.at_level(logging.INFO, logger="gateway.oauth.cimd"):
        refusal(cimd_server(tmp_path, allow_private=True), documents.url("/stalled.json"))

    # Not the whole fetch's time: a tarpit holds one of the process's few fetches only that long.
    assert time.monotonic() - started < cimd.FETCH_TIMEOUT_SECONDS / 2
    assert "ReadTimeout" in caplog.text


def test_a_document_that_does_not_arrive_in_time_is_a_client_error(
    tmp_path: Path, documents: DocumentServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(cimd, "FETCH_TIMEOUT_SECONDS", 0.2)

    def never_in_time(handler: http.server.BaseHTTPRequestHandler) -> None:
        documents.release.wait(30)  # set when the test is over

    documents.routes["/slow.json"] = never_in_time
    server = cimd_server(tmp_path, allow_private=True)

    with caplog.at_level(logging.INFO, logger="gateway.oauth.cimd"):
        told = refusal(server, documents.url("/slow.json"))
    documents.serve_document("/other.json")

    assert told == unfetched(documents.url("/slow.json"))
    assert "no answer within 0.2 s" in caplog.text
    # The host answered the connection: only that path is slow, and the host's other documents still serve.
    assert lookup(server, documents.url("/other.json")).client_name == "Inspector"


def test_a_failed_document_is_remembered_for_a_while(tmp_path: Path, documents: DocumentServer) -> None:
    server = cimd_server(tmp_path, allow_private=True)
    url = documents.url("/late.json")
    first = refusal(server, url)
    documents.serve_document("/late.json")

    assert refusal(server, url) == first
    assert len(documents.requests) == 1


def test_lookups_of_one_url_under_way_share_one_fetch(tmp_path: Path, documents: DocumentServer) -> None:
    server = cimd_server(tmp_path, allow_private=True)
    # Not cached: without the shared fetch, every lookup would fetch its own.
    url = documents.serve_document("/client.json", Cache_Control="no-store")
    found: list[Client] = []

    async def lookups() -> None:
        async def one() -> None:
            found.append(await find_client(server, url))

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(one)

    anyio.run(lookups)

    assert [client.client_name for client in found] == ["Inspector"] * 5
    assert len(documents.requests) == 1


def test_past_the_fetches_a_process_allows_at_once_a_lookup_is_told_to_retry(
    tmp_path: Path, documents: DocumentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cimd, "MAX_CONCURRENT_FETCHES", 1)
    server = cimd_server(tmp_path, allow_private=True)
    arrived, go_on = threading.Event(), threading.Event()
    slow = documents.serve_document("/slow.json")
    answer_slow = documents.routes["/slow.json"]

    def held(handler: http.server.BaseHTTPRequestHandler) -> None:
        arrived.set()
        go_on.wait(30)
        answer_slow(handler)

    documents.routes["/slow.json"] = held
    other = documents.serve_document("/other.json")
    outcomes: dict[str, object] = {}

    async def both() -> None:
        async def first() -> None:
            outcomes["slow"] = (await find_client(server, slow)).client_name

        async with anyio.create_task_group() as group:
            group.start_soon(first)
            await to_thread.run_sync(arrived.wait, 30)
            try:
                await find_client(server, other)
            except ClientError as exc:
                outcomes["other"] = (exc.error, exc.retry_after)
            go_on.set()

    anyio.run(both)

    assert outcomes == {"slow": "Inspector", "other": ("temporarily_unavailable", 1)}
    # Nothing was remembered of the refusal: the same lookup succeeds once a fetch is free.
    assert lookup(server, other).client_name == "Inspector"


def test_the_tls_context_is_built_once_and_off_the_event_loop(
    tmp_path: Path, documents: DocumentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    built_on: list[threading.Thread] = []
    create_ssl_context = httpx.create_ssl_context

    def counted() -> ssl.SSLContext:
        built_on.append(threading.current_thread())
        return create_ssl_context()

    monkeypatch.setattr(httpx, "create_ssl_context", counted)
    monkeypatch.setattr(cimd, "_tls_contexts", {})
    server = cimd_server(tmp_path, allow_private=True)

    for path in ("/one.json", "/two.json", "/three.json"):
        lookup(server, documents.serve_document(path))

    # Building it takes tens of milliseconds, which on the event loop would stall every request each fetch.
    assert len(built_on) == 1
    assert built_on[0] is not threading.main_thread()


def test_a_host_that_cannot_be_reached_is_remembered_for_every_path_on_it(
    tmp_path: Path, documents: DocumentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []

    async def loopback(host: str, port: int, *, caller: str | None = None) -> list[cimd.Address]:
        lookups.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(cimd, "resolve", loopback)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://dead.invalid:{closed.getsockname()[1]}"
        server = cimd_server(tmp_path, allow_private=True)
        told = [refusal(server, f"{dead}/{index}.json") for index in range(3)]

    assert told == [unfetched(f"{dead}/0.json")] * 3
    assert lookups == ["dead.invalid"]


def test_a_host_whose_connections_time_out_is_not_remembered_for_every_path_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(cimd, "STEP_TIMEOUT_SECONDS", 0.1)
    lookups: list[str] = []

    async def loopback(host: str, port: int, *, caller: str | None = None) -> list[cimd.Address]:
        lookups.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(cimd, "resolve", loopback)
    server = cimd_server(tmp_path, allow_private=True)
    with socket.socket() as full, socket.socket() as queued, caplog.at_level(logging.INFO, logger="gateway.oauth.cimd"):
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        # One connection fills the backlog: later ones go unanswered, as a tarpit's do.
        queued.connect(full.getsockname())
        for index in range(2):
            refusal(server, f"http://slow.invalid:{full.getsockname()[1]}/{index}.json")

    assert "ConnectTimeout" in caplog.text
    assert lookups == ["slow.invalid"] * 2


def test_a_path_that_fails_on_a_live_host_does_not_shut_its_other_paths_out(
    tmp_path: Path, documents: DocumentServer
) -> None:
    server = cimd_server(tmp_path, allow_private=True)
    url = documents.serve_document("/client.json")

    refusal(server, documents.url("/missing.json"))  # 404

    assert lookup(server, url).client_name == "Inspector"


def test_each_address_may_make_this_server_fetch_a_few_documents_a_minute(
    tmp_path: Path, documents: DocumentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clients, "FETCHES_PER_MINUTE_PER_ADDRESS", 2)
    server = cimd_server(tmp_path, allow_private=True)
    urls = [documents.serve_document(f"/{index}.json") for index in range(3)]

    lookup(server, urls[0], address="203.0.113.7")
    lookup(server, urls[1], address="203.0.113.7")
    throttled = refusal(server, urls[2], "temporarily_unavailable", address="203.0.113.7")

    assert "for this address" in throttled
    assert [path for path, _ in documents.requests] == ["/0.json", "/1.json"]
    # Only fetches count: a cached document is still found, and another address has its own allowance.
    assert lookup(server, urls[0], address="203.0.113.7").client_name == "Inspector"
    assert lookup(server, urls[2], address="198.51.100.4").client_name == "Inspector"


def test_callers_that_name_no_address_share_one_allowance(
    tmp_path: Path, documents: DocumentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clients, "UNATTRIBUTED_FETCHES_PER_MINUTE", 1)
    server = cimd_server(tmp_path, allow_private=True)

    lookup(server, documents.serve_document("/one.json"))
    refusal(server, documents.serve_document("/two.json"), "temporarily_unavailable")

    assert len(documents.requests) == 1


@pytest.mark.parametrize(
    ("answer", "for_every_path"), [(socket.EAI_NONAME, True), (HANG, False), (socket.EAI_AGAIN, False)]
)
def test_only_a_name_that_does_not_exist_is_remembered_for_every_path_on_its_host(
    tmp_path: Path,
    documents: DocumentServer,
    names: NameService,
    monkeypatch: pytest.MonkeyPatch,
    answer: str | int,
    for_every_path: bool,
) -> None:
    monkeypatch.setattr(cimd, "STEP_TIMEOUT_SECONDS", 0.1)
    server = cimd_server(tmp_path, allow_private=True)
    names.answers["flaky.test"] = answer
    refusal(server, documents.url("/first.json", as_host="flaky.test"))
    names.answers["flaky.test"] = "127.0.0.1"
    url = documents.serve_document("/client.json", as_host="flaky.test")

    if for_every_path:
        refusal(server, url)
        assert documents.requests == []
    else:
        # A name server slow on purpose, or failing for now, must not shut the host's documents out.
        assert lookup(server, url).client_name == "Inspector"


def test_while_lookups_that_never_answer_hold_every_lookup_thread_a_lookup_is_told_to_retry(
    tmp_path: Path, documents: DocumentServer, names: NameService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cimd, "STEP_TIMEOUT_SECONDS", 0.1)
    monkeypatch.setattr(cimd, "MAX_CONCURRENT_LOOKUPS", 2)
    names.answers |= {"tarpit.test": HANG, "legit.test": "127.0.0.1"}
    server = cimd_server(tmp_path, allow_private=True)
    legit = documents.serve_document("/client.json", as_host="legit.test")

    # Each fetch gives up on its lookup; the lookup's thread waits on for the name server.
    for index in range(2):
        refusal(server, documents.url(f"/{index}.json", as_host="tarpit.test"))
    busy = refusal(server, legit, "temporarily_unavailable")
    names.release.set()
    wait_for_lookups_to_end()

    assert "Retry" in busy
    # Told to retry, not a failure remembered: the same lookup succeeds once a thread is free.
    assert lookup(server, legit).client_name == "Inspector"


def test_an_address_whose_lookup_still_runs_fetches_nothing_else_until_it_ends(
    tmp_path: Path, documents: DocumentServer, names: NameService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cimd, "STEP_TIMEOUT_SECONDS", 0.1)
    names.answers |= {"tarpit.test": HANG, "legit.test": "127.0.0.1"}
    server = cimd_server(tmp_path, allow_private=True)
    legit = documents.serve_document("/client.json", as_host="legit.test")

    refusal(server, documents.url("/c.json", as_host="tarpit.test"), address="203.0.113.9")
    busy = refusal(server, legit, "temporarily_unavailable", address="203.0.113.9")

    assert "this address" in busy
    # One address holds one lookup thread at most, however many documents it names.
    assert lookup(server, legit, address="198.51.100.4").client_name == "Inspector"


def test_one_addresss_stalled_fetches_do_not_starve_another_address(tmp_path: Path, documents: DocumentServer) -> None:
    server = cimd_server(tmp_path, allow_private=True)
    arrived, go_on = threading.Event(), threading.Event()

    def stalled(handler: http.server.BaseHTTPRequestHandler) -> None:
        arrived.set()
        go_on.wait(30)  # then hangs up without an answer

    stalled_urls = [documents.url(f"/stalled-{index}.json") for index in range(cimd.MAX_CONCURRENT_FETCHES)]
    for url in stalled_urls:
        documents.routes[url.removeprefix(documents.base)] = stalled
    legit = documents.serve_document("/client.json")
    attacker_told: list[str] = []

    async def attack_and_look_up() -> Client:
        async def attack(url: str) -> None:
            with pytest.raises(ClientError) as refused:
                await find_client(server, url, address="203.0.113.9")
            attacker_told.append(refused.value.error)

        async with anyio.create_task_group() as group:
            for url in stalled_urls:
                group.start_soon(attack, url)
            await to_thread.run_sync(arrived.wait, 30)
            try:
                found = await find_client(server, legit, address="198.51.100.4")
            finally:
                go_on.set()
        return found

    assert anyio.run(attack_and_look_up).client_name == "Inspector"
    assert sorted(attacker_told) == ["invalid_client"] + ["temporarily_unavailable"] * (len(stalled_urls) - 1)


@pytest.mark.parametrize(
    "client_id",
    [
        "http://127.0.0.1:8080/oauth/authorize?client_id=http://127.0.0.1:8080/x/end",
        "http://127.0.0.1:9999/client.json",
        "http://LOCALHOST:8080/client.json",
    ],
)
def test_a_client_id_on_this_servers_own_host_is_refused_without_a_fetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_id: str
) -> None:
    async def no_lookup(host: str, port: int, *, caller: str | None = None) -> list[cimd.Address]:
        raise AssertionError("no fetch is tried")

    monkeypatch.setattr(cimd, "resolve", no_lookup)
    issuer = "http://localhost:8080" if "LOCALHOST" in client_id else "http://127.0.0.1:8080"
    server = cimd_server(tmp_path, allow_private=True, public_url=issuer)

    assert "this server" in refusal(server, client_id)


@pytest.mark.parametrize(
    "spelling", ["localhost", "127.1", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]", "127.0.0.2", "0"]
)
def test_another_spelling_of_this_servers_address_is_refused_without_a_request(
    tmp_path: Path, documents: DocumentServer, spelling: str
) -> None:
    # The document server plays this server: its issuer is 127.0.0.1 on the same port.
    url = documents.serve_document("/client.json", as_host=spelling)
    server = cimd_server(tmp_path, allow_private=True, public_url=f"http://127.0.0.1:{documents.port}")

    assert refusal(server, url) == cimd.POINTS_AT_THIS_SERVER
    assert documents.requests == []


def test_a_document_where_this_server_listens_is_refused_whatever_its_issuer(
    tmp_path: Path, documents: DocumentServer
) -> None:
    # A proxy answers for the issuer; this server listens on loopback behind it.
    url = documents.serve_document("/client.json", as_host="localhost")
    server = cimd_server(tmp_path, allow_private=True, host="127.0.0.1", port=documents.port)

    assert refusal(server, url) == cimd.POINTS_AT_THIS_SERVER
    assert documents.requests == []


def test_a_nameless_documents_name_holds_no_control_or_format_characters() -> None:
    client_id = "https://apps.example.net/\u202eppa-diputs\u200b.json"

    found = Client.of(client_id, LOOPBACK_CLIENT, secret_hash=None, is_metadata_document=True)

    # Shown on the consent page, stored in the grant, printed by `vaultgate users grants`.
    assert found.client_name == "apps.example.net/?ppa-diputs?.json"


def test_a_document_without_a_name_is_shown_by_a_name_that_fits_a_grant(
    tmp_path: Path, documents: DocumentServer, settings: Settings, tenants: Tenants
) -> None:
    url = documents.url("/" + "a" * 250)
    documents.routes["/" + "a" * 250] = answer(
        200, json.dumps({"client_id": url, **LOOPBACK_CLIENT}).encode(), {"Content-Type": "application/json"}
    )
    found = lookup(cimd_server(tmp_path, allow_private=True), url)
    caller = tenants.caller()

    # The grant's row holds 200 characters of a name (PostgreSQL refuses more).
    with session_scope(settings.database_url) as session:
        user = session.get(User, caller.user_id)
        assert user is not None
        grant = oauth.create_grant(
            session, user=user, mode=Mode.live, client_id=url, client_name=found.client_name, scopes=READ_SCOPES
        )
        assert grant.client_name == found.client_name
    assert len(found.client_name) == 200
    assert found.client_name.startswith(url.removeprefix("http://")[:199])
    assert found.client_name.endswith("…")


@pytest.mark.parametrize(
    "client_id",
    [
        "https://app.example/",
        "https://app.example",
        "https://app.example/a/../client.json",
        "https://app.example/a/%2e%2e/client.json",
        "https://app.example/./client.json",
        "https://user:pw@app.example/client.json",
        "https://app.example/client.json#x",
        "https://app.example/" + "a" * 2000,
        # Hosts and ports the URL parser takes but no lookup could use (the IDNA codec or the resolver refuse
        # them, a 500 before these checks).
        "https://xn--zz.com/x",
        "https://xn--.com/x",
        "https://a..b/x",
        "https://-a.com/x",
        "https://" + "a" * 64 + ".com/x",
        "https://app.example./x",
        "https://app.example:99999/x",
        "https://app.example:0/x",
        "https://a\u200d.com/x",
        "https://[::1/x",
    ],
)
def test_a_client_id_url_that_cannot_name_a_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_id: str
) -> None:
    async def no_lookup(host: str, port: int, *, caller: str | None = None) -> list[cimd.Address]:
        raise AssertionError("refused before any lookup")

    monkeypatch.setattr(cimd, "resolve", no_lookup)

    refusal(cimd_server(tmp_path, allow_private=False), client_id)


def test_an_https_document_is_fetched_from_the_vetted_address_with_the_certificate_checked_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = cimd_server(tmp_path, allow_private=True)
    with document_server(context, host="localhost") as served, caplog.at_level(logging.INFO, "gateway.oauth.cimd"):
        untrusted_url = served.serve_document("/client.json")
        untrusted = refusal(server, untrusted_url)
    # How a test (or an operator with a private CA) makes this server trust a certificate. Another port: a
    # certificate failure is the host's, remembered for every path on it.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with document_server(context, host="localhost") as served:
        url = served.serve_document("/client.json")
        found = lookup(server, url)

    assert untrusted == unfetched(untrusted_url)
    assert "certificate verify failed" in caplog.text
    assert found.client_id == url


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("ff02::1", False),
        # 6to4 carries an IPv4 address: judged as that one.
        ("2002:7f00:1::1", False),
        ("2002:a00:1::1", False),
        ("2002:5db8:d822::1", True),
        # Site-local (deprecated) and Teredo reach networks the check cannot see into.
        ("fec0::1", False),
        ("2001:0:5ef5:79fd::1", False),
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert cimd.is_public(ipaddress.ip_address(address)) is public


def test_the_token_endpoint_refuses_a_document_client_it_cannot_fetch(edge: TestClient) -> None:
    response = edge.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "client_id": "https://localhost:9/client.json", "code": "x"},
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"] == unfetched("https://localhost:9/client.json")


# ---- CORS, unknown paths and methods ------------------------------------------------------------------------

CORS_PATHS = [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-protected-resource/mcp",
    "/oauth/jwks",
    "/oauth/register",
    "/oauth/token",
    "/oauth/revoke",
]


@pytest.mark.parametrize("path", CORS_PATHS)
def test_browser_clients_may_call_the_machine_endpoints(edge: TestClient, path: str) -> None:
    preflight = edge.options(
        path,
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version",
        },
    )
    actual = (edge.get if path.startswith("/.well-known") or path == "/oauth/jwks" else edge.post)(
        path, headers={"Origin": "https://app.example"}
    )

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert {"Authorization", "Content-Type", "MCP-Protocol-Version"} <= {
        name.strip() for name in preflight.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert int(preflight.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    assert actual.headers["Access-Control-Allow-Origin"] == "*"
    assert "WWW-Authenticate" in actual.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in actual.headers


def test_the_consent_page_is_not_open_to_other_origins(edge: TestClient) -> None:
    page = edge.get("/oauth/authorize", headers={"Origin": "https://app.example"})
    preflight = edge.options(
        "/oauth/authorize", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    )

    assert "Access-Control-Allow-Origin" not in page.headers
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert preflight.status_code == 405


def test_unknown_paths_and_methods_answer_json(edge: TestClient) -> None:
    unknown = edge.get("/oauth/nothing-here")
    wrong_method = edge.put("/oauth/register")

    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]) == (405, "method_not_allowed")
    assert wrong_method.headers["Allow"] == "POST"
    assert wrong_method.headers["Content-Type"] == "application/json"
