"""OAuth access tokens at the resources: `/api/v2` and `/mcp` (audience, grant, read-only rule, challenges, buckets).

Tokens are minted here with the app's own keys (an `OAuthServer` on the same settings and database), so each
test reaches the resource edge without the authorization endpoints.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
import yaml
from starlette.testclient import TestClient

from core.secrets import InstanceKey
from core.settings import Settings
from gateway.app import create_app
from gateway.contract import load_contract
from gateway.oauth.resources import OAuthServer
from storage import api_keys
from storage import oauth as grants
from storage.database import dispose_engine, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Mode, Tier, User, utcnow
from tests.conftest import ROOT, Caller, Tenants, free_port, start_server, wait_for
from tests.contract.breaking_changes import breaking_changes

READ_SCOPES = [scope for scope in load_contract().scopes if scope.endswith(":read")]
WHOAMI = "/api/v2/meta/whoami"
NO_SUCH_ID = "7b0d9c1e-2f3a-4b5c-8d6e-9f0a1b2c3d4e"
ISSUER = "http://127.0.0.1:8080"  # the `settings` fixture's: no public URL, the default host and port
API_METADATA = f"{ISSUER}/.well-known/oauth-protected-resource/api/v2"
MCP_METADATA = f"{ISSUER}/.well-known/oauth-protected-resource/mcp"
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
    "Host": "127.0.0.1",
}

Json = dict[str, Any]


@dataclass(frozen=True)
class App:
    """An OAuth client's approval by a user (a grant), and tokens minted under it."""

    server: OAuthServer
    caller: Caller
    grant_id: uuid.UUID
    client_id: str

    def token(self, audience: str | None = None, scopes: list[str] | None = None) -> str:
        return self.mint(self.server, audience, scopes)

    def mint(self, server: OAuthServer, audience: str | None = None, scopes: list[str] | None = None) -> str:
        token, _claims = server.tokens.issue(
            user_id=self.caller.user_id,
            audience=audience or self.server.resources.api,
            client_id=self.client_id,
            scopes=READ_SCOPES if scopes is None else scopes,
            grant_id=self.grant_id,
        )
        return token


def approve(
    server: OAuthServer,
    caller: Caller,
    *,
    client_id: str = "client-one",
    scopes: list[str] | None = None,
    mode: Mode = Mode.test,
) -> App:
    """What approving the consent page records: a grant of the caller's user to the client."""
    with session_scope(server.settings.database_url) as session:
        user = session.get_one(User, caller.user_id)
        grant = grants.create_grant(
            session,
            user=user,
            mode=mode,
            client_id=client_id,
            client_name=f"App {client_id}",
            scopes=READ_SCOPES if scopes is None else scopes,
        )
        return App(server, caller, grant.id, client_id)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def oauth(settings: Settings) -> OAuthServer:
    """The `client` app's keys and issuer (same settings, same database, same instance key)."""
    return OAuthServer(settings, load_contract(), settings.instance_key())


@pytest.fixture
def app(oauth: OAuthServer, caller: Caller) -> App:
    return approve(oauth, caller)


# ---- who the token is -------------------------------------------------------------------------------------------


def test_whoami_with_an_access_token_names_the_app_and_no_key(client: TestClient, app: App) -> None:
    response = client.get(WHOAMI, headers=bearer(app.token()))

    assert response.status_code == 200, response.text
    principal = response.json()
    assert principal["auth_kind"] == "oauth"
    assert principal["key"] is None
    assert principal["oauth_client"] == {"client_id": "client-one", "client_name": "App client-one"}
    assert principal["user"]["id"] == str(app.caller.user_id)
    assert (principal["organization"]["id"], principal["mode"]) == (str(app.caller.organization_id), "test")


def test_an_api_key_still_has_its_key_and_no_client(client: TestClient, caller: Caller) -> None:
    principal = client.get(WHOAMI, headers=caller.headers).json()

    assert (principal["auth_kind"], principal["key"]["id"], principal["oauth_client"]) == (
        "api_key",
        str(caller.key_id),
        None,
    )


