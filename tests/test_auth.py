"""Keys and tenancy: who gets in, with which scopes, seeing which data."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from starlette.testclient import TestClient

from core.failures import NotFound
from core.settings import Settings
from gateway.app import create_app
from gateway.rate_limits import client_address
from storage import api_keys
from storage.database import engine_for, session_scope
from storage.models import ApiKey, Mode, utcnow
from storage.tenancy import Tenant
from tests.conftest import Caller, Tenants

WHOAMI = "/api/v2/meta/whoami"


def assert_unauthorized(response, detail_fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith('Bearer realm="vaultgate"')
    problem = response.json()
    assert problem["code"] == "unauthorized"
    assert detail_fragment in problem["detail"]
    assert problem["request_id"] == response.headers["x-request-id"]


def test_missing_key_is_401_with_a_bare_challenge(client: TestClient) -> None:
    response = client.get(WHOAMI)

    assert_unauthorized(response, "Missing Authorization")
    assert "error=" not in response.headers["www-authenticate"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "vg_test_abc"])
def test_non_bearer_authorization_is_401(client: TestClient, header: str) -> None:
    assert_unauthorized(client.get(WHOAMI, headers={"Authorization": header}), "Bearer <api key>")


def test_key_with_a_bad_checksum_is_refused(client: TestClient, caller: Caller) -> None:
    last = caller.key[-1]
    forged = caller.key[:-1] + ("0" if last != "0" else "1")

    assert_unauthorized(client.get(WHOAMI, headers={"Authorization": f"Bearer {forged}"}), "malformed")


def test_well_formed_unknown_key_is_refused(client: TestClient) -> None:
    unknown = api_keys.generate_key(Mode.live)

    assert_unauthorized(client.get(WHOAMI, headers={"Authorization": f"Bearer {unknown}"}), "not recognized")


def test_key_revoked_elsewhere_is_refused_within_a_second(
    client: TestClient, caller: Caller, database_url: str, settings: Settings
) -> None:
    assert client.get(WHOAMI, headers=caller.headers).status_code == 200
    with session_scope(database_url) as session:  # as another process would
        key = session.get(ApiKey, caller.key_id)
        assert key is not None
        api_keys.revoke_key(session, key, utcnow())

    time.sleep(settings.credential_cache_seconds + 0.05)
    assert_unauthorized(client.get(WHOAMI, headers=caller.headers), "revoked")


def test_expired_key_is_refused(client: TestClient, caller: Caller, database_url: str) -> None:
    with session_scope(database_url) as session:
        key = session.get(ApiKey, caller.key_id)
        assert key is not None
        key.expires_at = utcnow() - timedelta(seconds=1)

    assert_unauthorized(client.get(WHOAMI, headers=caller.headers), "expired")


def test_key_without_the_operation_scope_is_403_insufficient_scope(client: TestClient, tenants: Tenants) -> None:
    caller = tenants.caller(scopes=["vault:read"])

    response = client.get(WHOAMI, headers=caller.headers)

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert 'scope="meta:read"' in response.headers["www-authenticate"]


def test_only_the_hash_and_prefix_of_a_key_are_stored(caller: Caller, database_url: str) -> None:
    with session_scope(database_url) as session:
        key = session.get(ApiKey, caller.key_id)
        assert key is not None
        stored = [str(value) for value in vars(key).values()]

    assert caller.key not in stored
    assert key.prefix == caller.key[:12]
    assert key.key_hash == api_keys.hash_key(caller.key)


def test_use_records_last_used_at(client: TestClient, caller: Caller, database_url: str) -> None:
    client.get(WHOAMI, headers=caller.headers)

    with session_scope(database_url) as session:
        key = session.get(ApiKey, caller.key_id)
        assert key is not None
        assert key.last_used_at is not None


def test_a_test_key_never_sees_live_objects(tenants: Tenants, database_url: str) -> None:
    live = tenants.caller(mode=Mode.live)
    test = tenants.caller(mode=Mode.test, organization_id=live.organization_id)
    test_tenant = Tenant(live.organization_id, Mode.test)

    with session_scope(database_url) as session:
        visible = set(session.scalars(test_tenant.select(ApiKey).with_only_columns(ApiKey.id)))
        with pytest.raises(NotFound):
            test_tenant.get(session, ApiKey, live.key_id)
        assert test_tenant.get(session, ApiKey, test.key_id).id == test.key_id

    assert visible == {test.key_id}


def test_another_organizations_id_is_not_found(tenants: Tenants, database_url: str) -> None:
    mine, theirs = tenants.caller(), tenants.caller()

    with session_scope(database_url) as session:
        with pytest.raises(NotFound):
            Tenant(mine.organization_id, Mode.test).get(session, ApiKey, theirs.key_id)
        all_ids = set(session.scalars(select(ApiKey.id)))

    assert {mine.key_id, theirs.key_id} <= all_ids


def forged() -> dict[str, str]:
    """A well-formed key with a correct checksum that no stored key matches."""
    return {"Authorization": f"Bearer {api_keys.generate_key(Mode.test)}"}


def test_forged_keys_from_one_address_meet_a_429_while_a_working_key_still_works(
    client: TestClient, caller: Caller, tenants: Tenants, settings: Settings
) -> None:
    assert client.get(WHOAMI, headers=caller.headers).status_code == 200

    statuses = [client.get(WHOAMI, headers=forged()).status_code for _ in range(400)]
    refused = client.get(WHOAMI, headers=forged())

    # The working key's first lookup drew from the same allowance; the allowance refills a token a second.
    allowance = settings.key_lookups_per_address - 1
    assert allowance <= statuses.index(429) <= allowance + 10
    assert statuses.count(401) < allowance + 20
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    # Past the one-second principal cache, so the working key is looked up again: it was verified lately.
    time.sleep(settings.credential_cache_seconds + 0.05)
    assert client.get(WHOAMI, headers=caller.headers).status_code == 200
    # A key this process has not verified yet waits like a forged one (once the second's refill is spent again);
    # another address is not held back.
    assert 429 in {client.get(WHOAMI, headers=forged()).status_code for _ in range(3)}
    assert client.get(WHOAMI, headers=tenants.caller().headers).status_code == 429
    elsewhere = TestClient(client.app, client=("198.51.100.7", 40000), raise_server_exceptions=False)
    assert_unauthorized(elsewhere.get(WHOAMI, headers=forged()), "not recognized")


def test_malformed_keys_are_refused_without_counting(client: TestClient, caller: Caller) -> None:
    for _ in range(150):
        assert_unauthorized(client.get(WHOAMI, headers={"Authorization": f"Bearer {caller.key}0"}), "malformed")


def test_a_repeated_unknown_key_is_refused_without_a_database_query(client: TestClient, database_url: str) -> None:
    lookups: list[str] = []

    def count_lookups(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "key_hash" in statement:
            lookups.append(statement)

    headers = forged()
    engine = engine_for(database_url)
    event.listen(engine, "before_cursor_execute", count_lookups)
    try:
        for _ in range(5):
            assert_unauthorized(client.get(WHOAMI, headers=headers), "not recognized")
    finally:
        event.remove(engine, "before_cursor_execute", count_lookups)

    assert len(lookups) == 1


@pytest.mark.parametrize("trusted", [False, True])
def test_forwarded_for_names_the_address_only_when_trusted(database_url: str, trusted: bool) -> None:
    settings = Settings(database_url=database_url, key_lookups_per_address=3, trust_forwarded_for=trusted)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        first = [client.get(WHOAMI, headers={**forged(), "X-Forwarded-For": "203.0.113.1"}) for _ in range(4)]
        other = client.get(WHOAMI, headers={**forged(), "X-Forwarded-For": "198.51.100.1, 203.0.113.2"})

    assert [response.status_code for response in first] == [401, 401, 401, 429]
    assert other.status_code == (401 if trusted else 429)


@pytest.mark.parametrize(
    ("forwarded", "address"),
    [
        # A proxy that adds its own line: the client's spoofed line comes first and must not count.
        ([("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "203.0.113.9")], "203.0.113.9"),
        ([("x-forwarded-for", "6.6.6.6, 203.0.113.9:51234")], "203.0.113.9"),
        ([("x-forwarded-for", "[2001:db8::1]:443")], "2001:db8::/64"),
    ],
)
def test_a_trusted_proxy_names_the_client_whatever_the_client_sent(
    forwarded: list[tuple[str, str]], address: str
) -> None:
    scope = {"type": "http", "client": ("10.0.0.2", 50000), "headers": [(k.encode(), v.encode()) for k, v in forwarded]}

    assert client_address(scope, trust_forwarded_for=True) == address
    assert client_address(scope, trust_forwarded_for=False) == "10.0.0.2"
