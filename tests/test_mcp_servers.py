"""mcp_servers.*: managed servers over the API, their path token, and the lookups the MCP edge uses."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.failures import NotFound
from core.settings import Settings
from gateway.app import create_app
from gateway.contract import load_contract
from storage import api_keys
from storage.database import session_scope
from storage.mcp_servers import (
    ListRule,
    Restrictions,
    ServerAccess,
    access_by_token,
    is_well_formed_token,
    server_in_tenant,
)
from storage.models import McpServer, Mode, Role, utcnow
from storage.tenancy import ListMode, ProjectScope, Tenant
from tests.conftest import ALL_SCOPES, Caller, Tenants

SERVERS = "/api/v2/mcp-servers"
KEYS = "/api/v2/api-keys"
PROJECTS = "/api/v2/projects"
SCOPES = [*ALL_SCOPES, "mcp:admin"]

Json = dict[str, Any]


@pytest.fixture
def admin(tenants: Tenants) -> Caller:
    return tenants.caller(scopes=SCOPES)


def create(client: TestClient, caller: Caller, **body: object) -> Json:
    response = client.post(SERVERS, headers=caller.headers, json={"name": "reviewer", **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def create_project(client: TestClient, caller: Caller, name: str = "Riverside Tower") -> str:
    response = client.post(PROJECTS, headers=caller.headers, json={"name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def mint_key(client: TestClient, caller: Caller, **body: object) -> Json:
    """A key of the caller's user, minted over the API (so it can be revoked or rotated there)."""
    response = client.post(KEYS, headers=caller.headers, json={"name": "for mcp", "scopes": SCOPES, **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def access(database_url: str, server_id: str, token: str, now: datetime | None = None) -> ServerAccess | str:
    with session_scope(database_url) as session:
        return access_by_token(session, uuid.UUID(server_id), token, now or utcnow())


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


def test_the_token_is_shown_once_and_only_its_hash_is_stored(
    client: TestClient, admin: Caller, database_url: str
) -> None:
    created = create(client, admin, description="For the reviewer agent")
    token = created["access_token"]

    fetched = client.get(f"{SERVERS}/{created['id']}", headers=admin.headers)
    listed = client.get(SERVERS, headers=admin.headers)

    assert created["url"] == f"http://127.0.0.1:8080/mcp/{created['id']}"
    assert created["access_url"] == f"{created['url']}/{token}"
    assert created["token_prefix"] == token[:12]
    assert (created["restrictions"], created["has_restrictions"]) == ({}, False)
    assert (created["description"], created["user_id"]) == ("For the reviewer agent", str(admin.user_id))
    assert fetched.status_code == listed.status_code == 200
    assert "access_token" not in fetched.json()
    assert [entry["id"] for entry in listed.json()["data"]] == [created["id"]]
    assert token[12:] not in fetched.text + listed.text
    with session_scope(database_url) as session:
        row = session.get_one(McpServer, uuid.UUID(created["id"]))
        stored = [str(getattr(row, column.key)) for column in McpServer.__table__.columns]
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.creator_key_id == admin.key_id
    assert not any(token[12:] in value for value in stored)


def test_create_answers_201_with_the_servers_location(client: TestClient, admin: Caller) -> None:
    response = client.post(SERVERS, headers=admin.headers, json={"name": "reviewer"})

    assert response.status_code == 201
    assert response.headers["location"] == f"{SERVERS}/{response.json()['id']}"
    assert client.get(response.headers["location"], headers=admin.headers).status_code == 200


def test_urls_name_the_public_url_never_the_host_header(settings: Settings, tenants: Tenants) -> None:
    caller = tenants.caller(scopes=SCOPES)
    public = settings.model_copy(update={"public_url": "https://vault.example.com/"})

    with TestClient(create_app(public), raise_server_exceptions=False) as client:
        response = client.post(
            SERVERS, headers={**caller.headers, "Host": "attacker.example"}, json={"name": "reviewer"}
        )

    assert response.status_code == 201
    assert response.json()["url"] == f"https://vault.example.com/mcp/{response.json()['id']}"
    assert response.json()["access_url"].startswith("https://vault.example.com/mcp/")


def test_a_name_is_taken_until_its_server_is_deleted(client: TestClient, admin: Caller, tenants: Tenants) -> None:
    first = create(client, admin, name="reviewer")
    other = create(client, admin, name="other")
    live_sibling = tenants.caller(mode=Mode.live, organization_id=admin.organization_id, scopes=SCOPES)

    duplicate = client.post(SERVERS, headers=admin.headers, json={"name": " reviewer "})
    renamed = client.patch(f"{SERVERS}/{other['id']}", headers=admin.headers, json={"name": "reviewer"})
    create(client, live_sibling, name="reviewer")  # another mode: another namespace
    deleted = client.delete(f"{SERVERS}/{first['id']}", headers=admin.headers)
    again = client.post(SERVERS, headers=admin.headers, json={"name": "reviewer"})

    assert (duplicate.status_code, renamed.status_code) == (409, 409)
    assert duplicate.json()["code"] == renamed.json()["code"] == "conflict"
    assert deleted.status_code == 204
    assert again.status_code == 201


def test_unknown_restriction_ids_are_422_one_error_each(client: TestClient, admin: Caller, tenants: Tenants) -> None:
    mine = create_project(client, admin)
    stranger = tenants.caller(scopes=SCOPES)
    foreign = create_project(client, stranger)
    live_sibling = tenants.caller(mode=Mode.live, organization_id=admin.organization_id, scopes=SCOPES)
    other_mode = create_project(client, live_sibling)
    restrictions = {
        "capabilities": {
            "mode": "allowlist",
            "ids": [
                "vault.search",
                "vault.no_such_thing",
                "api_keys.create",
                "mcp_servers.create",
                "vault.get_document",
            ],
        },
        "projects": {"mode": "blocklist", "ids": [mine, foreign, other_mode]},
    }

    response = client.post(SERVERS, headers=admin.headers, json={"name": "x", "restrictions": restrictions})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert [error["pointer"] for error in response.json()["errors"]] == [
        "/restrictions/capabilities/ids/1",
        "/restrictions/capabilities/ids/2",
        "/restrictions/capabilities/ids/3",
        "/restrictions/projects/ids/1",
        "/restrictions/projects/ids/2",
    ]
    assert "'vault.no_such_thing'" in response.json()["errors"][0]["detail"]
    assert client.get(SERVERS, headers=admin.headers).json()["data"] == []


def test_valid_restrictions_are_stored_as_given(client: TestClient, admin: Caller) -> None:
    project = create_project(client, admin)
    restrictions = {
        "capabilities": {"mode": "allowlist", "ids": ["vault.search", "vault.get_document"]},
        "projects": {"mode": "allowlist", "ids": [project.upper()]},
    }

    created = create(client, admin, restrictions=restrictions)

    assert created["has_restrictions"] is True
    assert created["restrictions"] == {
        "capabilities": {"mode": "allowlist", "ids": ["vault.search", "vault.get_document"]},
        "projects": {"mode": "allowlist", "ids": [project]},
    }


def test_update_changes_only_what_the_body_names(client: TestClient, admin: Caller, database_url: str) -> None:
    blocklist = {"capabilities": {"mode": "blocklist", "ids": ["vault.delete_document"]}}
    created = create(client, admin, description="before", restrictions=blocklist)
    url = f"{SERVERS}/{created['id']}"

    described = client.patch(url, headers=admin.headers, json={"description": "after"})
    cleared = client.patch(url, headers=admin.headers, json={"restrictions": {}})
    refused = client.patch(
        url, headers=admin.headers, json={"restrictions": {"capabilities": {"mode": "allowlist", "ids": ["nope"]}}}
    )

    assert described.status_code == 200
    assert (described.json()["name"], described.json()["description"]) == ("reviewer", "after")
    assert described.json()["restrictions"] == blocklist
    assert at(described.json()["updated_at"]) > at(created["updated_at"])
    assert (cleared.json()["restrictions"], cleared.json()["has_restrictions"]) == ({}, False)
    assert cleared.json()["token_expires_at"] == created["token_expires_at"]
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/restrictions/capabilities/ids/0"
    assert isinstance(access(database_url, created["id"], created["access_token"]), ServerAccess)


def test_the_token_expiry_cannot_be_patched(client: TestClient, admin: Caller) -> None:
    created = create(client, admin)

    response = client.patch(f"{SERVERS}/{created['id']}", headers=admin.headers, json={"token_expires_in_days": 5})

    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/token_expires_in_days"


def colleagues(tenants: Tenants) -> tuple[Caller, Caller]:
    admin = tenants.caller(scopes=SCOPES)
    return admin, tenants.caller(organization_id=admin.organization_id, role=Role.member, scopes=SCOPES)


def test_a_member_manages_only_their_own_servers(client: TestClient, tenants: Tenants) -> None:
    admin, member = colleagues(tenants)
    admins = create(client, admin, name="admin's")
    own = create(client, member, name="member's")
    url = f"{SERVERS}/{admins['id']}"

    answers = [
        client.get(url, headers=member.headers),
        client.patch(url, headers=member.headers, json={"name": "mine now"}),
        client.post(f"{url}/rotate-token", headers=member.headers),
        client.delete(url, headers=member.headers),
    ]
    listed = client.get(SERVERS, headers=member.headers).json()["data"]

    assert [answer.status_code for answer in answers] == [404, 404, 404, 404]
    assert {answer.json()["code"] for answer in answers} == {"not_found"}
    assert [entry["id"] for entry in listed] == [own["id"]]
    assert client.get(url, headers=admin.headers).json()["name"] == "admin's"
    assert client.patch(f"{SERVERS}/{own['id']}", headers=member.headers, json={"name": "m"}).status_code == 200


def test_an_admin_manages_every_server_of_the_organization(client: TestClient, tenants: Tenants) -> None:
    admin, member = colleagues(tenants)
    own = create(client, admin, name="admin's")
    members = create(client, member, name="member's")
    url = f"{SERVERS}/{members['id']}"

    listed = {entry["id"] for entry in client.get(SERVERS, headers=admin.headers).json()["data"]}
    fetched = client.get(url, headers=admin.headers)
    updated = client.patch(url, headers=admin.headers, json={"description": "checked by the admin"})
    deleted = client.delete(url, headers=admin.headers)

    assert listed == {own["id"], members["id"]}
    assert fetched.status_code == updated.status_code == 200
    assert deleted.status_code == 204
    assert client.get(url, headers=member.headers).status_code == 404


def test_an_admin_cannot_rotate_a_members_server_but_can_delete_it(
    client: TestClient, tenants: Tenants, database_url: str
) -> None:
    admin, member = colleagues(tenants)
    members = create(client, member)

    rotated = client.post(f"{SERVERS}/{members['id']}/rotate-token", headers=admin.headers)

    assert rotated.status_code == 403
    assert rotated.json()["code"] == "forbidden"
    # The member's token still works and still acts as the member.
    opened = access(database_url, members["id"], members["access_token"])
    assert isinstance(opened, ServerAccess)
    assert opened.credential.user_id == member.user_id
    assert client.delete(f"{SERVERS}/{members['id']}", headers=admin.headers).status_code == 204


def test_another_tenants_server_is_404_for_every_operation(client: TestClient, tenants: Tenants) -> None:
    mine = tenants.caller(scopes=SCOPES)
    stranger = tenants.caller(scopes=SCOPES)
    live_sibling = tenants.caller(mode=Mode.live, organization_id=mine.organization_id, scopes=SCOPES)

    for other in (stranger, live_sibling):
        url = f"{SERVERS}/{create(client, other)['id']}"
        assert client.get(url, headers=mine.headers).status_code == 404
        assert client.patch(url, headers=mine.headers, json={"name": "x"}).status_code == 404
        assert client.post(f"{url}/rotate-token", headers=mine.headers).status_code == 404
        assert client.delete(url, headers=mine.headers).status_code == 404
    assert client.get(SERVERS, headers=mine.headers).json()["data"] == []


def test_rotation_issues_a_new_token_and_the_old_one_stops_at_once(
    client: TestClient, admin: Caller, database_url: str
) -> None:
    created = create(client, admin, token_expires_in_days=30)
    before = utcnow()

    rotated = client.post(
        f"{SERVERS}/{created['id']}/rotate-token", headers=admin.headers, json={"token_expires_in_days": 2}
    )

    assert rotated.status_code == 200
    new = rotated.json()
    assert new["access_token"] != created["access_token"]
    assert new["token_prefix"] == new["access_token"][:12]
    assert new["url"] == created["url"]
    assert before + timedelta(days=2) <= at(new["token_expires_at"]) <= utcnow() + timedelta(days=2)
    assert access(database_url, created["id"], created["access_token"]) == "unknown"
    assert isinstance(access(database_url, created["id"], new["access_token"]), ServerAccess)


def test_rotate_without_a_body_gives_thirty_days(client: TestClient, admin: Caller) -> None:
    created = create(client, admin, token_expires_in_days=3)

    rotated = client.post(f"{SERVERS}/{created['id']}/rotate-token", headers=admin.headers)

    assert rotated.status_code == 200
    assert at(rotated.json()["token_expires_at"]) - at(rotated.json()["updated_at"]) == timedelta(days=30)


def test_a_deleted_servers_token_is_unknown(client: TestClient, admin: Caller, database_url: str) -> None:
    created = create(client, admin)

    deleted = client.delete(f"{SERVERS}/{created['id']}", headers=admin.headers)

    assert deleted.status_code == 204
    assert access(database_url, created["id"], created["access_token"]) == "unknown"
    assert client.get(f"{SERVERS}/{created['id']}", headers=admin.headers).status_code == 404
    assert client.delete(f"{SERVERS}/{created['id']}", headers=admin.headers).status_code == 404
    with session_scope(database_url) as session, pytest.raises(NotFound):
        server_in_tenant(session, Tenant(admin.organization_id, Mode.test), uuid.UUID(created["id"]))


def test_the_token_expires_no_later_than_the_key_that_made_it(
    client: TestClient, admin: Caller, database_url: str
) -> None:
    expires_at = (utcnow() + timedelta(hours=1)).replace(microsecond=0)
    short = bearer(mint_key(client, admin, expires_at=expires_at.isoformat())["key"])

    created = client.post(SERVERS, headers=short, json={"name": "short", "token_expires_in_days": 30}).json()
    rotated = client.post(f"{SERVERS}/{created['id']}/rotate-token", headers=short).json()

    assert at(created["token_expires_at"]) == at(rotated["token_expires_at"]) == expires_at
    token = rotated["access_token"]
    assert isinstance(access(database_url, created["id"], token, expires_at - timedelta(seconds=1)), ServerAccess)
    # At that instant the key and the token end together; the answer names the key, the cause.
    assert access(database_url, created["id"], token, expires_at) == "creator_key_expired"


def test_the_token_stops_when_the_key_that_made_it_is_revoked(
    client: TestClient, admin: Caller, database_url: str
) -> None:
    minted = mint_key(client, admin)
    created = client.post(SERVERS, headers=bearer(minted["key"]), json={"name": "x"}).json()

    assert client.delete(f"{KEYS}/{minted['id']}", headers=admin.headers).status_code == 200

    assert access(database_url, created["id"], created["access_token"]) == "creator_key_revoked"


def test_the_token_stops_when_the_key_that_made_it_is_retired_by_rotation(
    client: TestClient, admin: Caller, database_url: str
) -> None:
    minted = mint_key(client, admin)
    created = client.post(SERVERS, headers=bearer(minted["key"]), json={"name": "x"}).json()

    rotated = client.post(f"{KEYS}/{minted['id']}/rotate", headers=admin.headers, json={"grace_period_seconds": 60})

    assert rotated.status_code == 201
    token = created["access_token"]
    assert isinstance(access(database_url, created["id"], token), ServerAccess)
    assert access(database_url, created["id"], token, utcnow() + timedelta(seconds=61)) == "creator_key_expired"


def test_a_token_opens_only_its_own_server(client: TestClient, admin: Caller, database_url: str) -> None:
    first = create(client, admin, name="first")
    second = create(client, admin, name="second")

    assert access(database_url, second["id"], first["access_token"]) == "unknown"
    assert access(database_url, str(uuid.uuid4()), first["access_token"]) == "unknown"
    opened = access(database_url, first["id"], first["access_token"])
    assert isinstance(opened, ServerAccess)
    assert (opened.server_id, opened.name, opened.token_prefix) == (
        uuid.UUID(first["id"]),
        "first",
        first["token_prefix"],
    )
    assert (opened.organization_id, opened.mode, opened.credential.key_id) == (
        admin.organization_id,
        Mode.test,
        admin.key_id,
    )


def test_tokens_and_api_keys_never_pass_for_each_other(client: TestClient, admin: Caller, database_url: str) -> None:
    token = create(client, admin)["access_token"]
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")

    assert is_well_formed_token(token)
    assert not api_keys.is_well_formed(token)
    assert api_keys.is_well_formed(admin.key)
    assert not is_well_formed_token(admin.key)
    assert not is_well_formed_token(tampered)
    assert client.get("/api/v2/meta/whoami", headers=bearer(token)).status_code == 401
    with session_scope(database_url) as session:
        assert api_keys.find_credential(session, token) is None


def test_an_api_key_is_not_a_servers_token(client: TestClient, admin: Caller, database_url: str) -> None:
    created = create(client, admin)

    assert access(database_url, created["id"], admin.key) == "unknown"


def test_server_in_tenant_finds_any_users_server_of_the_tenant_only(
    client: TestClient, tenants: Tenants, database_url: str
) -> None:
    admin, member = colleagues(tenants)
    project = create_project(client, admin)
    restrictions = {"projects": {"mode": "allowlist", "ids": [project]}}
    members = create(client, member, restrictions=restrictions)
    server_id = uuid.UUID(members["id"])

    with session_scope(database_url) as session:
        found = server_in_tenant(session, Tenant(admin.organization_id, Mode.test), server_id)
        with pytest.raises(NotFound):
            server_in_tenant(session, Tenant(admin.organization_id, Mode.live), server_id)
        with pytest.raises(NotFound):
            server_in_tenant(session, Tenant(uuid.uuid4(), Mode.test), server_id)

    assert (found.server_id, found.credential.user_id) == (server_id, member.user_id)
    assert found.restrictions.project_scope() == ProjectScope(ListMode.allowlist, frozenset({uuid.UUID(project)}))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", SERVERS),
        ("POST", SERVERS),
        ("GET", f"{SERVERS}/{uuid.UUID(int=1)}"),
        ("PATCH", f"{SERVERS}/{uuid.UUID(int=1)}"),
        ("DELETE", f"{SERVERS}/{uuid.UUID(int=1)}"),
        ("POST", f"{SERVERS}/{uuid.UUID(int=1)}/rotate-token"),
    ],
)
def test_every_operation_needs_mcp_admin(client: TestClient, tenants: Tenants, method: str, path: str) -> None:
    caller = tenants.caller(scopes=ALL_SCOPES)
    body = {"name": "x"} if method in ("POST", "PATCH") else None

    response = client.request(method, path, headers=caller.headers, json=body)

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert "mcp:admin" in response.headers["www-authenticate"]