def test_a_token_holds_only_the_read_scopes_its_grant_holds_too(
    client: TestClient, oauth: OAuthServer, caller: Caller
) -> None:
    narrow = approve(oauth, caller, scopes=["meta:read", "vault:read"])
    # A scope claim wider than the approval (or than reading) gives nothing more.
    token = narrow.token(scopes=["meta:read", "vault:read", "vault:write", "workflows:read"])

    assert client.get(WHOAMI, headers=bearer(token)).json()["scopes"] == ["meta:read", "vault:read"]
    workflows = client.get("/api/v2/workflows", headers=bearer(token))
    assert workflows.status_code == 403
    assert workflows.json()["code"] == "insufficient_scope"
    assert "access token does not hold" in workflows.json()["detail"]


def test_the_grant_decides_the_mode(client: TestClient, oauth: OAuthServer, caller: Caller) -> None:
    live = approve(oauth, caller, mode=Mode.live)

    assert client.get(WHOAMI, headers=bearer(live.token())).json()["mode"] == "live"


# ---- audiences and challenges -----------------------------------------------------------------------------------


def test_a_401_at_the_api_names_its_protected_resource_metadata(client: TestClient) -> None:
    response = client.get(WHOAMI)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == f'Bearer realm="vaultgate", resource_metadata="{API_METADATA}"'


def test_a_token_for_mcp_is_a_401_at_the_api(client: TestClient, app: App, oauth: OAuthServer) -> None:
    response = client.get(WHOAMI, headers=bearer(app.token(oauth.resources.mcp)))

    assert response.status_code == 401
    assert response.json()["detail"] == f"The access token is for {oauth.resources.mcp}, not this resource."
    challenge = response.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    assert challenge.endswith(f'resource_metadata="{API_METADATA}"')


def test_a_token_for_the_api_is_a_401_at_mcp_naming_the_mcp_metadata(client: TestClient, app: App) -> None:
    response = mcp(client, "/mcp", app.token(), "tools/list", {})

    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    assert f'resource_metadata="{MCP_METADATA}"' in challenge
    assert f'scope="{" ".join(READ_SCOPES)}"' in challenge


# ---- refusals -----------------------------------------------------------------------------------------------------


def _revoke_grant(app: App) -> None:
    with session_scope(app.server.settings.database_url) as session:
        grants.revoke_grants(session, [app.grant_id], user_id=None, reason="user")


def _remove_user(app: App) -> None:
    with session_scope(app.server.settings.database_url) as session:
        session.get_one(User, app.caller.user_id).removed_at = utcnow()


def _tampered(token: str) -> str:
    head, payload, signature = token.split(".")
    return f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"


def _claims_swapped(token: str, other: str) -> str:
    # Another token's payload under this one's signature.
    head, _payload, signature = token.split(".")
    return f"{head}.{other.split('.')[1]}.{signature}"


@pytest.mark.parametrize(
    ("case", "detail"),
    [
        ("grant revoked", "has been revoked"),
        ("token revoked", "has been revoked"),
        ("user removed", "user has been removed"),
    ],
)
def test_a_token_whose_grant_no_longer_stands_is_a_401(
    client: TestClient, app: App, settings: Settings, case: str, detail: str
) -> None:
    token = app.token()
    if case == "grant revoked":
        _revoke_grant(app)
    elif case == "token revoked":
        with session_scope(settings.database_url) as session:
            claims = app.server.tokens.read(token)
            grants.revoke_access_token(session, claims.token_id, claims.expires_at)
    else:
        _remove_user(app)

    response = client.get(WHOAMI, headers=bearer(token))

    assert response.status_code == 401, response.text
    assert detail in response.json()["detail"]
    assert response.headers["www-authenticate"].endswith(f'resource_metadata="{API_METADATA}"')


