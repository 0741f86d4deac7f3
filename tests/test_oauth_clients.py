"""OAuth clients: discovery documents, dynamic registration (RFC 7591/7592), Client ID Metadata Documents, CORS."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import ipaddress
import json
import shutil
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.app import create_app
from gateway.contract import load_contract
from gateway.oauth import cimd, client_metadata
from gateway.oauth.clients import Client, ClientError, find_client
from gateway.oauth.resources import OAuthServer
from storage import oauth
from storage.database import dispose_engine, session_scope
from storage.models import Mode, OAuthClient, OAuthGrant, User
from tests.conftest import ROOT, Tenants

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
    assert "registration_access_token" not in read.json()
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
    ["com.example.app:/oauth/callback", "http://[::1]:8080/cb", "http://localhost/cb", "https://app.example.com/cb"],
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
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri", "javascript"),
        ({"redirect_uris": ["data:text/html,hi"]}, "invalid_redirect_uri", "data"),
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
        ({"scope": "vault:read vault:write"}, "invalid_client_metadata", "vault:write"),
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
    [(b"{not json", "application/json"), (b"[]", "application/json"), (b"redirect_uris=x", "text/plain")],
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
    deleted = client.delete(path, headers=bearer)

    assert [refusal.status_code for refusal in refusals] == [401, 401, 401, 401]
    assert {refusal.json()["error"] for refusal in refusals} == {"invalid_token"}
    assert refusals[0].headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert read.status_code == 200
    assert read.json()["redirect_uris"] == LOOPBACK_CLIENT["redirect_uris"]
    assert read.json()["registration_client_uri"].endswith(path)
    assert deleted.status_code == 204
    assert client.get(path, headers=bearer).status_code == 401
    with pytest.raises(ClientError):
        anyio.run(find_client, oauth_server(settings), registered["client_id"])
    with session_scope(settings.database_url) as session:
        revoked = session.scalar(select(OAuthGrant).where(OAuthGrant.id == grant_id))
        assert revoked is not None
        assert (revoked.revoked_at is not None, revoked.revoked_reason) == (True, "client_deleted")


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
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def serve_document(self, path: str, document: Json | None = None, **headers: str) -> str:
        url = self.url(path)
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


@pytest.fixture
def documents() -> Iterator[DocumentServer]:
    with document_server() as served:
        yield served


def cimd_server(tmp_path: Path, *, allow_private: bool) -> OAuthServer:
    # A URL client_id never touches the database: an unmigrated file is enough.
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}", oauth_allow_private_cimd=allow_private)
    return oauth_server(settings)


def lookup(server: OAuthServer, client_id: str) -> Client:
    return anyio.run(find_client, server, client_id)


def refusal(server: OAuthServer, client_id: str) -> str:
    with pytest.raises(ClientError) as refused:
        lookup(server, client_id)
    assert refused.value.error == "invalid_client"
    return refused.value.description


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


def test_a_document_on_a_private_address_is_refused_unless_allowed(tmp_path: Path) -> None:
    server = cimd_server(tmp_path, allow_private=False)

    # Refused before any connection: nothing listens on these ports.
    assert "127.0.0.1" in refusal(server, "https://localhost:9/client.json")
    assert "10.1.2.3" in refusal(server, "https://10.1.2.3/client.json")
    assert "https" in refusal(server, "http://127.0.0.1:9/client.json")


def test_a_name_resolving_to_any_private_address_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def public_and_private(host: str, port: int) -> list[cimd.Address]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("169.254.169.254")]

    monkeypatch.setattr(cimd, "resolve", public_and_private)

    assert "169.254.169.254" in refusal(cimd_server(tmp_path, allow_private=False), "https://app.example/client.json")


def test_the_fetch_connects_to_the_vetted_address_without_a_second_lookup(
    tmp_path: Path, documents: DocumentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []

    async def vetted(host: str, port: int) -> list[cimd.Address]:
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
        (lambda url: answer(200, b"<html></html>", {"Content-Type": "text/html"}), "text/html"),
        (lambda url: answer(200, b"{nope", {"Content-Type": "application/json"}), "JSON"),
        (lambda url: answer(302, b"", {"Location": "http://127.0.0.1:9/x.json"}), "redirect"),
        (lambda url: answer(500, b"{}", {"Content-Type": "application/json"}), "500"),
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
    ],
)
def test_a_document_that_cannot_serve_is_a_clear_client_error(
    tmp_path: Path, documents: DocumentServer, respond: Callable[[str], Respond], names: str
) -> None:
    path = f"/{uuid.uuid4().hex}.json"
    documents.routes[path] = respond(documents.url(path))

    assert names in refusal(cimd_server(tmp_path, allow_private=True), documents.url(path))


def test_an_oversized_document_without_a_length_is_cut_off(tmp_path: Path, documents: DocumentServer) -> None:
    def endless(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        for _ in range(20):
            handler.wfile.write(b" " * 8192)

    documents.routes["/endless.json"] = endless

    assert "64 KiB" in refusal(cimd_server(tmp_path, allow_private=True), documents.url("/endless.json"))


def test_a_document_that_does_not_arrive_in_time_is_a_client_error(
    tmp_path: Path, documents: DocumentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cimd, "FETCH_TIMEOUT_SECONDS", 0.2)

    def never_in_time(handler: http.server.BaseHTTPRequestHandler) -> None:
        documents.release.wait(30)  # set when the test is over

    documents.routes["/slow.json"] = never_in_time

    assert "did not arrive within 0.2 s" in refusal(
        cimd_server(tmp_path, allow_private=True), documents.url("/slow.json")
    )


def test_a_failed_document_is_remembered_for_a_while(tmp_path: Path, documents: DocumentServer) -> None:
    server = cimd_server(tmp_path, allow_private=True)
    url = documents.url("/late.json")
    first = refusal(server, url)
    documents.serve_document("/late.json")

    assert refusal(server, url) == first
    assert len(documents.requests) == 1


@pytest.mark.parametrize(
    "client_id",
    [
        "https://app.example/",
        "https://app.example",
        "https://app.example/a/../client.json",
        "https://user:pw@app.example/client.json",
        "https://app.example/client.json#x",
        "https://app.example/" + "a" * 2000,
    ],
)
def test_a_client_id_url_that_cannot_name_a_document(tmp_path: Path, client_id: str) -> None:
    refusal(cimd_server(tmp_path, allow_private=False), client_id)


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_an_https_document_is_fetched_from_the_vetted_address_with_the_certificate_checked_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = cimd_server(tmp_path, allow_private=True)
    with document_server(context, host="localhost") as served:
        untrusted = refusal(server, served.serve_document("/untrusted.json"))
        # How a test (or an operator with a private CA) makes this server trust a certificate.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        url = served.serve_document("/client.json")
        found = lookup(server, url)

    assert "certificate verify failed" in untrusted
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
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert cimd.is_public(ipaddress.ip_address(address)) is public


def test_the_token_endpoint_names_why_a_document_client_is_refused(edge: TestClient) -> None:
    response = edge.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "client_id": "https://localhost:9/client.json", "code": "x"},
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "127.0.0.1" in response.json()["error_description"]


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