def test_pages_walk_every_server_once_newest_first(client: TestClient, admin: Caller) -> None:
    created = [create(client, admin, name=f"server {n}")["id"] for n in range(5)]
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2}

    while True:
        page = client.get(SERVERS, headers=admin.headers, params=params).json()
        seen += [entry["id"] for entry in page["data"]]
        if not page["has_more"]:
            break
        params["cursor"] = page["next_cursor"]

    assert seen == list(reversed(created))


def test_credential_operations_are_never_mcp_tools() -> None:
    contract = load_contract()

    credential_operations = [
        op for op in contract.operations if op.operation_id.split(".")[0] in ("api_keys", "mcp_servers")
    ]

    assert {"api_keys.create", "mcp_servers.create", "mcp_servers.rotate_token"} <= {
        op.operation_id for op in credential_operations
    }
    assert [op.operation_id for op in credential_operations if op.mcp] == []


ALLOW = ListRule(ListMode.allowlist, ("vault.search", "vault.get_document"))
BLOCK = ListRule(ListMode.blocklist, ("vault.delete_document",))


def test_a_capabilities_allowlist_admits_only_its_operations() -> None:
    restrictions = Restrictions(capabilities=ALLOW, projects=None)

    assert restrictions.admits_operation("vault.search")
    assert restrictions.admits_operation("vault.get_document")
    assert not restrictions.admits_operation("vault.delete_document")


