"""Idempotency-Key: one side effect per key, the first answer replayed byte for byte."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import create_engine, func, select
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.app import create_app
from gateway.idempotency import fingerprint
from storage.database import dispose_engine, session_scope
from storage.idempotency import sweep_expired
from storage.models import ApiKey, Base, IdempotencyRecord, Mode, Role, Tier, utcnow
from tests.conftest import Caller, Tenants, free_port, start_server

KEYS = "/api/v2/api-keys"
BODY = {"name": "deploy", "scopes": ["meta:read"]}


def keys_named(database_url: str, name: str) -> int:
    with session_scope(database_url) as session:
        return session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.name == name)) or 0


def post(client: TestClient, caller: Caller, key: str, body: object = BODY, path: str = KEYS):  # type: ignore[no-untyped-def]
    headers = {**caller.headers, "Idempotency-Key": key, "Content-Type": "application/json"}
    return client.post(path, headers=headers, content=json.dumps(body).encode())


def test_replayed_response_is_byte_identical(client: TestClient, caller: Caller, database_url: str) -> None:
    first = post(client, caller, "k-1")
    second = post(client, caller, "k-1")

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert keys_named(database_url, "deploy") == 1


def test_same_key_with_another_body_or_path_is_422(client: TestClient, caller: Caller) -> None:
    post(client, caller, "k-2")

    other_body = post(client, caller, "k-2", {**BODY, "name": "other"})
    other_path = client.post(f"{KEYS}/{caller.key_id}/rotate", headers={**caller.headers, "Idempotency-Key": "k-2"})

    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"


def test_keys_are_scoped_to_the_tenant(client: TestClient, tenants: Tenants, database_url: str) -> None:
    mine, theirs = tenants.caller(), tenants.caller()

    post(client, mine, "shared-key")
    response = post(client, theirs, "shared-key")

    assert "idempotent-replayed" not in response.headers
    assert keys_named(database_url, "deploy") == 2


def test_the_same_key_from_two_users_of_one_organization_gives_two_answers(
    client: TestClient, tenants: Tenants, database_url: str
) -> None:
    admin = tenants.caller()
    member = tenants.caller(organization_id=admin.organization_id, role=Role.member)

    first = post(client, admin, "shared-in-the-org")
    second = post(client, member, "shared-in-the-org")

    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert second.json()["key"] != first.json()["key"]
    assert second.json()["user_id"] == str(member.user_id)
    assert keys_named(database_url, "deploy") == 2


def stored_values(database_url: str) -> Iterator[object]:
    """Every value of every row of every table, as the database hands it out."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                for row in connection.execute(table.select()):
                    yield from row
    finally:
        engine.dispose()


def as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return value.encode() if isinstance(value, str) else json.dumps(value, default=str).encode()


def test_an_idempotent_create_keeps_no_secret_in_the_database(
    client: TestClient, caller: Caller, database_url: str
) -> None:
    secret = post(client, caller, "k-secret").json()["key"]
    replayed = post(client, caller, "k-secret")

    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json()["key"] == secret
    values = list(stored_values(database_url))
    assert values, "the scan must see the rows"
    assert [value for value in values if secret.encode() in as_bytes(value)] == []
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for file in (path, path.with_name(path.name + "-wal")):
            assert not file.exists() or secret.encode() not in file.read_bytes()


def test_an_answer_kept_under_another_instance_key_is_not_replayed(settings: Settings, caller: Caller) -> None:
    with TestClient(create_app(settings), raise_server_exceptions=False) as first_client:
        assert post(first_client, caller, "k-rekeyed").status_code == 201
    rekeyed = settings.model_copy(update={"secret_key": SecretStr("another instance key, after a rotation")})
    with TestClient(create_app(rekeyed), raise_server_exceptions=False) as second_client:
        response = post(second_client, caller, "k-rekeyed")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "instance key" in response.json()["detail"]


def test_a_4xx_answer_is_kept_and_replayed(client: TestClient, caller: Caller) -> None:
    first = post(client, caller, "k-3", {"name": "", "scopes": ["meta:read"]})
    second = post(client, caller, "k-3", {"name": "", "scopes": ["meta:read"]})

    assert first.status_code == second.status_code == 400
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"


