"""`/mcp` with the official `mcp` 2.x client against a live `vaultgate serve`, in both protocol revisions."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import httpx2
import pytest
import sqlalchemy
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.agents.tools import TOOL_NAME, tool_name
from gateway.app import create_app
from gateway.contract import load_contract
from storage.database import session_scope
from storage.migrate import upgrade_to_head
from storage.models import McpServer, Mode, Project, Tier, utcnow
from tests.conftest import Caller, LiveServer, Tenants, running_server

T = TypeVar("T")
MODES = ["legacy", "auto"]  # 2025-11-25 with its handshake; the newest both sides speak (2026-07-28)
ACCEPT = "application/json, text/event-stream"
EXAMPLES = load_contract().document["components"]["examples"]
PROJECT_ID = "0c6f2f7e-5b1a-4d8e-9f3c-2a1b4c5d6e7f"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_server(tmp_path_factory.mktemp("mcp")) as live:
        yield live


def with_client(url: str, mode: str, key: str | None, use: Callable[[Client], Awaitable[T]]) -> T:
    async def main() -> T:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http), mode=mode) as client,
        ):
            return await use(client)

    return anyio.run(main)


def tool_names(url: str, mode: str, key: str | None) -> set[str]:
    async def names(client: Client) -> set[str]:
        return {tool.name for tool in (await client.list_tools()).tools}

    return with_client(url, mode, key, names)


def call(url: str, mode: str, key: str | None, name: str, arguments: dict[str, Any]) -> Any:
    async def one(client: Client) -> Any:
        await client.list_tools()  # as clients do: it also arms the client's output-schema validation
        return await client.call_tool(name, arguments)

    return with_client(url, mode, key, one)


def rest(server: LiveServer, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key or server.api_key}", **kwargs.pop("headers", {})}
    return httpx.request(method, f"{server.url}/api/v2{path}", headers=headers, timeout=30, **kwargs)


def mcp_post(server: LiveServer, path: str = "/mcp", **headers: str) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    sent = {"Accept": ACCEPT, "Content-Type": "application/json", "MCP-Protocol-Version": "2025-11-25", **headers}
    return httpx.post(f"{server.url}{path}", json=body, headers=sent, timeout=30)


# ---- tools/list --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_one_tool_per_exposed_operation_named_by_its_operation_id(server: LiveServer, mode: str) -> None:
    names = tool_names(f"{server.url}/mcp", mode, server.api_key)

    contract = load_contract()
    assert names == {tool_name(op.operation_id) for op in contract.operations if op.mcp}
    assert all(TOOL_NAME.match(name) for name in names)
    assert {"vault_search", "meta_whoami", "workflows_run", "workflows_get_run_status"} <= names
    # Multipart, streams and anything that mints or manages a credential stay out.
    assert not names & {"vault_upload_document", "templates_start_fill", "vault_get_document_content"}
    assert not {n for n in names if n.startswith(("api_keys_", "mcp_servers_"))}


def test_capabilities_and_tools_list_agree_for_every_operation(server: LiveServer) -> None:
    capabilities = rest(server, "GET", "/meta/capabilities").json()["data"]
    names = tool_names(f"{server.url}/mcp", "auto", server.api_key)

    for capability in capabilities:
        assert (tool_name(capability["name"]) in names) is capability["mcp"], capability["name"]
    assert len(names) == sum(c["mcp"] for c in capabilities)


def test_tools_carry_the_operation_description_and_schemas(server: LiveServer) -> None:
    async def listed(client: Client) -> Any:
        return {tool.name: tool for tool in (await client.list_tools()).tools}

    tools = with_client(f"{server.url}/mcp", "legacy", server.api_key, listed)

    search = tools["vault_search"]
    assert "Full-text search" in (search.description or "")
    assert search.input_schema["required"] == ["q"]
    assert search.input_schema["properties"]["limit"]["maximum"] == 50
    assert "needs_refinement" in str(search.output_schema)
    run = tools["workflows_run"]
    assert {"workflow_id", "inputs", "project_id", "idempotency_key"} <= set(run.input_schema["properties"])
    assert "idempotency_key" not in tools["vault_get_document"].input_schema["properties"]
    assert tools["vault_get_document"].annotations.read_only_hint is True


# ---- tool calls are REST calls -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_whoami_and_search_answer_what_rest_answers(server: LiveServer, mode: str) -> None:
    whoami = call(f"{server.url}/mcp", mode, server.api_key, "meta_whoami", {})
    search = call(f"{server.url}/mcp", mode, server.api_key, "vault_search", {"q": "anchors", "limit": 5})

    assert not whoami.is_error
    assert whoami.structured_content == rest(server, "GET", "/meta/whoami").json()
    assert not search.is_error
    hits = search.structured_content["data"]
    assert hits
    assert hits == rest(server, "GET", "/vault/search", params={"q": "anchors", "limit": 5}).json()["data"]


@pytest.mark.parametrize("mode", MODES)
def test_a_run_started_twice_with_one_idempotency_key_is_one_run(server: LiveServer, mode: str) -> None:
    example = EXAMPLES["completed_run"]["value"]
    arguments = {
        "workflow_id": example["workflow_id"],
        "inputs": example["inputs"],
        "project_id": example["project_id"],
        "idempotency_key": str(uuid.uuid4()),
    }

    first = call(f"{server.url}/mcp", mode, server.api_key, "workflows_run", arguments)
    second = call(f"{server.url}/mcp", mode, server.api_key, "workflows_run", arguments)
    status = call(
        f"{server.url}/mcp",
        mode,
        server.api_key,
        "workflows_get_run_status",
        {"run_id": first.structured_content["run_id"]},
    )

    assert not first.is_error, first.structured_content
    assert second.structured_content == first.structured_content
    assert status.structured_content["run_id"] == first.structured_content["run_id"]
    listed = rest(server, "GET", "/workflows/runs", params={"limit": 100}).json()["data"]
    assert sum(run["run_id"] == first.structured_content["run_id"] for run in listed) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_foreign_id_is_a_not_found_tool_error(server: LiveServer, mode: str) -> None:
    other = Tenants(server.database_url).caller()

    result = call(f"{server.url}/mcp", mode, other.key, "vault_get_project", {"project_id": PROJECT_ID})

    assert result.is_error
    assert result.structured_content["code"] == "not_found"
    assert result.structured_content["status"] == 404


def test_bad_arguments_are_a_validation_error_naming_them(server: LiveServer) -> None:
    unknown = call(f"{server.url}/mcp", "auto", server.api_key, "vault_get_project", {"project_id": PROJECT_ID, "x": 1})
    traversal = call(f"{server.url}/mcp", "auto", server.api_key, "vault_get_project", {"project_id": "../meta/whoami"})
    bad_limit = call(f"{server.url}/mcp", "auto", server.api_key, "vault_list_projects", {"limit": 1000})

    assert unknown.structured_content["code"] == "validation_error"
    assert unknown.structured_content["errors"][0]["parameter"] == "x"
    # A slash in a path value cannot route the call to another operation.
    assert traversal.is_error
    assert traversal.structured_content["code"] in ("validation_error", "not_found")
    assert bad_limit.is_error
    assert bad_limit.structured_content["code"] == "validation_error"


@pytest.mark.parametrize("mode", MODES)
def test_a_key_without_the_scope_is_refused_naming_it(server: LiveServer, mode: str) -> None:
    narrow = Tenants(server.database_url).caller(scopes=["meta:read"])

    result = call(f"{server.url}/mcp", mode, narrow.key, "vault_search", {"q": "anchors"})

    assert result.is_error
    assert result.structured_content["code"] == "insufficient_scope"
    assert "vault:read" in result.structured_content["detail"]


def test_tool_calls_draw_the_operations_cost_from_the_keys_rest_bucket(server: LiveServer) -> None:
    # Free tier: 1 token a second comes back, so the drop across quick calls is the cost drawn.
    caller = Tenants(server.database_url).caller(tier=Tier.free)
    search_cost = load_contract().operation("vault.search").cost
    own_cost = load_contract().operation("meta.rate_limit").cost

    async def drawn(client: Client) -> int:
        await client.list_tools()  # before measuring: the client lists tools to check results against their schema
        before = rest(server, "GET", "/meta/rate-limit", key=caller.key).json()["remaining"]
        await client.call_tool("vault_search", {"q": "anchors"})
        after = rest(server, "GET", "/meta/rate-limit", key=caller.key).json()["remaining"]
        return int(before - after)

    assert (
        search_cost + own_cost - 1
        <= with_client(f"{server.url}/mcp", "legacy", caller.key, drawn)
        <= search_cost + own_cost
    )


# ---- the HTTP edge -------------------------------------------------------------------------------------------------


def test_no_credentials_is_a_401_pointing_at_the_resource_metadata(server: LiveServer) -> None:
    response = mcp_post(server)

    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    read_scopes = " ".join(s for s in load_contract().scopes if s.endswith(":read"))
    assert challenge == (
        f'Bearer realm="vaultgate", resource_metadata="{server.url}/.well-known/oauth-protected-resource/mcp", '
        f'scope="{read_scopes}"'
    )
    metadata = httpx.get(f"{server.url}/.well-known/oauth-protected-resource/mcp").json()
    assert metadata["resource"] == f"{server.url}/mcp"
    assert "vault:read" in metadata["scopes_supported"]


def test_a_forged_key_is_a_401(server: LiveServer) -> None:
    response = mcp_post(server, Authorization="Bearer vg_test_" + "0" * 48)

    assert response.status_code == 401
    assert response.json()["error"]["data"]["code"] == "unauthorized"
    assert "resource_metadata=" in response.headers["WWW-Authenticate"]


def test_a_foreign_origin_is_refused(server: LiveServer) -> None:
    auth = f"Bearer {server.api_key}"

    assert mcp_post(server, Authorization=auth, Origin="https://evil.example").status_code == 403
    assert mcp_post(server, Authorization=auth, Origin=server.url).status_code == 200
    assert mcp_post(server, Authorization=auth, Origin="http://localhost:3000").status_code == 200


def test_a_host_that_is_not_ours_is_refused(server: LiveServer) -> None:
    # DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own name as Host.
    response = mcp_post(server, Authorization=f"Bearer {server.api_key}", Host="evil.example")

    assert response.status_code == 421
    assert response.json()["error"]["data"]["code"] == "misdirected_request"


@pytest.mark.parametrize("accept", ["application/json", "text/event-stream", "text/html"])
def test_a_post_must_accept_json_and_event_streams(server: LiveServer, accept: str) -> None:
    response = mcp_post(server, Authorization=f"Bearer {server.api_key}", Accept=accept)

    assert response.status_code == 406


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_only_post_is_served_as_the_server_keeps_no_session(server: LiveServer, method: str) -> None:
    # A GET stream would stay open with nothing ever written to it (no session, no server-initiated messages).
    response = httpx.request(
        method,
        f"{server.url}/mcp",
        headers={"Authorization": f"Bearer {server.api_key}", "Accept": "text/event-stream"},
        timeout=5,
    )

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    "host", ["localhost:1@evil.example", "[::1]evil.example", "localhost:evil.example", "127.0.0.1.nip.io"]
)
def test_a_malformed_host_is_not_taken_for_loopback(server: LiveServer, host: str) -> None:
    assert mcp_post(server, Authorization=f"Bearer {server.api_key}", Host=host).status_code == 421


def test_a_loopback_origin_must_be_a_web_origin(server: LiveServer) -> None:
    response = mcp_post(server, Authorization=f"Bearer {server.api_key}", Origin="chrome-extension://localhost")

    assert response.status_code == 403


def test_listing_tools_draws_what_meta_capabilities_costs(server: LiveServer) -> None:
    caller = Tenants(server.database_url).caller(tier=Tier.free)
    cost = load_contract().operation("meta.capabilities").cost
    own_cost = load_contract().operation("meta.rate_limit").cost

    async def drawn(client: Client) -> int:
        before = rest(server, "GET", "/meta/rate-limit", key=caller.key).json()["remaining"]
        await client.list_tools()
        after = rest(server, "GET", "/meta/rate-limit", key=caller.key).json()["remaining"]
        return int(before - after)

    assert cost + own_cost - 1 <= with_client(f"{server.url}/mcp", "auto", caller.key, drawn) <= cost + own_cost


# ---- managed MCP servers ---------------------------------------------------------------------------------------------


def create_server(server: LiveServer, key: str | None = None, **body: Any) -> dict[str, Any]:
    body = {"name": f"agents {uuid.uuid4().hex[:8]}", **body}
    response = rest(server, "POST", "/mcp-servers", key=key, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_restrictions_shape_tools_list_and_refuse_blocked_tools(server: LiveServer) -> None:
    blocking = create_server(server, restrictions={"capabilities": {"mode": "blocklist", "ids": ["vault.search"]}})
    allowing = create_server(
        server, restrictions={"capabilities": {"mode": "allowlist", "ids": ["meta.whoami", "vault.get_project"]}}
    )

    blocked = tool_names(blocking["url"], "auto", server.api_key)
    allowed = tool_names(allowing["url"], "legacy", server.api_key)
    refused = call(blocking["access_url"], "auto", None, "vault_search", {"q": "anchors"})

    assert "vault_search" not in blocked
    assert "vault_get_project" in blocked
    assert allowed == {"meta_whoami", "vault_get_project"}
    assert refused.is_error
    assert refused.structured_content["code"] == "forbidden"
    assert "vault_search" in refused.structured_content["detail"]


@pytest.mark.parametrize("mode", MODES)
def test_the_access_url_needs_no_header_and_acts_as_the_creator(server: LiveServer, mode: str) -> None:
    created = create_server(server)

    whoami = call(created["access_url"], mode, None, "meta_whoami", {})

    assert not whoami.is_error, whoami.structured_content
    assert whoami.structured_content["auth_kind"] == "mcp_server_token"
    assert whoami.structured_content["user"] == rest(server, "GET", "/meta/whoami").json()["user"]


def test_the_access_url_stops_working_after_delete_and_after_rotate(server: LiveServer) -> None:
    deleted = create_server(server)
    rotated = create_server(server)
    # Used first, so this process remembers them: delete and rotate must forget them at once.
    assert mcp_post(server, f"/mcp/{deleted['id']}/{deleted['access_token']}").status_code == 200
    assert mcp_post(server, f"/mcp/{rotated['id']}/{rotated['access_token']}").status_code == 200

    assert rest(server, "DELETE", f"/mcp-servers/{deleted['id']}").status_code in (200, 204)
    fresh = rest(server, "POST", f"/mcp-servers/{rotated['id']}/rotate-token", json={}).json()

    assert mcp_post(server, f"/mcp/{deleted['id']}/{deleted['access_token']}").status_code == 401
    assert mcp_post(server, f"/mcp/{rotated['id']}/{rotated['access_token']}").status_code == 401
    assert mcp_post(server, f"/mcp/{rotated['id']}/{fresh['access_token']}").status_code == 200


def test_an_expired_access_token_is_a_401(server: LiveServer) -> None:
    created = create_server(server)
    with session_scope(server.database_url) as session:
        session.execute(
            sqlalchemy.update(McpServer)
            .where(McpServer.id == uuid.UUID(created["id"]))
            .values(token_expires_at=utcnow())
        )

    response = mcp_post(server, f"/mcp/{created['id']}/{created['access_token']}")

    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_the_access_token_is_no_api_key_and_opens_no_other_server(server: LiveServer) -> None:
    one, other = create_server(server), create_server(server)

    as_key = rest(server, "GET", "/meta/whoami", key=one["access_token"])
    elsewhere = mcp_post(server, f"/mcp/{other['id']}/{one['access_token']}")
    as_bearer = mcp_post(server, "/mcp", Authorization=f"Bearer {one['access_token']}")

    assert as_key.status_code == 401
    assert elsewhere.status_code == 401
    assert as_bearer.status_code == 401


def test_a_server_of_another_tenant_is_not_found_with_a_bearer_key(server: LiveServer) -> None:
    created = create_server(server)
    other = Tenants(server.database_url).caller()

    response = mcp_post(server, f"/mcp/{created['id']}", Authorization=f"Bearer {other.key}")

    assert response.status_code == 404


def test_the_access_token_never_reaches_the_access_log(server: LiveServer) -> None:
    created = create_server(server)
    mcp_post(server, f"/mcp/{created['id']}/{created['access_token']}")
    # A query holding a slash, or segments after the token, must not make the log forget to redact it.
    mcp_post(server, f"/mcp/{created['id']}/{created['access_token']}?from=a/b")
    mcp_post(server, f"/mcp/{created['id']}/{created['access_token']}/tools")

    log = (Path(server.database_url.removeprefix("sqlite:///")).parent / "server.log").read_text()

    assert f"/mcp/{created['id']}/[redacted]" in log
    assert created["access_token"] not in log


def test_a_project_allowlist_hides_other_projects(server: LiveServer) -> None:
    caller = Tenants(server.database_url).caller(scopes=load_contract().scopes)
    other_project = rest(server, "POST", "/projects", key=caller.key, json={"name": "Other"}).json()
    shown_project = rest(server, "POST", "/projects", key=caller.key, json={"name": "Shown"}).json()
    created = create_server(
        server, key=caller.key, restrictions={"projects": {"mode": "allowlist", "ids": [shown_project["id"]]}}
    )
    url = created["access_url"]

    hidden = call(url, "auto", None, "vault_get_project", {"project_id": other_project["id"]})
    shown = call(url, "auto", None, "vault_get_project", {"project_id": shown_project["id"]})
    listed = call(url, "auto", None, "vault_list_projects", {})

    assert hidden.is_error
    assert hidden.structured_content["code"] == "not_found"
    assert not shown.is_error
    assert [p["id"] for p in listed.structured_content["data"]] == [shown_project["id"]]


def test_a_project_allowlist_filters_search(server: LiveServer) -> None:
    # The seeded documents are in the examples' project; a server allowing only another project finds none.
    elsewhere = rest(server, "POST", "/projects", json={"name": f"Elsewhere {uuid.uuid4().hex[:6]}"}).json()
    created = create_server(server, restrictions={"projects": {"mode": "allowlist", "ids": [elsewhere["id"]]}})
    seeded = create_server(server, restrictions={"projects": {"mode": "allowlist", "ids": [PROJECT_ID]}})

    nothing = call(created["access_url"], "auto", None, "vault_search", {"q": "anchors"})
    found = call(seeded["access_url"], "auto", None, "vault_search", {"q": "anchors"})

    assert nothing.structured_content["data"] == []
    assert found.structured_content["data"]


# ---- smart lists -----------------------------------------------------------------------------------------------------


def tenant_with_projects(server: LiveServer, count: int) -> Caller:
    caller = Tenants(server.database_url).caller()
    with session_scope(server.database_url) as session:
        for number in range(count):
            session.add(
                Project(
                    organization_id=caller.organization_id,
                    mode=Mode.test,
                    name=f"Project {number:03}",
                    description=None,
                )
            )
    return caller


def list_projects(server: LiveServer, caller: Caller, **arguments: Any) -> Any:
    return call(f"{server.url}/mcp", "auto", caller.key, "vault_list_projects", arguments).structured_content


def test_25_items_come_back_unchanged(server: LiveServer) -> None:
    caller = tenant_with_projects(server, 25)

    answer = list_projects(server, caller, limit=100)

    assert len(answer["data"]) == 25
    assert "truncated" not in answer


@pytest.mark.parametrize("count", [26, 50])
def test_26_to_50_items_are_truncated_to_25_with_a_cursor_at_item_26(server: LiveServer, count: int) -> None:
    caller = tenant_with_projects(server, count)
    everything = rest(server, "GET", "/projects", key=caller.key, params={"limit": 100}).json()["data"]

    answer = list_projects(server, caller, limit=100)
    rest_of_it = list_projects(server, caller, limit=100, cursor=answer["next_cursor"])

    assert answer["truncated"] is True
    assert answer["original_count"] == count
    assert answer["displayed_count"] == 25
    assert [p["id"] for p in answer["data"]] == [p["id"] for p in everything[:25]]
    assert [p["id"] for p in rest_of_it["data"]] == [p["id"] for p in everything[25:]]


def test_more_than_50_items_need_refinement(server: LiveServer) -> None:
    caller = tenant_with_projects(server, 51)

    answer = list_projects(server, caller, limit=100)

    assert answer["needs_refinement"] is True
    assert "51" in answer["message"]
    assert len(answer["samples"]) == 3
    assert any("limit" in suggestion for suggestion in answer["suggestions"])
    assert "data" not in answer


def test_a_tool_mcp_does_not_expose_is_an_unknown_tool(server: LiveServer) -> None:
    with pytest.raises(BaseExceptionGroup) as raised:
        call(f"{server.url}/mcp", "auto", server.api_key, "api_keys_create", {"name": "x", "scopes": []})

    assert raised.group_contains(MCPError, match="Unknown tool: api_keys_create")


def test_the_access_url_holds_no_scope_its_creating_key_lacks(server: LiveServer) -> None:
    narrow = Tenants(server.database_url).caller(scopes=["mcp:admin", "vault:read", "meta:read"])
    created = create_server(server, key=narrow.key)

    searched = call(created["access_url"], "auto", None, "vault_search", {"q": "anchors"})
    started = call(
        created["access_url"],
        "auto",
        None,
        "workflows_run",
        {"workflow_id": EXAMPLES["completed_run"]["value"]["workflow_id"]},
    )

    assert not searched.is_error
    assert started.is_error
    assert started.structured_content["code"] == "insufficient_scope"
    assert "workflows:write" in started.structured_content["detail"]


def test_the_access_url_dies_with_its_creating_key(server: LiveServer) -> None:
    creator = Tenants(server.database_url).caller(scopes=load_contract().scopes)
    created = create_server(server, key=creator.key)
    assert mcp_post(server, f"/mcp/{created['id']}/{created['access_token']}").status_code == 200

    admin = Tenants(server.database_url).caller(organization_id=creator.organization_id)
    assert rest(server, "DELETE", f"/api-keys/{creator.key_id}", key=admin.key).status_code == 200

    refused = mcp_post(server, f"/mcp/{created['id']}/{created['access_token']}")
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]


def test_tools_list_is_cacheable_privately_for_a_minute(server: LiveServer) -> None:
    async def listed(client: Client) -> Any:
        return await client.list_tools()

    result = with_client(f"{server.url}/mcp", "auto", server.api_key, listed)

    assert result.ttl_ms == 60_000
    assert result.cache_scope == "private"


# ---- review findings: a credential answers only as what it is ------------------------------------------------------


def test_a_remembered_server_token_is_no_api_key_under_any_spelling(server: LiveServer) -> None:
    created = create_server(server)
    token_url = f"/mcp/{created['id']}/{created['access_token']}"
    assert mcp_post(server, token_url).status_code == 200  # now remembered by the process

    for spelling in (
        f"{created['id']}/{created['access_token']}",
        f"mcp_server:{created['id']}:token:{created['access_token']}",
        created["access_token"],
    ):
        minted = rest(server, "POST", "/api-keys", key=spelling, json={"name": "minted", "scopes": ["meta:read"]})
        assert minted.status_code == 401, spelling
        assert mcp_post(server, "/mcp", Authorization=f"Bearer {spelling}").status_code == 401, spelling


def test_a_key_used_through_a_server_leaves_nothing_an_id_could_open(server: LiveServer) -> None:
    victim = Tenants(server.database_url).caller(scopes=load_contract().scopes)
    created = create_server(server, key=victim.key)
    assert mcp_post(server, f"/mcp/{created['id']}", Authorization=f"Bearer {victim.key}").status_code == 200

    # The server id and the key id are not secrets (URLs, whoami): together they must open nothing.
    assert mcp_post(server, f"/mcp/{created['id']}/{victim.key_id}").status_code == 401
    for spelling in (f"{created['id']}/{victim.key_id}", f"mcp_server:{created['id']}:key:{victim.key_id}"):
        assert rest(server, "GET", "/meta/whoami", key=spelling).status_code == 401


def test_a_restricted_token_cannot_be_carried_to_another_server(server: LiveServer) -> None:
    narrow = create_server(server, restrictions={"projects": {"mode": "allowlist", "ids": [PROJECT_ID]}})
    wide = create_server(server)
    assert mcp_post(server, f"/mcp/{narrow['id']}/{narrow['access_token']}").status_code == 200

    carried = mcp_post(server, f"/mcp/{wide['id']}", Authorization=f"Bearer {narrow['id']}/{narrow['access_token']}")

    assert carried.status_code == 401


def test_delete_and_narrowing_reach_keys_used_through_the_server_at_once(server: LiveServer) -> None:
    deleted, narrowed = create_server(server), create_server(server)
    auth = f"Bearer {server.api_key}"
    assert mcp_post(server, f"/mcp/{deleted['id']}", Authorization=auth).status_code == 200
    assert not call(narrowed["url"], "auto", server.api_key, "meta_whoami", {}).is_error

    assert rest(server, "DELETE", f"/mcp-servers/{deleted['id']}").status_code == 204
    blocklist = {"restrictions": {"capabilities": {"mode": "blocklist", "ids": ["meta.whoami"]}}}
    assert rest(server, "PATCH", f"/mcp-servers/{narrowed['id']}", json=blocklist).status_code == 200

    assert mcp_post(server, f"/mcp/{deleted['id']}", Authorization=auth).status_code == 404
    refused = call(narrowed["url"], "auto", server.api_key, "meta_whoami", {})
    assert refused.is_error
    assert refused.structured_content["code"] == "forbidden"


def test_unknown_server_ids_draw_the_addresses_lookup_allowance(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'vaultgate.db'}"
    upgrade_to_head(database_url)
    caller = Tenants(database_url).caller()
    settings = Settings(database_url=database_url, blob_dir=tmp_path / "blobs", key_lookups_per_address=3)
    headers = {"Authorization": f"Bearer {caller.key}", "Accept": ACCEPT, "Host": "127.0.0.1:8080"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}

    with TestClient(create_app(settings)) as client:
        statuses = [client.post(f"/mcp/{uuid.uuid4()}", json=body, headers=headers).status_code for _ in range(4)]

    assert statuses[:2] == [404, 404]
    assert statuses[-1] == 429


def test_a_restricted_server_sees_only_the_runs_started_under_its_restrictions(server: LiveServer) -> None:
    example = EXAMPLES["completed_run"]["value"]
    restricted = create_server(server, restrictions={"projects": {"mode": "allowlist", "ids": [PROJECT_ID]}})
    arguments = {"workflow_id": example["workflow_id"], "inputs": example["inputs"], "project_id": PROJECT_ID}

    # A run in the admitted project, but started by an unrestricted key: its outputs may come from anywhere.
    body = {"inputs": example["inputs"], "project_id": PROJECT_ID}
    outside = rest(server, "POST", f"/workflows/{example['workflow_id']}/runs", json=body).json()
    assert "run_id" in outside, outside
    inside = call(restricted["access_url"], "auto", None, "workflows_run", arguments).structured_content

    seen = call(restricted["access_url"], "auto", None, "workflows_get_run_status", {"run_id": outside["run_id"]})
    own = call(restricted["access_url"], "auto", None, "workflows_get_run_status", {"run_id": inside["run_id"]})
    listed = call(restricted["access_url"], "auto", None, "workflows_list_runs", {"limit": 100}).structured_content

    assert seen.is_error
    assert seen.structured_content["code"] == "not_found"
    assert not own.is_error
    assert [run["run_id"] for run in listed["data"]] == [inside["run_id"]]


def test_a_capability_allowlist_cannot_be_widened_by_a_workflows_steps(server: LiveServer) -> None:
    example = EXAMPLES["completed_run"]["value"]
    allowlist = {"capabilities": {"mode": "allowlist", "ids": ["workflows.run", "workflows.get_run_status"]}}
    restricted = create_server(server, restrictions=allowlist)
    arguments = {"workflow_id": example["workflow_id"], "inputs": example["inputs"], "project_id": PROJECT_ID}

    refused = call(restricted["access_url"], "auto", None, "workflows_run", arguments)

    assert refused.is_error
    assert refused.structured_content["code"] == "forbidden"
    assert "vault." in refused.structured_content["detail"]


def test_narrowing_a_server_ends_replays_of_what_it_was_answered_before(server: LiveServer) -> None:
    example = EXAMPLES["completed_run"]["value"]
    created = create_server(server)
    arguments = {
        "workflow_id": example["workflow_id"],
        "inputs": example["inputs"],
        "project_id": PROJECT_ID,
        "idempotency_key": str(uuid.uuid4()),
    }
    assert not call(created["access_url"], "auto", None, "workflows_run", arguments).is_error
    narrowed = {"restrictions": {"capabilities": {"mode": "allowlist", "ids": ["workflows.run"]}}}
    assert rest(server, "PATCH", f"/mcp-servers/{created['id']}", json=narrowed).status_code == 200

    again = call(created["access_url"], "auto", None, "workflows_run", arguments)

    # Not the kept 202: the narrowed server's own checks run, and refuse the workflow's vault-reading steps.
    assert again.is_error
    assert again.structured_content["code"] == "forbidden"
