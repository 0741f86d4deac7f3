"""Turning a credential into a principal, for the REST edge and the MCP edge alike.

One instance per app: both edges share its credential cache (so revoking a key
evicts it everywhere in the process) and its per-address allowance of lookups
for credentials not verified lately (forged ones, mostly).

A bearer string is an API key or, when it is shaped like a JWT, an OAuth access
token. A token's signature, issuer, audience and expiry are checked without the
database (so a forged one costs no query); its grant (revoked? its `jti`
revoked? its user removed?) is then looked up like a key, and remembered for at
most `OAUTH_CACHE_SECONDS`: revoking a token must stop it in every gateway
process within a second.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from anyio import to_thread
from starlette.types import Scope

from core.settings import Settings
from gateway.auth import Principal, UnknownKey, authenticate, unauthorized, unknown_key
from gateway.contract import Contract
from gateway.credential_cache import CredentialCache
from gateway.oauth.tokens import AccessClaims, InvalidToken, looks_like_jwt
from gateway.problems import Problem
from gateway.rate_limits import POLICIES, Bucket, Buckets, Draw, Level, Policy, client_address
from storage import api_keys, mcp_servers, oauth
from storage.database import session_scope
from storage.models import utcnow

if TYPE_CHECKING:
    # Only a type here: the OAuth server's module imports the MCP edge's, which imports this one.
    from gateway.oauth.resources import OAuthServer

# How long a process trusts a token's grant without asking the database again (the bound is one second).
OAUTH_CACHE_SECONDS = 0.5


class Authenticator:
    def __init__(self, settings: Settings, buckets: Buckets, contract: Contract, oauth_server: OAuthServer) -> None:
        self.settings = settings
        self.buckets = buckets
        self.contract = contract
        self.oauth = oauth_server
        self.credentials = CredentialCache(settings.credential_cache_seconds)
        self.key_lookups = Policy(
            "key-lookups", settings.key_lookups_per_address, settings.key_lookups_refill_per_second
        )

    async def api_key(self, scope: Scope, token: str) -> Principal:
        """The key's principal: remembered, else looked up (within the address's allowance unless it worked lately)."""
        # The format first: nothing but a well-formed key may even be looked up in the cache, whose other
        # entries (server tokens, keys through a server) must never answer for a string sent as a key.
        if not api_keys.is_well_formed(token):
            raise unauthorized("The API key is malformed (bad format or checksum).")
        database_url = self.settings.database_url
        return await self._resolve(scope, f"api_key:{token}", unknown_key, lambda: authenticate(database_url, token))

    async def bearer(self, scope: Scope, token: str, audiences: tuple[str, ...]) -> Principal:
        """The principal of a bearer string: an OAuth access token for one of `audiences`, or an API key."""
        if looks_like_jwt(token):
            return await self.access_token(scope, token, audiences)
        return await self.api_key(scope, token)

    async def access_token(self, scope: Scope, token: str, audiences: tuple[str, ...]) -> Principal:
        """An OAuth access token's principal: signed by this issuer for one of `audiences`, its grant still live."""
        # The audiences are part of the cache key: a token remembered at one resource must not open another.
        remembered = f"oauth:{' '.join(audiences)}:{token}"
        principal = self.credentials.get(remembered)
        if principal is not None:
            return principal
        try:
            # In a thread: the signature costs CPU, and now and then the signing key ids are reread.
            claims = await to_thread.run_sync(self.oauth.tokens.verify, token, audiences)
        except InvalidToken as exc:
            raise unauthorized(str(exc)) from None
        database_url = self.settings.database_url
        return await self._resolve(
            scope, remembered, _revoked_token, lambda: _of_grant(database_url, claims), ttl=OAUTH_CACHE_SECONDS
        )

    async def through_server(self, scope: Scope, principal: Principal, server_id: uuid.UUID) -> Principal:
        """A key's or an OAuth token's principal on `/mcp/{server_id}`: the server must be its tenant's; its
        restrictions apply."""
        if principal.auth_kind not in ("api_key", "oauth") or principal.mcp_server_id is not None:
            raise unauthorized("Only an API key or an OAuth access token opens a managed MCP server's URL.")

        def find() -> Principal:
            with session_scope(self.settings.database_url) as session:
                access = mcp_servers.server_in_tenant(session, principal.tenant, server_id)  # NotFound otherwise
            return self._restricted(principal, access)

        if principal.auth_kind == "oauth":
            # Per token, and no longer than the token's own entry: its revocation must reach this one as fast.
            remembered, ttl = f"mcp_server:{server_id}:oauth:{principal.token_id}", OAUTH_CACHE_SECONDS
        else:
            remembered, ttl = f"mcp_server:{server_id}:key:{principal.key_id}", None
        return await self._resolve(scope, remembered, _unknown_token, find, ttl=ttl)

    async def server_token(self, scope: Scope, server_id: uuid.UUID, token: str) -> Principal:
        """The principal of a token URL: the server's creator, with at most its creating key's scopes."""
        if not mcp_servers.is_well_formed_token(token):
            raise unauthorized("The MCP server access token is malformed.")

        def find() -> Principal:
            with session_scope(self.settings.database_url) as session:
                access = mcp_servers.access_by_token(session, server_id, token, utcnow())
            if isinstance(access, str):
                raise _unknown_token() if access == "unknown" else unauthorized(_TOKEN_REFUSALS[access])
            as_creator = Principal.of_key(access.credential)
            principal = dataclasses.replace(
                as_creator,
                auth_kind="mcp_server_token",
                key_id=access.server_id,
                key_prefix=access.token_prefix,
                key_name=access.name,
                key_expires_at=access.token_expires_at,
                creator_key_id=as_creator.key_id,
            )
            return self._restricted(principal, access)

        return await self._resolve(scope, f"mcp_server:{server_id}:token:{token}", _unknown_token, find)

    async def _resolve(
        self,
        scope: Scope,
        remembered: str,
        unknown: Callable[[], Problem],
        find: Callable[[], Principal],
        ttl: float | None = None,
    ) -> Principal:
        """A credential's principal, from the cache or `find` (run in a thread; it raises the refusal).

        Looking up a credential not verified here lately draws from the caller's address allowance, so forged
        credentials (and unknown server ids) cost the prober, not the database.
        """
        principal = self.credentials.get(remembered)
        if principal is not None:
            return principal
        if not self.credentials.verified_lately(remembered):
            await self._draw_lookup(scope)
        if self.credentials.known_unknown(remembered):
            raise unknown()
        try:
            principal = await to_thread.run_sync(find)
        except Problem as refusal:
            self.credentials.refused(remembered, unknown=isinstance(refusal, UnknownKey))
            raise
        self.credentials.put(remembered, principal, ttl)
        return principal

    def _restricted(self, principal: Principal, access: mcp_servers.ServerAccess) -> Principal:
        rules = access.restrictions
        allowed = None
        if rules.capabilities is not None:
            allowed = frozenset(
                op.operation_id for op in self.contract.operations if rules.admits_operation(op.operation_id)
            )
        return dataclasses.replace(
            principal,
            mcp_server_id=access.server_id,
            allowed_operations=allowed,
            project_scope=rules.project_scope(),
            restriction=rules.digest(),
        )

    async def draw(self, principal: Principal, cost: int) -> tuple[Policy, Draw]:
        """Draw `cost` from the credential's bucket inside its organization's (in this mode)."""
        policy = POLICIES[principal.tier]
        # More keys do not mean more tokens: every key's bucket sits inside its organization's.
        buckets = (
            Bucket(policy.name, principal.bucket),
            Bucket(f"{policy.name}-organization", f"organization:{principal.organization_id}:{principal.mode.value}"),
        )
        if not self.settings.rate_limits_enabled:
            return policy, Draw(True, tuple(Level(b.name, policy.capacity, 0) for b in buckets), limited=False)
        return policy, await self.buckets.draw(buckets, policy, cost)

    async def _draw_lookup(self, scope: Scope) -> None:
        """429 once the caller's address has looked up too many credentials not verified lately."""
        address = client_address(scope, trust_forwarded_for=self.settings.trust_forwarded_for)
        draw = await self.buckets.draw([Bucket("address", f"address:{address}")], self.key_lookups, 1)
        if not draw.allowed:
            raise Problem(
                "rate_limited",
                f"Too many API keys were tried from your address (keys that worked lately still do); "
                f"retry in {draw.retry_after} s.",
                headers={"Retry-After": str(draw.retry_after)},
            )


