"""Token-bucket rate limits per API key, sized by the organization's tier (SPEC §2).

Each operation draws its `x-cost`. Buckets live in process memory by default,
or in Redis (one atomic script, Redis' own clock) so every gateway process
shares them. If Redis is unreachable the gateway fails open: it keeps serving,
unlimited, and logs the outage — an outage of the limiter must not become an
outage of the API.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis import asyncio as redis_asyncio
from redis.exceptions import RedisError

from storage.models import Tier

logger = logging.getLogger("vaultgate.rate_limits")


@dataclass(frozen=True)
class Policy:
    """A tier's bucket: `capacity` tokens, refilled at `refill_per_second`."""

    name: str
    capacity: int
    refill_per_second: float

    @property
    def window_seconds(self) -> int:
        return round(self.capacity / self.refill_per_second)


POLICIES = {
    Tier.free: Policy("free", 60, 1),
    Tier.standard: Policy("standard", 300, 5),
    Tier.pro: Policy("pro", 1200, 20),
    Tier.enterprise: Policy("enterprise", 6000, 100),
}


@dataclass(frozen=True)
class Draw:
    """The outcome of drawing `cost` tokens: allowed or not, and what is left."""

    allowed: bool
    remaining: int
    # Seconds until the bucket is full (allowed), or until `cost` tokens are there (refused).
    reset_seconds: int
    limited: bool = True


class Buckets(Protocol):
    async def draw(self, key: str, policy: Policy, cost: int) -> Draw: ...


def _outcome(allowed: bool, tokens: float, policy: Policy, cost: int) -> Draw:
    """`tokens` is what is left after the draw (or before it, when refused)."""
    if allowed:
        return Draw(True, math.floor(tokens), math.ceil((policy.capacity - tokens) / policy.refill_per_second))
    return Draw(False, math.floor(tokens), max(1, math.ceil((cost - tokens) / policy.refill_per_second)))


class MemoryBuckets:
    """Buckets in this process; exact for one process, per-process for several."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    async def draw(self, key: str, policy: Policy, cost: int) -> Draw:
        # No await between read and write: atomic on the event loop.
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (float(policy.capacity), now))
        tokens = min(policy.capacity, tokens + (now - last) * policy.refill_per_second)
        allowed = tokens >= cost
        if allowed:
            tokens -= cost
        self._buckets[key] = (tokens, now)
        return _outcome(allowed, tokens, policy, cost)


# KEYS[1] bucket; ARGV capacity, refill per second, cost. Uses Redis' clock so
# processes on machines with skewed clocks still share one consistent bucket.
_DRAW_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 2000))
return {allowed, tostring(tokens)}
"""


class RedisBuckets:
    """Buckets shared by every process through one Redis; fails open when Redis is down."""

    def __init__(self, url: str) -> None:
        self._client = redis_asyncio.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._client.register_script(_DRAW_SCRIPT)

    async def draw(self, key: str, policy: Policy, cost: int) -> Draw:
        try:
            allowed, tokens_text = await self._script(
                keys=[f"vaultgate:bucket:{key}"], args=[policy.capacity, policy.refill_per_second, cost]
            )
        except (RedisError, OSError) as exc:
            logger.warning("rate limiter unavailable, serving unlimited: %s", exc)
            return Draw(True, policy.capacity, 0, limited=False)
        return _outcome(bool(allowed), float(tokens_text), policy, cost)


def buckets_for(redis_url: str | None) -> Buckets:
    return RedisBuckets(redis_url) if redis_url else MemoryBuckets()


def rate_limit_headers(policy: Policy, draw: Draw, cost: int) -> dict[str, str]:
    """IETF draft-ietf-httpapi-ratelimit-headers-10 fields, plus the cost drawn."""
    headers = {"X-RateLimit-Cost": str(cost if draw.allowed else 0)}
    if draw.limited:
        headers["RateLimit-Policy"] = f'"{policy.name}";q={policy.capacity};w={policy.window_seconds}'
        headers["RateLimit"] = f'"{policy.name}";r={draw.remaining};t={draw.reset_seconds}'
    return headers
