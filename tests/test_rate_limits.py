"""Rate limits: a token bucket per key inside one per organization and mode, sized by tier, drawing each x-cost."""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
import redis
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.app import create_app
from gateway.contract import load_contract
from gateway.rate_limits import POLICIES, Bucket, Buckets, MemoryBuckets, RedisBuckets
from storage.database import dispose_engine
from storage.migrate import upgrade_to_head
from storage.models import Mode, Tier
from tests.conftest import ROOT, Caller, Tenants, free_port, start_server, throwaway_server, wait_for

WHOAMI = "/api/v2/meta/whoami"
RATE_LIMIT = "/api/v2/meta/rate-limit"
# One list item per bucket (draft-ietf-httpapi-ratelimit-headers-10): the key's, then its organization's.
RATE_LIMIT_FIELD = re.compile(r'^"(\w+)";r=(\d+);t=(\d+), "(\w+)-organization";r=(\d+);t=(\d+)$')


def drain(client: TestClient, *callers: Caller) -> httpx2.Response:
    """Call whoami with each caller in turn until refused; the refusal."""
    for turn in range(400):
        response = client.get(WHOAMI, headers=callers[turn % len(callers)].headers)
        if response.status_code == 429:
            return response
        assert response.status_code == 200
    raise AssertionError("never rate limited")


def levels(response: httpx2.Response) -> tuple[tuple[int, int], tuple[int, int]]:
    """(remaining, reset seconds) of the key's bucket and of the organization's, from the `RateLimit` field."""
    match = RATE_LIMIT_FIELD.match(response.headers["ratelimit"])
    assert match is not None, response.headers["ratelimit"]
    assert match[1] == match[4]
    return (int(match[2]), int(match[3])), (int(match[5]), int(match[6]))


def assert_retry_after_covers_every_bucket(refused: httpx2.Response) -> int:
    retry_after = int(refused.headers["retry-after"])
    assert retry_after >= max(reset for _, reset in levels(refused))
    return retry_after


def test_every_answer_carries_both_buckets(client: TestClient, caller: Caller) -> None:
    ok = client.get(WHOAMI, headers=caller.headers)
    refused = client.get(WHOAMI + "?colour=red", headers=caller.headers)

    for response in (ok, refused):
        assert response.headers["ratelimit-policy"] == '"pro";q=1200;w=60, "pro-organization";q=1200;w=60'
        assert response.headers["ratelimit"].startswith('"pro";r=')
        levels(response)
    assert ok.headers["x-ratelimit-cost"] == str(load_contract().operation("meta.whoami").cost)


def test_free_tier_key_is_refused_after_60_tokens_and_recovers(client: TestClient, tenants: Tenants) -> None:
    caller = tenants.caller(tier=Tier.free)

    refused = drain(client, caller)

    assert refused.json()["code"] == "rate_limited"
    retry_after = assert_retry_after_covers_every_bucket(refused)
    assert refused.headers["ratelimit"].startswith('"free";r=0;')
    assert refused.headers["x-ratelimit-cost"] == "0"
    time.sleep(retry_after)
    assert client.get(WHOAMI, headers=caller.headers).status_code == 200


def mint(client: TestClient, caller: Caller, name: str) -> Caller:
    """A new key of the caller's, minted over the API."""
    response = client.post("/api/v2/api-keys", headers=caller.headers, json={"name": name, "scopes": ["meta:read"]})
    assert response.status_code == 201
    body = response.json()
    return Caller(body["key"], uuid.UUID(body["id"]), caller.organization_id, caller.user_id)


def test_four_minted_keys_share_one_organization_bucket(client: TestClient, tenants: Tenants) -> None:
    first = tenants.caller(tier=Tier.free)
    keys = [first, *(mint(client, first, f"key {n}") for n in range(3))]

    refused = drain(client, *keys)

    (key_remaining, _), (organization_remaining, _) = levels(refused)
    # Four keys of 60 tokens each would have served about 240 calls; the organization's 60 ran out first.
    assert key_remaining > 0
    assert organization_remaining == 0
    assert "organization's 'free-organization' bucket" in refused.json()["detail"]
    assert_retry_after_covers_every_bucket(refused)
    # Refusals take nothing from the key's own bucket.
    before = levels(client.get(WHOAMI, headers=keys[0].headers))[0][0]
    for _ in range(5):
        assert client.get(WHOAMI, headers=keys[0].headers).status_code == 429
    shown = client.get(RATE_LIMIT, headers=keys[0].headers).json()
    assert shown["organization"]["remaining"] == 0
    assert shown["remaining"] >= before > 0