_TOKEN_REFUSALS = {
    "expired": "The MCP server's access token has expired; rotate it for a new one.",
    "creator_key_revoked": "The API key that created this MCP server's token has been revoked; rotate the token.",
    "creator_key_expired": "The API key that created this MCP server's token has expired; rotate the token.",
}


_GRANT_REFUSALS = {
    "revoked": "The access token has been revoked (or the app's access was); authorize the app again.",
    "user_removed": "The access token's user has been removed from the organization.",
}


def _of_grant(database_url: str, claims: AccessClaims) -> Principal:
    """The principal of a verified token, if its grant (and the token itself) still stand; the refusal else."""
    with session_scope(database_url) as session:
        access = oauth.grant_access(session, claims.grant_id, claims.token_id)
        if isinstance(access, str):
            # A revocation is never undone: the token may be remembered as refused (`UnknownKey`).
            raise unauthorized(_GRANT_REFUSALS[access], kind=UnknownKey if access == "revoked" else Problem)
        if access.user.id != claims.user_id or access.client_id != claims.client_id:
            raise _revoked_token()
        return Principal.of_grant(access, claims)


def _revoked_token() -> Problem:
    return unauthorized(_GRANT_REFUSALS["revoked"], kind=UnknownKey)


def _unknown_token() -> Problem:
    return unauthorized("The MCP server access token is not recognized (or the server was deleted).", kind=UnknownKey)