def test_a_token_this_gateway_did_not_sign_for_now_is_a_401(client: TestClient, app: App, settings: Settings) -> None:
    contract = load_contract()
    genuine = app.token()
    stale = settings.model_copy(update={"oauth_access_token_seconds": -120})  # past the verification leeway too
    elsewhere = settings.model_copy(update={"public_url": "https://elsewhere.example"})
    forged = {
        "expired": app.mint(OAuthServer(stale, contract, settings.instance_key())),
        "signature tampered": _tampered(genuine),
        "claims swapped": _claims_swapped(genuine, app.token(scopes=["meta:read", "vault:read", "vault:write"])),
        "signed with another instance key": app.mint(
            OAuthServer(settings, contract, InstanceKey(b"another gateway's instance key, same kid"))
        ),
        "another issuer": app.mint(OAuthServer(elsewhere, contract, settings.instance_key()), app.server.resources.api),
        "not a JWT at all": "not.a.jwt",
    }

    answers = {case: client.get(WHOAMI, headers=bearer(token)) for case, token in forged.items()}

    assert {case: answer.status_code for case, answer in answers.items()} == dict.fromkeys(forged, 401)
    details = {case: answer.json()["detail"] for case, answer in answers.items()}
    assert details == {
        **dict.fromkeys(forged, "The access token is invalid or has expired."),
        "not a JWT at all": "The access token is malformed.",
    }
    assert client.get(WHOAMI, headers=bearer(genuine)).status_code == 200


def test_forged_tokens_never_spend_the_address_lookup_allowance(
    settings: Settings, tenants: Tenants, oauth: OAuthServer
) -> None:
    # The signature is checked before any lookup, so a prober's forged tokens cost it nothing either way; unknown
    # API keys show the allowance is real.
    strict = settings.model_copy(update={"key_lookups_per_address": 2, "key_lookups_refill_per_second": 0.001})
    app = approve(oauth, tenants.caller())
    forged = [_tampered(app.token()) for _ in range(5)]
    unknown_keys = [api_keys.generate_key(Mode.test) for _ in range(3)]

    with TestClient(create_app(strict), raise_server_exceptions=False) as client:
        forged_answers = [client.get(WHOAMI, headers=bearer(token)).status_code for token in forged]
        genuine = client.get(WHOAMI, headers=bearer(app.token())).status_code
        key_answers = [client.get(WHOAMI, headers=bearer(key)).status_code for key in unknown_keys]

    assert forged_answers == [401] * 5
    assert genuine == 200
    # The genuine token spent one lookup of the two; the first unknown key the other.
    assert key_answers == [401, 429, 429]


# ---- the read-only rule -----------------------------------------------------------------------------------------


def test_a_write_is_403_oauth_read_only_whatever_the_tokens_scope_claim(
    client: TestClient, oauth: OAuthServer, caller: Caller
) -> None:
    # Even a grant and a token naming every scope: only reads are admitted, before anything else is looked at.
    writer = approve(oauth, caller, scopes=load_contract().scopes)
    token = writer.token(scopes=load_contract().scopes)
    writes = [
        ("POST", "/api/v2/projects"),
        ("POST", "/api/v2/api-keys"),
        ("DELETE", f"/api/v2/vault/documents/{NO_SUCH_ID}"),
        ("PATCH", f"/api/v2/mcp-servers/{NO_SUCH_ID}"),
        ("POST", f"/api/v2/workflows/wf_{NO_SUCH_ID}/runs"),
    ]

    answers = [client.request(method, path, headers=bearer(token), json={"name": "x"}) for method, path in writes]

    assert [(answer.status_code, answer.json()["code"]) for answer in answers] == [(403, "oauth_read_only")] * 5
    # No scope would help, so no challenge suggests one.
    assert not any("www-authenticate" in answer.headers for answer in answers)
    assert client.get("/api/v2/projects", headers=bearer(token)).status_code == 200


def test_a_post_that_only_reads_is_let_through(probe: TestClient, oauth: OAuthServer, caller: Caller) -> None:
    # The rule follows `x-scope`, not the method (spec §2: `chat.ask` is a POST that only reads). The contract has
    # no such operation yet; the probe's `flaky` is one (scope meta:read), failing the first time it sees a marker.
    token, marker = approve(oauth, caller).token(), uuid.uuid4().hex

    first = probe.post("/api/v2/flaky", headers=bearer(token), json={"marker": marker})
    again = probe.post("/api/v2/flaky", headers=bearer(token), json={"marker": marker})

    assert first.status_code == 500
    assert (again.status_code, again.json()) == (200, {"attempt": 2})