def test_each_mode_and_organization_has_its_own_bucket(client: TestClient, tenants: Tenants) -> None:
    test_key = tenants.caller(tier=Tier.free)
    live_key = tenants.caller(tier=Tier.free, mode=Mode.live, organization_id=test_key.organization_id)
    elsewhere = tenants.caller(tier=Tier.free)

    drain(client, test_key)

    assert client.get(WHOAMI, headers=live_key.headers).status_code == 200
    assert client.get(WHOAMI, headers=elsewhere.headers).status_code == 200


def test_rate_limit_reports_the_buckets_without_drawing(client: TestClient, tenants: Tenants) -> None:
    caller = tenants.caller(tier=Tier.standard)
    client.get(WHOAMI, headers=caller.headers)

    first = client.get(RATE_LIMIT, headers=caller.headers).json()
    second = client.get(RATE_LIMIT, headers=caller.headers).json()

    assert first["tier"] == "standard"
    assert (first["capacity"], first["refill_per_second"]) == (300, 5)
    assert 298 <= first["remaining"] <= 299
    assert 298 <= first["organization"]["remaining"] <= 299
    assert second["remaining"] >= first["remaining"]
    assert first["shared"] is False


async def refused_draw_takes_nothing(buckets: Buckets) -> None:
    policy = POLICIES[Tier.free]
    key, organization = Bucket("free", f"key:{uuid.uuid4()}"), Bucket("free-organization", f"org:{uuid.uuid4()}")
    assert (await buckets.draw([organization], policy, 55)).allowed

    refused = await buckets.draw([key, organization], policy, 10)

    assert not refused.allowed
    assert [level.remaining for level in refused.levels] == [60, 5]
    assert [level.reset_seconds for level in refused.levels] == [0, 5]
    assert refused.retry_after == 5
    # Neither bucket was drawn from: the key's is still full, the organization's serves what it holds.
    assert (await buckets.draw([key, organization], policy, 5)).allowed
    assert [level.remaining for level in (await buckets.draw([key], policy, 0)).levels] == [55]


def test_a_refused_draw_takes_nothing_from_any_bucket_in_memory() -> None:
    asyncio.run(refused_draw_takes_nothing(MemoryBuckets()))


def test_a_refused_draw_takes_nothing_from_any_bucket_in_redis(redis_url: str) -> None:
    async def scenario() -> None:
        buckets = RedisBuckets(redis_url)
        try:
            await refused_draw_takes_nothing(buckets)
        finally:
            await buckets.aclose()

    asyncio.run(scenario())


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
    assert httpx.get(urls[0] + RATE_LIMIT, headers=caller.headers).json()["shared"] is True


def outage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "vaultgate.rate_limits" and "unreachable" in r.message]


def test_with_redis_unreachable_each_process_limits_on_its_own(
    tenants: Tenants, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=database_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    caller = tenants.caller(tier=Tier.free)

    with caplog.at_level(logging.WARNING, "vaultgate.rate_limits"), TestClient(create_app(settings)) as client:
        refused = drain(client, caller)
        shown = client.get(RATE_LIMIT, headers=caller.headers).json()

    assert refused.json()["code"] == "rate_limited"
    assert_retry_after_covers_every_bucket(refused)
    assert shown["shared"] is False
    assert len(outage_warnings(caplog)) == 1


def test_when_redis_stops_the_limits_still_apply_per_process(
    tenants: Tenants, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caller = tenants.caller(tier=Tier.free)
    with throwaway_server("redis.sh", tmp_path / "redis") as url:
        settings = Settings(database_url=database_url, redis_url=url)
        with caplog.at_level(logging.WARNING, "vaultgate.rate_limits"), TestClient(create_app(settings)) as client:
            assert client.get(RATE_LIMIT, headers=caller.headers).json()["shared"] is True
            for _ in range(30):
                assert client.get(WHOAMI, headers=caller.headers).status_code == 200

            subprocess.run([str(ROOT / "scripts" / "redis.sh"), "stop", str(tmp_path / "redis")], check=True)
            wait_for(lambda: not redis_answers(url))
            refused = drain(client, caller)
            shown = client.get(RATE_LIMIT, headers=caller.headers).json()

    assert refused.json()["code"] == "rate_limited"
    assert shown["shared"] is False
    assert len(outage_warnings(caplog)) == 1


def redis_answers(url: str) -> bool:
    with redis.Redis.from_url(url, socket_connect_timeout=0.2) as connection:
        try:
            return bool(connection.ping())
        except redis.RedisError:
            return False
