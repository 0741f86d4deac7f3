"""meta.*: the first real operations, answered as the contract says."""

from __future__ import annotations

from starlette.testclient import TestClient

from gateway.contract import load_contract
from tests.conftest import Caller


def test_whoami_describes_the_caller(client: TestClient, caller: Caller) -> None:
    response = client.get("/api/v2/meta/whoami", headers=caller.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["auth_kind"] == "api_key"
    assert body["mode"] == "test"
    assert body["key"]["id"] == str(caller.key_id)
    assert body["key"]["prefix"] == caller.key[:12]
    assert body["organization"]["id"] == str(caller.organization_id)
    assert body["organization"]["tier"] == "pro"
    assert body["user"]["role"] == "admin"
    assert "meta:read" in body["scopes"]


def test_whoami_never_reveals_the_key_or_its_hash(client: TestClient, caller: Caller) -> None:
    text = client.get("/api/v2/meta/whoami", headers=caller.headers).text

    assert caller.key not in text
    assert caller.key[12:] not in text


def test_capabilities_lists_every_operation_from_the_spec(client: TestClient, caller: Caller) -> None:
    response = client.get("/api/v2/meta/capabilities", headers=caller.headers)

    assert response.status_code == 200
    listed = {entry["name"]: entry for entry in response.json()["data"]}
    spec = load_contract().document["paths"]
    assert set(listed) == {op["operationId"] for item in spec.values() for op in item.values()}
    whoami = listed["meta.whoami"]
    assert (whoami["method"], whoami["path"]) == ("GET", "/api/v2/meta/whoami")
    assert (whoami["scope"], whoami["cost"]) == (
        spec["/meta/whoami"]["get"]["x-scope"],
        spec["/meta/whoami"]["get"]["x-cost"],
    )
    assert listed["meta.health"]["mcp"] is False


def test_health_needs_no_credentials_and_checks_the_database(client: TestClient) -> None:
    response = client.get("/api/v2/health")

    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_served_spec_keeps_its_servers(client: TestClient) -> None:
    response = client.get("/api/v2/openapi.json")

    assert response.status_code == 200
    assert response.json()["servers"] == [{"url": "/api/v2"}]
