"""What this process remembers of the API keys it has looked up, so most requests skip the key lookup.

Three memories, all by the key's SHA-256 hash, never the key:
- principals, for at most `ttl` seconds (or less: `put` may shorten an entry's
  life). The bound is the promise: a key revoked by another process stops
  working here within `ttl` seconds; one revoked through this process stops at
  once (evicted). Expiry is checked on every hit, so an expired key is never
  served from here.
- keys verified in the last 15 minutes. Only the failed-lookup limit reads it:
  a key that worked lately is never held back by its address's allowance for
  unverified keys (it is still looked up, so a revocation still applies).
- well-formed keys that matched no stored key, for a minute. No key can come to
  match later (a key exists before anyone holds it), so repeating a forged key
  costs no database query.
The last two are bounded, dropping the oldest first.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict

from gateway.auth import Principal
from storage.api_keys import hash_key
from storage.models import utcnow

_PRUNE_AT = 10_000
VERIFIED_SECONDS = 15 * 60.0
UNKNOWN_SECONDS = 60.0


class _ExpiringHashes:
    """Key hashes remembered for `ttl` seconds, at most `bound` of them."""

    def __init__(self, ttl: float, bound: int) -> None:
        self.ttl = ttl
        self.bound = bound
        # Insertion order is expiry order (one `ttl` for all, a hash added again moves to the end); an
        # OrderedDict, whose oldest entry is found and dropped in constant time, unlike a dict's.
        self._until: OrderedDict[str, float] = OrderedDict()

    def __contains__(self, key_hash: str) -> bool:
        until = self._until.get(key_hash)
        return until is not None and until > time.monotonic()

    def add(self, key_hash: str) -> None:
        now = time.monotonic()
        self._until.pop(key_hash, None)
        while self._until and (len(self._until) >= self.bound or next(iter(self._until.values())) <= now):
            self._until.popitem(last=False)
        self._until[key_hash] = now + self.ttl

    def discard(self, key_hash: str) -> None:
        self._until.pop(key_hash, None)


class CredentialCache:
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._verified = _ExpiringHashes(VERIFIED_SECONDS, _PRUNE_AT)
        self._unknown = _ExpiringHashes(UNKNOWN_SECONDS, _PRUNE_AT)

    def get(self, token: str) -> Principal | None:
        if self.ttl <= 0:
            return None
        entry = self._entries.get(hash_key(token))
        if entry is None:
            return None
        principal, fresh_until = entry
        expired = principal.key_expires_at is not None and principal.key_expires_at <= utcnow()
        if time.monotonic() >= fresh_until or expired:
            return None
        return principal

    def put(self, token: str, principal: Principal, ttl: float | None = None) -> None:
        """Remember `principal` for `ttl` seconds (at most the cache's own `ttl`)."""
        key_hash = hash_key(token)
        self._verified.add(key_hash)
        ttl = self.ttl if ttl is None else min(ttl, self.ttl)
        if ttl <= 0:
            return
        now = time.monotonic()
        if len(self._entries) >= _PRUNE_AT:
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
        self._entries[key_hash] = (principal, now + ttl)

    def evict_key(self, key_id: uuid.UUID) -> None:
        # `key_id` may name a key, or a managed server (whose token, and keys used through it, are cached too).
        self._entries = {
            k: v
            for k, v in self._entries.items()
            if key_id not in (v[0].key_id, v[0].creator_key_id, v[0].mcp_server_id)
        }

    def verified_lately(self, token: str) -> bool:
        """Whether this key authenticated here in the last `VERIFIED_SECONDS`, and has not failed since."""
        return hash_key(token) in self._verified

    def known_unknown(self, token: str) -> bool:
        """Whether this key matched no stored key in the last `UNKNOWN_SECONDS`."""
        return hash_key(token) in self._unknown

    def refused(self, token: str, *, unknown: bool) -> None:
        """Remember that this key failed to authenticate (`unknown`: because no stored key matches it)."""
        key_hash = hash_key(token)
        self._verified.discard(key_hash)
        if unknown:
            self._unknown.add(key_hash)
