"""Keys and tenancy: who gets in, with which scopes, seeing which data."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from gateway.settings import Settings
from storage import api_keys
from storage.database import session_scope
from storage.errors import NotFoundError
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
        with pytest.raises(NotFoundError):
            test_tenant.get(session, ApiKey, live.key_id)
        assert test_tenant.get(session, ApiKey, test.key_id).id == test.key_id

    assert visible == {test.key_id}


def test_another_organizations_id_is_not_found(tenants: Tenants, database_url: str) -> None:
    mine, theirs = tenants.caller(), tenants.caller()

    with session_scope(database_url) as session:
        with pytest.raises(NotFoundError):
            Tenant(mine.organization_id, Mode.test).get(session, ApiKey, theirs.key_id)
        all_ids = set(session.scalars(select(ApiKey.id)))

    assert {mine.key_id, theirs.key_id} <= all_ids
