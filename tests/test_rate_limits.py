"""Rate limits: a token bucket per key, sized by tier, drawing each operation's x-cost."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.contract import load_contract
from gateway.settings import Settings
from storage.database import dispose_engine
from storage.migrate import upgrade_to_head
from storage.models import Tier
from tests.conftest import Caller, Tenants, free_port, start_server

WHOAMI = "/api/v2/meta/whoami"


def drain(client: TestClient, caller: Caller) -> httpx2.Response:
    """Call whoami until refused; the refusal."""
    for _ in range(200):
        response = client.get(WHOAMI, headers=caller.headers)
        if response.status_code == 429:
            return response
        assert response.status_code == 200
    raise AssertionError("never rate limited")


def test_every_answer_carries_the_bucket(client: TestClient, caller: Caller) -> None:
    ok = client.get(WHOAMI, headers=caller.headers)
    refused = client.get(WHOAMI + "?colour=red", headers=caller.headers)

    for response in (ok, refused):
        assert response.headers["ratelimit-policy"] == '"pro";q=1200;w=60'
        assert response.headers["ratelimit"].startswith('"pro";r=')
    assert ok.headers["x-ratelimit-cost"] == str(load_contract().operation("meta.whoami").cost)


def test_free_tier_key_is_refused_after_60_tokens_and_recovers(client: TestClient, tenants: Tenants) -> None:
    caller = tenants.caller(tier=Tier.free)

    refused = drain(client, caller)

    assert refused.json()["code"] == "rate_limited"
    retry_after = int(refused.headers["retry-after"])
    assert retry_after >= int(refused.headers["ratelimit"].rsplit("t=", 1)[1])
    assert refused.headers["ratelimit"].startswith('"free";r=0;')
    assert refused.headers["x-ratelimit-cost"] == "0"
    time.sleep(retry_after)
    assert client.get(WHOAMI, headers=caller.headers).status_code == 200


def test_buckets_are_per_key(client: TestClient, tenants: Tenants) -> None:
    first = tenants.caller(tier=Tier.free)
    second = tenants.caller(tier=Tier.free, organization_id=first.organization_id)

    drain(client, first)

    assert client.get(WHOAMI, headers=second.headers).status_code == 200


def test_rate_limit_reports_the_bucket_without_drawing(client: TestClient, tenants: Tenants) -> None:
    caller = tenants.caller(tier=Tier.standard)
    client.get(WHOAMI, headers=caller.headers)

    first = client.get("/api/v2/meta/rate-limit", headers=caller.headers).json()
    second = client.get("/api/v2/meta/rate-limit", headers=caller.headers).json()

    assert first["tier"] == "standard"
    assert (first["capacity"], first["refill_per_second"]) == (300, 5)
    assert 298 <= first["remaining"] <= 299
    assert second["remaining"] >= first["remaining"]
    assert first["shared"] is False


@pytest.fixture
def redis_servers(tmp_path: Path, redis_url: str) -> Iterator[tuple[list[str], Caller]]:
    """Two gateway processes on one database, sharing one Redis; a free-tier key."""
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    upgrade_to_head(database_url)
    caller = Tenants(database_url).caller(tier=Tier.free)
    dispose_engine(database_url)
    # A fresh Redis database per test keeps buckets from leaking between tests.
    env = {"VAULTGATE_REDIS_URL": redis_url.rsplit("/", 1)[0] + f"/{uuid.uuid4().int % 15 + 1}"}
    ports = [free_port(), free_port()]
    processes = [start_server(database_url, port, tmp_path / f"server-{port}.log", env) for port in ports]
    yield [f"http://127.0.0.1:{port}" for port in ports], caller
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def test_two_processes_sharing_redis_enforce_one_bucket(redis_servers: tuple[list[str], Caller]) -> None:
    urls, caller = redis_servers
    started = time.monotonic()
    served = 0
    for turn in range(300):
        if httpx.get(urls[turn % 2] + WHOAMI, headers=caller.headers).status_code == 429:
            break
        served += 1
    elapsed = time.monotonic() - started

    # One shared bucket: 60 tokens plus one per second of refill. Two separate
    # buckets would have served about 120.
    assert 60 <= served <= 60 + elapsed + 1
    # The other process draws from the same, empty bucket. A token may have trickled
    # back in since (1/s), in which case it serves one call and has none left; its own
    # bucket would still hold about 30.
    other = httpx.get(urls[(turn + 1) % 2] + WHOAMI, headers=caller.headers)
    assert other.status_code == 429 or other.headers["ratelimit"].startswith('"free";r=0;')
    assert httpx.get(urls[0] + "/api/v2/meta/rate-limit", headers=caller.headers).json()["shared"] is True


def test_without_redis_the_gateway_keeps_serving(tenants: Tenants, database_url: str) -> None:
    settings = Settings(database_url=database_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    caller = tenants.caller(tier=Tier.free)

    with TestClient(create_app(settings)) as client:
        statuses = {client.get(WHOAMI, headers=caller.headers).status_code for _ in range(70)}

        assert statuses == {200}
        assert "ratelimit" not in client.get(WHOAMI, headers=caller.headers).headers
