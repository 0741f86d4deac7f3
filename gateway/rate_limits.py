"""Token-bucket rate limits: per API key inside per organization and mode, and per client address.

A call draws its operation's `x-cost` from two buckets at once, both sized by
the organization's tier: its key's and its organization's (in that mode), so
minting more keys does not multiply an organization's budget. The draw is all
or nothing: when either bucket is short, neither is touched and the call is
refused. Lookups of API keys the gateway has not verified lately draw from a
third kind of bucket, one per client address, so forged keys cannot make it
query the database without end.

Buckets live in process memory by default, or in Redis (one atomic script,
Redis' own clock) so every gateway process shares them. While Redis is
unreachable each process limits on its own, in memory (logged once per
outage), and returns to Redis when it answers again: an outage of the limiter
neither stops the API nor lifts its limits.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from redis import asyncio as redis_asyncio
from redis.exceptions import RedisError
from starlette.datastructures import Headers
from starlette.types import Scope

from storage.models import Tier

logger = logging.getLogger("vaultgate.rate_limits")


@dataclass(frozen=True)
class Policy:
    """A bucket's size: `capacity` tokens, refilled at `refill_per_second`."""

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
class Bucket:
    """A bucket a call draws from: its policy name in the `RateLimit` fields, and its key in the store."""

    name: str
    key: str


@dataclass(frozen=True)
class Level:
    """One bucket after a draw: whole tokens left, and seconds until it is full (served) or holds the cost (refused)."""

    name: str
    remaining: int
    reset_seconds: int


@dataclass(frozen=True)
class Draw:
    """The outcome of drawing `cost` tokens from every bucket of a call: served or not, and each bucket after it."""

    allowed: bool
    levels: tuple[Level, ...]
    # Drawn in Redis, so every gateway process saw the same buckets.
    shared: bool = False
    limited: bool = True

    @property
    def retry_after(self) -> int:
        """Seconds until every bucket holds the cost: never earlier than any `t` sent with a refusal."""
        return max([1, *(level.reset_seconds for level in self.levels)])


class Buckets(Protocol):
    async def draw(self, buckets: Sequence[Bucket], policy: Policy, cost: int) -> Draw: ...


def _result(
    buckets: Sequence[Bucket], tokens: Sequence[float], policy: Policy, cost: int, *, allowed: bool, shared: bool
) -> Draw:
    """`tokens` is what each bucket holds after the draw (or before it, when the draw was refused)."""
    levels = []
    for bucket, held in zip(buckets, tokens, strict=True):
        missing = policy.capacity - held if allowed else cost - held
        levels.append(Level(bucket.name, math.floor(held), max(0, math.ceil(missing / policy.refill_per_second))))
    return Draw(allowed, tuple(levels), shared=shared)


class MemoryBuckets:
    """Buckets in this process; exact for one process, per-process for several."""

    def __init__(self) -> None:
        # key → (tokens, when they were counted, when the bucket will be full again)
        self._buckets: dict[str, tuple[float, float, float]] = {}
        # Past this many buckets, those refilled to capacity are dropped (a missing bucket is a full one), so
        # callers from ever new addresses cannot grow the table without end; the mark doubles with what stays.
        self._sweep_at = 10_000

    async def draw(self, buckets: Sequence[Bucket], policy: Policy, cost: int) -> Draw:
        return self.draw_now(buckets, policy, cost)

    def draw_now(self, buckets: Sequence[Bucket], policy: Policy, cost: int) -> Draw:
        # No await from the first read to the last write: atomic on the event loop.
        now = time.monotonic()
        tokens = [self._refilled(bucket.key, policy, now) for bucket in buckets]
        allowed = all(held >= cost for held in tokens)
        if allowed:
            tokens = [held - cost for held in tokens]
        if len(self._buckets) >= self._sweep_at:
            self._buckets = {key: state for key, state in self._buckets.items() if state[2] > now}
            self._sweep_at = max(10_000, 2 * len(self._buckets))
        for bucket, held in zip(buckets, tokens, strict=True):
            self._buckets[bucket.key] = (held, now, now + (policy.capacity - held) / policy.refill_per_second)
        return _result(buckets, tokens, policy, cost, allowed=allowed, shared=False)

    def _refilled(self, key: str, policy: Policy, now: float) -> float:
        held, counted_at, _ = self._buckets.get(key, (float(policy.capacity), now, now))
        return min(policy.capacity, held + (now - counted_at) * policy.refill_per_second)