def test_a_capabilities_blocklist_admits_all_but_its_operations() -> None:
    restrictions = Restrictions(capabilities=BLOCK, projects=None)

    assert not restrictions.admits_operation("vault.delete_document")
    assert restrictions.admits_operation("vault.search")


def test_no_restrictions_admit_everything() -> None:
    for restrictions in (Restrictions.from_json(None), Restrictions.from_json({})):
        assert restrictions == Restrictions(capabilities=None, projects=None)
        assert restrictions.admits_operation("vault.delete_document")
        assert restrictions.project_scope() is None


def test_an_empty_allowlist_admits_nothing_and_an_empty_blocklist_everything() -> None:
    assert not ListRule(ListMode.allowlist, ()).admits("vault.search")
    assert ListRule(ListMode.blocklist, ()).admits("vault.search")


def test_the_projects_rule_becomes_the_tenants_project_scope() -> None:
    inside, outside = uuid.uuid4(), uuid.uuid4()
    data = {
        "capabilities": {"mode": "allowlist", "ids": ["vault.search"]},
        "projects": {"mode": "allowlist", "ids": [str(inside)]},
    }

    allowlist = Restrictions.from_json(data).project_scope()
    blocklist = Restrictions.from_json({"projects": {"mode": "blocklist", "ids": [str(inside)]}}).project_scope()

    assert allowlist is not None
    assert allowlist == ProjectScope(ListMode.allowlist, frozenset({inside}))
    assert allowlist.admits(inside)
    assert not allowlist.admits(outside)
    assert not allowlist.admits(None)  # an object in no project is outside an allowlist
    assert blocklist is not None
    assert not blocklist.admits(inside)
    assert blocklist.admits(outside)
    assert blocklist.admits(None)
    assert Restrictions.from_json(data).as_data() == data


