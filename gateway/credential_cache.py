"""Principals remembered for at most a second, so most requests skip the key lookup.

The bound is the promise: a key revoked by another process stops working here
within `ttl` seconds; one revoked through this process stops at once (evicted).
Expiry is checked on every hit, so an expired key is never served from here.
"""

from __future__ import annotations

import time
import uuid

from gateway.auth import Principal
from storage.api_keys import hash_key
from storage.models import utcnow

_PRUNE_AT = 10_000


class CredentialCache:
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[str, tuple[Principal, float]] = {}

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

    def put(self, token: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        now = time.monotonic()
        if len(self._entries) >= _PRUNE_AT:
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
        self._entries[hash_key(token)] = (principal, now + self.ttl)

    def evict_key(self, key_id: uuid.UUID) -> None:
        self._entries = {k: v for k, v in self._entries.items() if v[0].key_id != key_id}