# KEYS: the buckets; ARGV: capacity, refill per second, cost. All or nothing: when one bucket is short, none
# is drawn. Redis' clock, so processes on machines with skewed clocks still share consistent buckets.
_DRAW_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tokens = {}
local allowed = 1
for i, key in ipairs(KEYS) do
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local held = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  tokens[i] = math.min(capacity, held + math.max(0, now - at) * rate)
  if tokens[i] < cost then allowed = 0 end
end
local answer = {allowed}
for i, key in ipairs(KEYS) do
  if allowed == 1 then tokens[i] = tokens[i] - cost end
  redis.call('HSET', key, 'tokens', tostring(tokens[i]), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(capacity / rate * 2000))
  answer[i + 1] = tostring(tokens[i])
end
return answer
"""


class RedisBuckets:
    """Buckets shared by every process through one Redis; this process's own while Redis is unreachable."""

    # While Redis is down, one call a second tries it again; the others draw from memory meanwhile.
    _PROBE_SECONDS = 1.0

    def __init__(self, url: str) -> None:
        self._client = redis_asyncio.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._client.register_script(_DRAW_SCRIPT)
        self._fallback = MemoryBuckets()
        self._down = False
        self._probe_at = 0.0

    async def draw(self, buckets: Sequence[Bucket], policy: Policy, cost: int) -> Draw:
        if self._down:
            now = time.monotonic()
            if now < self._probe_at:
                return self._fallback.draw_now(buckets, policy, cost)
            self._probe_at = now + self._PROBE_SECONDS
        try:
            answer = await self._script(
                keys=[f"vaultgate:bucket:{bucket.key}" for bucket in buckets],
                args=[policy.capacity, policy.refill_per_second, cost],
            )
        except (RedisError, OSError) as exc:
            if not self._down:
                self._down, self._probe_at = True, time.monotonic() + self._PROBE_SECONDS
                logger.warning("Redis unreachable (%s): rate limits are per process, in memory, until it is back", exc)
            return self._fallback.draw_now(buckets, policy, cost)
        if self._down:
            self._down = False
            logger.info("Redis reachable again: rate limits are shared by every process")
        allowed, *tokens = answer
        return _result(buckets, [float(held) for held in tokens], policy, cost, allowed=bool(allowed), shared=True)

    async def aclose(self) -> None:
        await self._client.aclose()


def buckets_for(redis_url: str | None) -> Buckets:
    return RedisBuckets(redis_url) if redis_url else MemoryBuckets()


def rate_limit_headers(policy: Policy, draw: Draw, cost: int) -> dict[str, str]:
    """IETF draft-ietf-httpapi-ratelimit-headers-10 fields, one list item per bucket, plus the cost drawn."""
    headers = {"X-RateLimit-Cost": str(cost if draw.allowed else 0)}
    if draw.limited:
        window = policy.window_seconds
        headers["RateLimit-Policy"] = ", ".join(f'"{lv.name}";q={policy.capacity};w={window}' for lv in draw.levels)
        headers["RateLimit"] = ", ".join(f'"{lv.name}";r={lv.remaining};t={lv.reset_seconds}' for lv in draw.levels)
    return headers


def client_address(scope: Scope, *, trust_forwarded_for: bool) -> str:
    """Whom to count unverified key lookups against: the TCP peer, or the address the nearest proxy added.

    An IPv6 address counts as its /64, which one host usually holds whole.
    """
    peer = scope.get("client")
    address = peer[0] if peer else "unknown"
    if trust_forwarded_for:
        # The last entry is the one our proxy appended; those before it, on any line, are whatever the client
        # sent (a proxy may add its own header line rather than extend the client's).
        lines = Headers(scope=scope).getlist("x-forwarded-for")
        forwarded = _without_port(",".join(lines).rsplit(",", 1)[-1].strip())
        address = forwarded if _ip(forwarded) is not None else address
    parsed = _ip(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address if parsed is None else str(parsed)


def _without_port(entry: str) -> str:
    """`203.0.113.7:4711` and `[2001:db8::1]:4711`, as some load balancers write them, without the port."""
    if entry.startswith("["):
        return entry[1:].split("]", 1)[0]
    host, colon, port = entry.rpartition(":")
    return host if colon and port.isdigit() and "." in host else entry


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