def test_reads_see_only_the_grants_organization_and_mode(
    client: TestClient, app: App, tenants: Tenants, caller: Caller
) -> None:
    other_organization = tenants.caller()
    same_user_live = tenants.caller(mode=Mode.live, organization_id=caller.organization_id)
    own = client.post("/api/v2/projects", headers=caller.headers, json={"name": "Ours"}).json()["id"]
    theirs = client.post("/api/v2/projects", headers=other_organization.headers, json={"name": "Theirs"}).json()["id"]
    live = client.post("/api/v2/projects", headers=same_user_live.headers, json={"name": "Live"}).json()["id"]
    token = app.token()

    listed = client.get("/api/v2/projects", headers=bearer(token)).json()["data"]

    assert [project["id"] for project in listed] == [own]
    assert client.get(f"/api/v2/projects/{own}", headers=bearer(token)).status_code == 200
    assert client.get(f"/api/v2/projects/{theirs}", headers=bearer(token)).status_code == 404
    assert client.get(f"/api/v2/projects/{live}", headers=bearer(token)).status_code == 404


# ---- rate limits ------------------------------------------------------------------------------------------------


def test_tokens_of_one_app_and_user_share_a_bucket_inside_the_organizations(
    client: TestClient, oauth: OAuthServer, tenants: Tenants
) -> None:
    caller = tenants.caller(tier=Tier.free)
    first = approve(oauth, caller, client_id="client-one")
    # Approving the same app again is another grant, but the same app acting for the same user.
    again = approve(oauth, caller, client_id="client-one")
    other_app = approve(oauth, caller, client_id="client-two")
    capacity = 60  # the free tier's

    for _ in range(3):
        assert client.get(WHOAMI, headers=bearer(first.token())).status_code == 200
    same = client.get("/api/v2/meta/rate-limit", headers=bearer(again.token())).json()
    other = client.get("/api/v2/meta/rate-limit", headers=bearer(other_app.token())).json()

    assert same["remaining"] == capacity - 3
    assert other["remaining"] == capacity
    assert other["organization"]["remaining"] == capacity - 3


def test_an_apps_bucket_for_a_user_is_one_per_mode(client: TestClient, oauth: OAuthServer, tenants: Tenants) -> None:
    caller = tenants.caller(tier=Tier.free)
    live = approve(oauth, caller, client_id="client-one", mode=Mode.live)
    test = approve(oauth, caller, client_id="client-one", mode=Mode.test)

    for _ in range(3):
        assert client.get(WHOAMI, headers=bearer(test.token())).status_code == 200
    answer = client.get("/api/v2/meta/rate-limit", headers=bearer(live.token())).json()

    # As a key never spans modes: test-mode calls leave the live-mode allowance alone.
    assert answer["remaining"] == 60


# ---- the contract -----------------------------------------------------------------------------------------------


def test_a_null_key_is_a_break_the_released_contract_records() -> None:
    def load(path: Path) -> Json:
        document: Json = yaml.safe_load(path.read_text())
        return document

    released, current = load(ROOT / "openapi/released/v2.0.0.yaml"), load(ROOT / "openapi/openapi.yaml")

    # openapi/RELEASES.md: a deliberate break edits the released file, so clients see what they are now promised.
    assert released["components"]["schemas"]["Principal"]["properties"]["key"]["nullable"] is True
    assert breaking_changes(released, current) == []
    # Any other break of that schema is still reported.
    worse = copy.deepcopy(current)
    worse["components"]["schemas"]["Principal"]["properties"]["user"]["nullable"] = True
    assert breaking_changes(released, worse) == [
        "GET /meta/whoami (meta.whoami) response 200 application/json /user: may now be null"
    ]


# ---- MCP ------------------------------------------------------------------------------------------------------