def test_unauthorized_and_rate_limited_answers_are_not_kept(client: TestClient, tenants: Tenants) -> None:
    caller = tenants.caller(tier=Tier.free)
    bad = client.post(KEYS, headers={"Authorization": "Bearer nope", "Idempotency-Key": "k-4"}, json=BODY)
    assert bad.status_code == 401

    response = post(client, caller, "k-4")

    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


def test_a_request_in_flight_holds_its_key(client: TestClient, caller: Caller, database_url: str) -> None:
    insert_record(database_url, caller, "k-5", locked_for=timedelta(seconds=30))

    response = post(client, caller, "k-5")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"
    assert 1 <= int(response.headers["retry-after"]) <= 31


def test_a_crashed_requests_key_is_freed_after_its_lock(client: TestClient, caller: Caller, database_url: str) -> None:
    insert_record(database_url, caller, "k-6", locked_for=timedelta(seconds=-1))

    response = post(client, caller, "k-6")

    assert response.status_code == 201
    assert post(client, caller, "k-6").headers["idempotent-replayed"] == "true"


def test_an_expired_key_is_free_again(client: TestClient, caller: Caller, database_url: str) -> None:
    insert_record(database_url, caller, "k-7", locked_for=timedelta(seconds=-1), age=timedelta(hours=25))

    response = post(client, caller, "k-7")

    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


def test_sweeping_deletes_only_expired_keys(caller: Caller, database_url: str) -> None:
    stale = insert_record(database_url, caller, "old", locked_for=timedelta(seconds=-1), age=timedelta(hours=25))
    fresh = insert_record(database_url, caller, "new", locked_for=timedelta(seconds=-1))

    with session_scope(database_url) as session:
        sweep_expired(session, utcnow())

    with session_scope(database_url) as session:
        assert session.get(IdempotencyRecord, stale) is None
        assert session.get(IdempotencyRecord, fresh) is not None


def test_malformed_key_is_400(client: TestClient, caller: Caller) -> None:
    response = post(client, caller, "x" * 256)

    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "Idempotency-Key"


def insert_record(
    database_url: str, caller: Caller, key: str, locked_for: timedelta, age: timedelta = timedelta(0)
) -> uuid.UUID:
    """A claim as a request that is still running (or crashed) would have left it."""
    now = utcnow()
    record = IdempotencyRecord(
        id=uuid.uuid4(),
        organization_id=caller.organization_id,
        mode=Mode.test,
        caller=f"user:{caller.user_id}/key:{caller.key_id}",
        key=key,
        fingerprint=fingerprint("POST", KEYS, json.dumps(BODY).encode()),
        locked_until=now + locked_for,
        created_at=now - age,
        expires_at=now - age + timedelta(hours=24),
    )
    with session_scope(database_url) as session:
        session.add(record)
    return record.id


def test_a_5xx_answer_frees_the_key_for_a_retry(probe: TestClient, caller: Caller) -> None:
    body = {"marker": uuid.uuid4().hex}

    first = post(probe, caller, "k-8", body, "/api/v2/flaky")
    retry = post(probe, caller, "k-8", body, "/api/v2/flaky")

    assert first.status_code == 500
    assert retry.status_code == 200
    assert retry.json() == {"attempt": 2}
    assert "idempotent-replayed" not in retry.headers


def test_fifty_concurrent_posts_on_two_processes_make_one_key(
    tmp_path: Path, database_url: str, tenants: Tenants
) -> None:
    caller = tenants.caller(tier=Tier.enterprise)
    dispose_engine(database_url)
    ports = [free_port(), free_port()]
    servers = [start_server(database_url, port, tmp_path / f"server-{port}.log") for port in ports]
    try:

        def send(turn: int) -> httpx.Response:
            return httpx.post(
                f"http://127.0.0.1:{ports[turn % 2]}{KEYS}",
                json=BODY,
                timeout=60,
                headers={**caller.headers, "Idempotency-Key": "concurrent"},
            )

        with ThreadPoolExecutor(50) as pool:
            responses = list(pool.map(send, range(50)))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)

    originals = [r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    replays = [r for r in responses if r.status_code == 201 and r.headers.get("idempotent-replayed") == "true"]
    in_flight = [r for r in responses if r.status_code == 409]
    assert len(originals) == 1
    assert len(originals) + len(replays) + len(in_flight) == 50
    assert all(r.content == originals[0].content for r in replays)
    assert keys_named(database_url, "deploy") == 1
