"""api_keys.*: the key lifecycle over the API, and the cursor pagination every list shares."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from core.settings import Settings
from storage.database import dispose_engine, session_scope
from storage.models import ApiKey, Mode, Role, utcnow
from tests.conftest import Caller, Tenants, free_port, start_server

KEYS = "/api/v2/api-keys"
WHOAMI = "/api/v2/meta/whoami"


def create(client: TestClient, caller: Caller, **body: object) -> dict:  # type: ignore[type-arg]
    response = client.post(KEYS, headers=caller.headers, json={"name": "ci", "scopes": ["meta:read"], **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_created_key_works_and_its_secret_is_shown_once(client: TestClient, caller: Caller) -> None:
    created = create(client, caller)

    assert client.get(WHOAMI, headers=bearer(created["key"])).json()["key"]["id"] == created["id"]
    assert created["mode"] == "test"
    listed = client.get(KEYS, headers=caller.headers).json()["data"]
    assert all("key" not in entry for entry in listed)
    assert created["key"] not in client.get(KEYS, headers=caller.headers).text


def test_a_key_cannot_grant_scopes_it_lacks(client: TestClient, tenants: Tenants) -> None:
    caller = tenants.caller(scopes=["keys:admin"])

    response = client.post(KEYS, headers=caller.headers, json={"name": "x", "scopes": ["vault:write"]})

    assert response.status_code == 403
    assert "vault:write" in response.json()["detail"]


def test_invalid_body_lists_every_field(client: TestClient, caller: Caller) -> None:
    response = client.post(KEYS, headers=caller.headers, json={"name": "", "scopes": ["root"], "colour": 1})

    assert response.status_code == 400
    pointers = sorted(error["pointer"] for error in response.json()["errors"])
    assert pointers == ["/colour", "/name", "/scopes/0"]


def test_expiry_in_the_past_is_422_with_a_pointer(client: TestClient, caller: Caller) -> None:
    body = {"name": "x", "scopes": ["meta:read"], "expires_at": "2020-01-01T00:00:00Z"}

    response = client.post(KEYS, headers=caller.headers, json=body)

    assert response.status_code == 422
    assert response.json()["errors"] == [{"detail": "expires_at must be in the future", "pointer": "/expires_at"}]


def test_expiry_without_an_offset_is_refused(client: TestClient, caller: Caller) -> None:
    body = {"name": "x", "scopes": ["meta:read"], "expires_at": "2030-01-01T00:00:00"}

    response = client.post(KEYS, headers=caller.headers, json=body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/expires_at"


def test_key_with_an_expiry_works_until_then(client: TestClient, caller: Caller) -> None:
    created = create(client, caller, expires_at="2099-01-01T00:00:00+02:00")

    assert created["expires_at"].startswith("2098-12-31T22:00:00")
    assert client.get(WHOAMI, headers=bearer(created["key"])).status_code == 200


def test_json_body_with_the_wrong_content_type_is_415(client: TestClient, caller: Caller) -> None:
    response = client.post(KEYS, headers={**caller.headers, "Content-Type": "text/plain"}, content=b"{}")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_revoked_key_stops_working_at_once(client: TestClient, caller: Caller) -> None:
    created = create(client, caller)

    response = client.delete(f"{KEYS}/{created['id']}", headers=caller.headers)

    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert client.get(WHOAMI, headers=bearer(created["key"])).status_code == 401


def test_a_key_cannot_revoke_itself(client: TestClient, caller: Caller) -> None:
    response = client.delete(f"{KEYS}/{caller.key_id}", headers=caller.headers)

    assert response.status_code == 409
    assert client.get(WHOAMI, headers=caller.headers).status_code == 200


def test_rotation_keeps_the_old_key_for_the_grace_period(
    client: TestClient, caller: Caller, database_url: str, settings: Settings
) -> None:
    old = create(client, caller)

    rotated = client.post(f"{KEYS}/{old['id']}/rotate", headers=caller.headers, json={"grace_period_seconds": 60})

    assert rotated.status_code == 201
    new = rotated.json()
    assert new["id"] != old["id"]
    assert (new["name"], new["scopes"]) == (old["name"], old["scopes"])
    assert client.get(WHOAMI, headers=bearer(old["key"])).status_code == 200
    assert client.get(WHOAMI, headers=bearer(new["key"])).status_code == 200
    with session_scope(database_url) as session:  # the grace period ends
        session.execute(
            update(ApiKey).where(ApiKey.id == uuid.UUID(old["id"])).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    time.sleep(settings.credential_cache_seconds + 0.05)  # a cached principal may live that long
    assert client.get(WHOAMI, headers=bearer(old["key"])).status_code == 401
    assert client.get(WHOAMI, headers=bearer(new["key"])).status_code == 200


def test_rotate_takes_no_body_but_refuses_a_null_one(client: TestClient, caller: Caller) -> None:
    created = create(client, caller)
    json_headers = {**caller.headers, "Content-Type": "application/json"}

    refused = client.post(f"{KEYS}/{created['id']}/rotate", headers=json_headers, content=b"null")
    # A scalar where an object with defaults belongs used to crash the defaults filler (a 500).
    scalar = client.post(f"{KEYS}/{created['id']}/rotate", headers=json_headers, content=b"-5.2e16")

    assert refused.status_code == 400
    assert scalar.status_code == 400
    assert scalar.json()["errors"][0]["pointer"] == ""
    assert client.post(f"{KEYS}/{created['id']}/rotate", headers=caller.headers).status_code == 201


def test_revoked_key_cannot_be_rotated(client: TestClient, caller: Caller) -> None:
    created = create(client, caller)
    client.delete(f"{KEYS}/{created['id']}", headers=caller.headers)

    assert client.post(f"{KEYS}/{created['id']}/rotate", headers=caller.headers).status_code == 409


def test_another_tenants_key_is_404_for_every_operation(client: TestClient, tenants: Tenants) -> None:
    mine = tenants.caller()
    live_sibling = tenants.caller(mode=Mode.live, organization_id=mine.organization_id)
    stranger = tenants.caller()

    for other in (live_sibling, stranger):
        assert client.delete(f"{KEYS}/{other.key_id}", headers=mine.headers).status_code == 404
        assert client.post(f"{KEYS}/{other.key_id}/rotate", headers=mine.headers).status_code == 404
    listed = {entry["id"] for entry in client.get(KEYS, headers=mine.headers).json()["data"]}
    assert listed == {str(mine.key_id)}


def colleagues(tenants: Tenants) -> tuple[Caller, Caller]:
    """An organization admin and a member of the same organization, the member's key holding every scope."""
    admin = tenants.caller()
    return admin, tenants.caller(organization_id=admin.organization_id, role=Role.member)