def test_an_expiry_is_required_for_every_token(client: TestClient, admin: Caller) -> None:
    for days in (0, 366):
        response = client.post(SERVERS, headers=admin.headers, json={"name": "x", "token_expires_in_days": days})
        assert response.status_code == 400
        assert response.json()["errors"][0]["pointer"] == "/token_expires_in_days"


def test_ids_are_capped_and_unique(client: TestClient, admin: Caller) -> None:
    too_many = {"capabilities": {"mode": "blocklist", "ids": [f"op.{n}" for n in range(201)]}}
    repeated = {"capabilities": {"mode": "blocklist", "ids": ["vault.search", "vault.search"]}}

    for restrictions in (too_many, repeated):
        response = client.post(SERVERS, headers=admin.headers, json={"name": "x", "restrictions": restrictions})
        assert response.status_code == 400
        assert response.json()["errors"][0]["pointer"] == "/restrictions/capabilities/ids"


def test_the_servers_token_expiry_follows_its_creating_key_rotated_or_revoked(
    client: TestClient, admin: Caller
) -> None:
    rotated_key, revoked_key = mint_key(client, admin), mint_key(client, admin)
    follows_rotation = create(
        client, Caller(rotated_key["key"], uuid.UUID(rotated_key["id"]), admin.organization_id, admin.user_id)
    )
    follows_revocation = create(
        client,
        Caller(revoked_key["key"], uuid.UUID(revoked_key["id"]), admin.organization_id, admin.user_id),
        name="second",
    )

    rotation = client.post(
        f"/api/v2/api-keys/{rotated_key['id']}/rotate", headers=admin.headers, json={"grace_period_seconds": 60}
    )
    revocation = client.delete(f"/api/v2/api-keys/{revoked_key['id']}", headers=admin.headers)
    assert rotation.status_code == 201
    assert revocation.status_code == 200

    # What the server says is when its token stops: with the old key's grace period, or at the revocation.
    after_rotation = client.get(f"{SERVERS}/{follows_rotation['id']}", headers=admin.headers).json()
    after_revocation = client.get(f"{SERVERS}/{follows_revocation['id']}", headers=admin.headers).json()
    assert datetime.fromisoformat(after_rotation["token_expires_at"]) <= utcnow() + timedelta(seconds=61)
    assert datetime.fromisoformat(after_revocation["token_expires_at"]) <= utcnow()