def mcp(client: TestClient, path: str, token: str, method: str, params: Json) -> httpx2.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return client.post(path, json=body, headers={**MCP_HEADERS, **bearer(token)})


def result(response: httpx2.Response) -> Json:
    assert response.status_code == 200, response.text
    # One server-sent event carrying the JSON-RPC response.
    answer: Json = json.loads(response.text.split("data: ", 1)[1])["result"]
    return answer


def tool(client: TestClient, path: str, token: str, name: str, arguments: Json | None = None) -> Json:
    return result(mcp(client, path, token, "tools/call", {"name": name, "arguments": arguments or {}}))


def test_an_mcp_token_lists_tools_reads_and_is_refused_writes(client: TestClient, app: App, oauth: OAuthServer) -> None:
    token = app.token(oauth.resources.mcp)

    tools = result(mcp(client, "/mcp", token, "tools/list", {}))["tools"]
    names = {t["name"] for t in tools}
    whoami = tool(client, "/mcp", token, "meta_whoami")
    # Not listed to a token (it could only fail), and refused when called anyway.
    write = tool(client, "/mcp", token, "vault_create_project", {"name": "Tower"})

    assert {"meta_whoami", "vault_search"} <= names
    assert "vault_create_project" not in names
    assert all(t["annotations"]["readOnlyHint"] for t in tools)
    assert not whoami["isError"]
    assert whoami["structuredContent"]["auth_kind"] == "oauth"
    assert whoami["structuredContent"]["oauth_client"]["client_id"] == "client-one"
    assert write["isError"]
    assert write["structuredContent"]["code"] == "oauth_read_only"


def test_a_read_tool_outside_the_tokens_scopes_is_an_http_403_step_up_challenge(
    client: TestClient, oauth: OAuthServer, caller: Caller
) -> None:
    narrow = approve(oauth, caller, scopes=["meta:read"])
    token = narrow.token(oauth.resources.mcp, scopes=["meta:read"])

    refused = mcp(client, "/mcp", token, "tools/call", {"name": "vault_search", "arguments": {"q": "anchors"}})
    allowed = tool(client, "/mcp", token, "meta_whoami")

    assert refused.status_code == 403
    assert refused.json()["error"]["data"]["code"] == "insufficient_scope"
    challenge = refused.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="vault:read"' in challenge
    assert f'resource_metadata="{MCP_METADATA}"' in challenge
    assert not allowed["isError"]


def test_a_deeply_nested_body_from_a_token_is_the_sdks_parse_error_not_a_500(
    client: TestClient, oauth: OAuthServer, caller: Caller
) -> None:
    # Only OAuth callers' bodies are read before the SDK (for the step-up challenge): they must fail as a key's do.
    token = approve(oauth, caller).token(oauth.resources.mcp)

    answer = client.post("/mcp", content=b"[" * 100_000, headers={**MCP_HEADERS, **bearer(token)})

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == -32700


