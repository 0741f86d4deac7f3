"""Who is calling: bearer API keys and OAuth access tokens resolved to a principal, and the checks on it."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from connexion import context
from sqlalchemy.orm import Session

from core.secrets import InstanceKey
from core.settings import Settings
from gateway.contract import load_contract
from gateway.oauth.tokens import AccessClaims
from gateway.problems import Problem
from gateway.rate_limits import Draw, Policy
from storage import api_keys
from storage.accounts import holds_permission
from storage.database import session_scope
from storage.models import Mode, Role, Tier, utcnow
from storage.oauth import GrantAccess
from storage.tenancy import Actor, ProjectScope, Tenant

REALM = "vaultgate"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as handlers and `meta.whoami` see it."""

    auth_kind: str
    key_id: uuid.UUID
    key_prefix: str
    key_name: str
    key_expires_at: datetime | None
    scopes: frozenset[str]
    user_id: uuid.UUID
    user_email: str
    user_name: str
    user_role: Role
    user_permissions: tuple[str, ...]
    organization_id: uuid.UUID
    organization_name: str
    tier: Tier
    mode: Mode
    # Through a managed MCP server: which server, the operations and projects its restrictions leave (None: all).
    mcp_server_id: uuid.UUID | None = None
    # A server token acts through the key that created it: revoking that key ends the token too.
    creator_key_id: uuid.UUID | None = None
    allowed_operations: frozenset[str] | None = None
    project_scope: ProjectScope | None = None
    restriction: str | None = None
    # An OAuth access token (auth_kind "oauth"): `key_id` is then its grant's id (revoking the grant evicts it),
    # the client is named here, and `token_id` is the token's `jti`.
    oauth_client_id: str | None = None
    oauth_client_name: str | None = None
    token_id: str | None = None

    @classmethod
    def of_key(cls, key: api_keys.Credential) -> Principal:
        """The principal an API key authenticates (also what a managed server's token acts as: its creating key)."""
        return cls(
            auth_kind="api_key",
            key_id=key.key_id,
            key_prefix=key.prefix,
            key_name=key.name,
            key_expires_at=key.expires_at,
            scopes=frozenset(key.scopes),
            user_id=key.user_id,
            user_email=key.user_email,
            user_name=key.user_name,
            user_role=key.user_role,
            user_permissions=tuple(key.user_permissions),
            organization_id=key.organization_id,
            organization_name=key.organization_name,
            tier=key.tier,
            mode=key.mode,
        )

    @classmethod
    def of_grant(cls, access: GrantAccess, claims: AccessClaims) -> Principal:
        """The principal an OAuth access token authenticates: its grant's user, organization and mode, with the
        read scopes both the token and its grant hold."""
        user, organization = access.user, access.organization
        return cls(
            auth_kind="oauth",
            key_id=access.grant_id,
            key_prefix="",
            key_name=access.client_name,
            key_expires_at=claims.accepted_until,
            scopes=frozenset(s for s in claims.scopes if s in access.scopes and is_read_scope(s)),
            user_id=user.id,
            user_email=user.email,
            user_name=user.name,
            user_role=user.role,
            user_permissions=tuple(user.permissions),
            organization_id=organization.id,
            organization_name=organization.name,
            tier=organization.tier,
            mode=access.mode,
            oauth_client_id=access.client_id,
            oauth_client_name=access.client_name,
            token_id=claims.token_id,
        )

    @property
    def tenant(self) -> Tenant:
        return Tenant(self.organization_id, self.mode, projects=self.project_scope, restriction=self.restriction)

    @property
    def bucket(self) -> str:
        """The rate-limit bucket of the credential (inside its organization's): a key's, or a server token's."""
        if self.auth_kind == "oauth":
            # Per client and user (spec §2), whichever grant the token came from.
            return f"oauth:{self.oauth_client_id}:{self.user_id}:{self.mode.value}"
        return f"key:{self.key_id}" if self.auth_kind == "api_key" else f"{self.auth_kind}:{self.key_id}"

    @property
    def actor(self) -> Actor:
        """Whose credentials this caller may manage (owner-or-admin)."""
        return Actor(self.tenant, self.user_id, is_admin=self.user_role is Role.admin)

    @property
    def grantor(self) -> api_keys.Grantor:
        """What a key minted by this caller may hold: no scope it lacks, no life past its own."""
        return api_keys.Grantor(self.scopes, self.key_expires_at)

    @property
    def caller(self) -> str:
        """Who, inside the tenant, is acting: the user and the key (or the OAuth client).

        The key is part of it: a narrow key of a user must not replay what the user's broader key was answered
        (a minted key's secret, say) — a replay skips the handler's own checks.
        """
        caller = f"user:{self.user_id}/{self.bucket}"
        if self.auth_kind == "oauth":
            caller = f"user:{self.user_id}/oauth_client:{_short_client_id(self.oauth_client_id or '')}"
        # A server must not replay what the same key was answered outside its restrictions, or under others.
        if self.mcp_server_id is None:
            return caller
        return f"{caller}/mcp_server:{self.mcp_server_id}/{self.restriction or 'unrestricted'}"