def test_a_member_cannot_rotate_revoke_or_list_an_admins_key(client: TestClient, tenants: Tenants) -> None:
    admin, member = colleagues(tenants)

    rotated = client.post(f"{KEYS}/{admin.key_id}/rotate", headers=member.headers)
    revoked = client.delete(f"{KEYS}/{admin.key_id}", headers=member.headers)
    listed = client.get(KEYS, headers=member.headers).json()["data"]

    assert (rotated.status_code, revoked.status_code) == (404, 404)
    assert rotated.json()["code"] == revoked.json()["code"] == "not_found"
    assert [entry["id"] for entry in listed] == [str(member.key_id)]
    whoami = client.get(WHOAMI, headers=admin.headers)
    assert whoami.status_code == 200
    assert whoami.json()["key"]["expires_at"] is None


def test_a_member_manages_their_own_keys(client: TestClient, tenants: Tenants) -> None:
    _, member = colleagues(tenants)
    own = create(client, member)

    rotated = client.post(f"{KEYS}/{own['id']}/rotate", headers=member.headers)
    revoked = client.delete(f"{KEYS}/{rotated.json()['id']}", headers=member.headers)

    assert rotated.status_code == 201
    assert rotated.json()["user_id"] == str(member.user_id)
    assert revoked.status_code == 200


def test_an_admin_manages_every_key_of_the_organization(client: TestClient, tenants: Tenants) -> None:
    admin, member = colleagues(tenants)

    listed = {entry["id"] for entry in client.get(KEYS, headers=admin.headers).json()["data"]}
    revoked = client.delete(f"{KEYS}/{member.key_id}", headers=admin.headers)

    assert listed == {str(admin.key_id), str(member.key_id)}
    assert revoked.status_code == 200
    assert client.get(WHOAMI, headers=member.headers).status_code == 401


def test_rotation_grants_only_scopes_the_caller_holds(client: TestClient, caller: Caller) -> None:
    narrow = create(client, caller, scopes=["keys:admin"])

    response = client.post(f"{KEYS}/{caller.key_id}/rotate", headers=bearer(narrow["key"]))

    assert response.status_code == 403
    assert "vault:write" in response.json()["detail"]
    assert client.get(WHOAMI, headers=caller.headers).json()["key"]["expires_at"] is None


def test_an_admin_revokes_but_never_rotates_another_users_key(client: TestClient, tenants: Tenants) -> None:
    admin, member = colleagues(tenants)

    rotated = client.post(f"{KEYS}/{member.key_id}/rotate", headers=admin.headers)

    # A rotation would hand the admin a working key acting as the member.
    assert rotated.status_code == 403
    assert "only they can rotate it" in rotated.json()["detail"]
    assert client.get(WHOAMI, headers=member.headers).json()["key"]["expires_at"] is None


def test_a_narrow_key_cannot_replay_what_a_broader_key_of_its_user_minted(client: TestClient, caller: Caller) -> None:
    narrow = bearer(create(client, caller, scopes=["keys:admin"])["key"])
    body = {"name": "deploy", "scopes": ["vault:write"]}
    minted = client.post(KEYS, headers={**caller.headers, "Idempotency-Key": "mint-1"}, json=body)

    replayed = client.post(KEYS, headers={**narrow, "Idempotency-Key": "mint-1"}, json=body)

    assert minted.status_code == 201
    assert replayed.status_code == 403
    assert "idempotent-replayed" not in replayed.headers
    assert minted.json()["key"] not in replayed.text