def managed_server(client: TestClient, tenants: Tenants, caller: Caller, restrictions: Json) -> str:
    admin = tenants.caller(scopes=load_contract().scopes, organization_id=caller.organization_id)
    created = client.post(
        "/api/v2/mcp-servers",
        headers=admin.headers,
        json={"name": f"reviewer {uuid.uuid4().hex[:8]}", "restrictions": restrictions},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_managed_server_takes_an_mcp_token_or_its_own_and_applies_its_restrictions(
    client: TestClient, app: App, oauth: OAuthServer, tenants: Tenants, caller: Caller
) -> None:
    only_whoami = {"capabilities": {"mode": "allowlist", "ids": ["meta.whoami"]}}
    server = managed_server(client, tenants, caller, only_whoami)
    path = f"/mcp/{server}"

    for audience in (oauth.resources.mcp, oauth.resources.server(uuid.UUID(server))):
        token = app.token(audience)
        names = {t["name"] for t in result(mcp(client, path, token, "tools/list", {}))["tools"]}
        whoami = tool(client, path, token, "meta_whoami")
        search = tool(client, path, token, "vault_search", {"q": "anchors"})

        assert names == {"meta_whoami"}
        assert whoami["structuredContent"]["auth_kind"] == "oauth"
        assert search["isError"]
        assert search["structuredContent"]["code"] == "forbidden"


def test_a_token_for_one_server_opens_neither_another_nor_mcp(
    client: TestClient, app: App, oauth: OAuthServer, tenants: Tenants, caller: Caller
) -> None:
    first, second = (managed_server(client, tenants, caller, {}) for _ in range(2))
    token = app.token(oauth.resources.server(uuid.UUID(first)))

    at_second = mcp(client, f"/mcp/{second}", token, "tools/list", {})
    at_mcp = mcp(client, "/mcp", token, "tools/list", {})

    assert at_second.status_code == at_mcp.status_code == 401
    second_metadata = f"{ISSUER}/.well-known/oauth-protected-resource/mcp/{second}"
    assert f'resource_metadata="{second_metadata}"' in at_second.headers["www-authenticate"]
    assert f'resource_metadata="{MCP_METADATA}"' in at_mcp.headers["www-authenticate"]
    assert result(mcp(client, f"/mcp/{first}", token, "tools/list", {}))["tools"]


def test_a_server_of_another_organization_is_404_to_an_mcp_token(
    client: TestClient, app: App, oauth: OAuthServer, tenants: Tenants
) -> None:
    stranger = tenants.caller()
    theirs = managed_server(client, tenants, stranger, {})

    response = mcp(client, f"/mcp/{theirs}", app.token(oauth.resources.mcp), "tools/list", {})

    assert response.status_code == 404


# ---- across processes -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveGateway:
    """A `vaultgate serve` process, and the settings of another gateway on its database and issuer."""

    url: str
    settings: Settings
    caller: Caller


@pytest.fixture
def live_gateway(tmp_path: Path) -> Iterator[LiveGateway]:
    database_url = f"sqlite:///{tmp_path / 'vaultgate.db'}"
    upgrade_to_head(database_url)
    caller = Tenants(database_url).caller()
    dispose_engine(database_url)
    port = free_port()
    # One issuer for both gateways, as behind a load balancer.
    issuer = f"http://127.0.0.1:{port}"
    process = start_server(database_url, port, tmp_path / "server.log", {"VAULTGATE_PUBLIC_URL": issuer})
    try:
        settings = Settings(database_url=database_url, public_url=issuer, blob_dir=tmp_path / "blobs")
        yield LiveGateway(issuer, settings, caller)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_token_revoked_through_one_process_fails_in_another_within_a_second(live_gateway: LiveGateway) -> None:
    # This test's process runs the other gateway, in process: the revocation goes through it.
    settings = live_gateway.settings
    with TestClient(create_app(settings), raise_server_exceptions=False) as here:
        registered = here.post(
            "/oauth/register",
            json={
                "client_name": "Notes",
                "redirect_uris": ["http://127.0.0.1/cb"],
                "token_endpoint_auth_method": "none",
            },
        )
        assert registered.status_code == 201, registered.text
        client_id = registered.json()["client_id"]
        oauth = OAuthServer(settings, load_contract(), settings.instance_key())
        token = approve(oauth, live_gateway.caller, client_id=client_id).token()
        there = f"{live_gateway.url}{WHOAMI}"
        # Both gateways have just accepted (and remembered) the token.
        assert here.get(WHOAMI, headers=bearer(token)).status_code == 200
        assert httpx.get(there, headers=bearer(token)).status_code == 200

        revoked = here.post("/oauth/revoke", data={"client_id": client_id, "token": token})
        revoked_at = time.monotonic()
        wait_for(lambda: httpx.get(there, headers=bearer(token)).status_code == 401, timeout=5)
        there_after = time.monotonic() - revoked_at
        # Through this process too: its memory of the token is as short-lived.
        wait_for(lambda: here.get(WHOAMI, headers=bearer(token)).status_code == 401, timeout=5)
        here_after = time.monotonic() - revoked_at

        assert revoked.status_code == 200, revoked.text
        assert there_after < 1.0
        assert here_after < 1.0