def _short_client_id(client_id: str) -> str:
    # A metadata document's client_id is a URL of up to 2 KiB; the stored caller has room for 200 characters.
    return client_id if len(client_id) <= 64 else f"sha256:{hashlib.sha256(client_id.encode()).hexdigest()[:40]}"


def is_read_scope(scope: str) -> bool:
    """Whether an OAuth token may hold `scope` (spec §2: tokens only ever hold `*:read` scopes)."""
    return scope.endswith(":read")


class UnknownKey(Problem):
    """401 for a well-formed key that matches no stored key (and never will: it may be remembered as such)."""


def unauthorized(detail: str, *, error: str | None = "invalid_token", kind: type[Problem] = Problem) -> Problem:
    # RFC 6750 §3: no error attribute when the request carried no credentials.
    challenge = f'Bearer realm="{REALM}"'
    if error:
        challenge += f', error="{error}", error_description="{detail}"'
    return kind("unauthorized", detail, headers={"WWW-Authenticate": challenge})


def naming_metadata(problem: Problem, metadata_url: str, *, scope: str | None = None) -> Problem:
    """The problem with its bearer challenge naming the protected-resource metadata (RFC 9728 §5.1): how an OAuth
    client learns where to get a token (and, with `scope`, which scopes to ask for)."""
    challenge = problem.headers.get("WWW-Authenticate")
    if challenge is None or "resource_metadata=" in challenge:
        return problem
    challenge += f', resource_metadata="{metadata_url}"'
    if scope is not None and "scope=" not in challenge:
        challenge += f', scope="{scope}"'
    problem.headers = {**problem.headers, "WWW-Authenticate": challenge}
    return problem


def protected_resource_metadata_url(issuer: str, resource_path: str) -> str:
    """Where RFC 9728 §3.1 puts the metadata of the resource at `<issuer><resource_path>`."""
    return f"{issuer}/.well-known/oauth-protected-resource{resource_path}"


def unknown_key() -> Problem:
    return unauthorized("The API key is not recognized.", kind=UnknownKey)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise unauthorized("Missing Authorization header; send 'Bearer <api key>'.", error=None)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("Authorization header must be 'Bearer <api key>'.", error="invalid_request")
    return token.strip()


def authenticate(database_url: str, token: str) -> Principal:
    """Resolve a bearer token; every failure is a 401 problem (`UnknownKey` when no stored key matches)."""
    if not api_keys.is_well_formed(token):
        raise unauthorized("The API key is malformed (bad format or checksum).")
    now = utcnow()
    with session_scope(database_url) as session:
        key = api_keys.find_credential(session, token)
        if key is None:
            raise unknown_key()
        reason = api_keys.unusable_reason(key.revoked_at, key.expires_at, now)
        if reason is not None:
            raise unauthorized(f"The API key has {'been revoked' if reason == 'revoked' else 'expired'}.")
        api_keys.mark_credential_used(session, key, now)
    return Principal.of_key(key)