def test_an_expiring_key_never_mints_a_key_that_outlives_it(client: TestClient, caller: Caller) -> None:
    expires_at = (utcnow() + timedelta(hours=1)).replace(microsecond=0)
    short = create(client, caller, scopes=["keys:admin", "meta:read"], expires_at=expires_at.isoformat())
    short_headers = bearer(short["key"])

    unbounded = client.post(KEYS, headers=short_headers, json={"name": "x", "scopes": ["meta:read"]})
    later = client.post(
        KEYS,
        headers=short_headers,
        json={"name": "x", "scopes": ["meta:read"], "expires_at": (expires_at + timedelta(days=1)).isoformat()},
    )
    lasting = create(client, caller)
    rotated = client.post(f"{KEYS}/{lasting['id']}/rotate", headers=short_headers)

    assert unbounded.status_code == 201
    assert datetime.fromisoformat(unbounded.json()["expires_at"]) == expires_at
    assert later.status_code == 422
    assert later.json()["errors"][0]["pointer"] == "/expires_at"
    assert "calling key's own expiry" in later.json()["detail"]
    assert rotated.status_code == 201
    assert datetime.fromisoformat(rotated.json()["expires_at"]) == expires_at


def test_malformed_key_id_is_400_naming_the_parameter(client: TestClient, caller: Caller) -> None:
    response = client.delete(f"{KEYS}/not-a-uuid", headers=caller.headers)

    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "key_id"


def walk(client: TestClient, caller: Caller, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = client.get(KEYS, headers=caller.headers, params=params).json()
        seen += [entry["id"] for entry in page["data"]]
        assert page["has_more"] == (page["next_cursor"] is not None)
        if not page["has_more"]:
            return seen
        cursor = page["next_cursor"]


def test_pages_walk_every_key_once_newest_first(client: TestClient, caller: Caller) -> None:
    created = [create(client, caller)["id"] for _ in range(7)]

    seen = walk(client, caller, limit=3)

    assert seen == [*reversed(created), str(caller.key_id)]


def test_walking_while_inserting_yields_no_duplicates_and_no_gaps(client: TestClient, caller: Caller) -> None:
    before = {create(client, caller)["id"] for _ in range(12)} | {str(caller.key_id)}
    stop = threading.Event()

    def insert_concurrently() -> None:
        while not stop.is_set():
            create(client, caller)

    writer = threading.Thread(target=insert_concurrently)
    writer.start()
    try:
        seen = walk(client, caller, limit=2)
    finally:
        stop.set()
        writer.join()

    assert len(seen) == len(set(seen))
    assert before <= set(seen)


def test_tampered_cursor_is_a_400(client: TestClient, caller: Caller) -> None:
    for _ in range(3):
        create(client, caller)
    cursor = client.get(KEYS, headers=caller.headers, params={"limit": 1}).json()["next_cursor"]
    payload, signature = cursor.split(".")
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature

    for forged in (tampered, cursor + "x", "e30.AAAA"):
        response = client.get(KEYS, headers=caller.headers, params={"cursor": forged})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_cursor"
        assert response.json()["errors"][0]["parameter"] == "cursor"
    misshapen = client.get(KEYS, headers=caller.headers, params={"cursor": "garbage"})
    assert misshapen.status_code == 400
    assert misshapen.json()["errors"][0]["parameter"] == "cursor"


def test_another_tenants_cursor_is_a_400(client: TestClient, tenants: Tenants) -> None:
    mine, theirs = tenants.caller(), tenants.caller()
    for _ in range(2):
        create(client, theirs)
    their_cursor = client.get(KEYS, headers=theirs.headers, params={"limit": 1}).json()["next_cursor"]

    response = client.get(KEYS, headers=mine.headers, params={"cursor": their_cursor})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("limit", [0, 101, "ten"])
def test_limit_out_of_range_is_400(client: TestClient, caller: Caller, limit: int | str) -> None:
    response = client.get(KEYS, headers=caller.headers, params={"limit": limit})

    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "limit"


def test_revocation_through_one_process_reaches_another_within_a_second(
    tmp_path: Path, tenants: Tenants, database_url: str
) -> None:
    admin = tenants.caller()
    victim = tenants.caller(organization_id=admin.organization_id)
    dispose_engine(database_url)
    ports = [free_port(), free_port()]
    servers = [start_server(database_url, port, tmp_path / f"server-{port}.log") for port in ports]
    first, second = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        assert httpx.get(second + WHOAMI, headers=victim.headers).status_code == 200  # now cached there
        assert httpx.delete(f"{first}{KEYS}/{victim.key_id}", headers=admin.headers).status_code == 200
        assert httpx.get(first + WHOAMI, headers=victim.headers).status_code == 401
        time.sleep(1.05)
        assert httpx.get(second + WHOAMI, headers=victim.headers).status_code == 401
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