def may_read_vault_content(principal: Principal) -> bool:
    """Whether the caller may see vault text wherever it surfaces (run outputs, filled documents): the scope
    that reading a document's text takes, as the contract states it."""
    return load_contract().operation("vault.get_document_text").scope in principal.scopes


def require_operation(principal: Principal, operation_id: str) -> None:
    """403 `forbidden` when a managed MCP server's restrictions leave the operation out (its tools hide it too)."""
    if principal.allowed_operations is not None and operation_id not in principal.allowed_operations:
        raise Problem("forbidden", f"This MCP server's restrictions do not allow {operation_id}.")


def require_read_only(principal: Principal, operation_id: str, scope: str | None) -> None:
    """403 `oauth_read_only` when an OAuth token calls an operation whose scope is not a read scope.

    Whatever the HTTP method and the token's scope claim, and before the scope check: no scope a token could be
    granted would let it write, so no step-up challenge may suggest one.
    """
    if principal.auth_kind == "oauth" and scope is not None and not is_read_scope(scope):
        raise Problem(
            "oauth_read_only",
            f"OAuth access tokens only read; {operation_id} needs the '{scope}' scope, which only an API key can hold.",
        )


def require_scope(principal: Principal, scope: str | None) -> None:
    """403 `insufficient_scope` unless the key holds the operation's scope."""
    if scope is not None:
        require_scopes(principal, [scope], "This operation requires")


def require_scopes(principal: Principal, scopes: Iterable[str], needed_by: str) -> None:
    """403 `insufficient_scope` naming every scope the key lacks, in the detail and the challenge (RFC 6750 §3)."""
    missing = sorted(set(scopes) - principal.scopes)
    if not missing:
        return
    named = ", ".join(f"'{scope}'" for scope in missing)
    holder = "access token" if principal.auth_kind == "oauth" else "key"
    raise Problem(
        "insufficient_scope",
        f"{needed_by} the {named} scope{'s' if len(missing) > 1 else ''}, which this {holder} does not hold.",
        headers={
            "WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope", scope="{" ".join(missing)}"'
        },
    )


def require_permission(principal: Principal, permission: str) -> None:
    """403 `permission_denied` unless the caller's user holds `permission` (organization admins always do)."""
    if holds_permission(principal.user_role, principal.user_permissions, permission):
        return
    raise Problem(
        "permission_denied",
        f"Your organization has turned off the '{permission}' permission for {principal.user_email}; "
        "an organization admin can turn it on.",
    )


def current_principal() -> Principal:
    """The caller of the operation being handled (set by the gateway middleware)."""
    principal = context.context["token_info"]
    assert isinstance(principal, Principal)
    return principal


def current_rate_limit() -> tuple[Policy, Draw]:
    """The caller's bucket policy and the draw this request made (set by the gateway middleware)."""
    policy, draw = context.context["rate_limit"]
    assert isinstance(policy, Policy)
    assert isinstance(draw, Draw)
    return policy, draw


def forget_credential(key_id: uuid.UUID) -> None:
    """Drop a key from this process's credential cache (after revoking it)."""
    context.context["credentials"].evict_key(key_id)


def current_settings() -> Settings:
    """The settings of the app handling the request (tests run apps with their own)."""
    settings = context.context["settings"]
    assert isinstance(settings, Settings)
    return settings


def current_instance_key() -> InstanceKey:
    """The key cursors and download links are signed with, and kept answers sealed with."""
    instance_key = context.context["instance_key"]
    assert isinstance(instance_key, InstanceKey)
    return instance_key


@contextmanager
def database_session() -> Iterator[Session]:
    """A unit of work on the database of the app handling the request."""
    with session_scope(current_settings().database_url) as session:
        yield session
