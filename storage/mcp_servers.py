"""Managed MCP servers: their restrictions, their path token (`vg_mcp_<40 hex><8 hex CRC32>`) kept by hash,
and the lookups the MCP edge authenticates with.

A server's token is its own credential type, never an API key: it acts through the key that created the
server or last rotated its token (`creator_key_id`), with at most that key's scopes, and stops when that key
is revoked or expires, when the token expires, or when the server is deleted.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.failures import Conflict, FieldError, Forbidden, Invalid, NotFound
from storage import api_keys
from storage.models import McpServer, Mode, Project
from storage.pagination import Page, Position, fetch_page
from storage.tenancy import Actor, ListMode, ProjectScope, Tenant

TOKEN_PREFIX = "vg_mcp_"
_TOKEN_FORMAT = re.compile(r"^vg_mcp_([0-9a-f]{40})([0-9a-f]{8})$")
PREFIX_LENGTH = 12
DEFAULT_TOKEN_DAYS = 30


def _checksum(body: str) -> str:
    return f"{zlib.crc32(body.encode()):08x}"


def generate_token() -> str:
    body = f"{TOKEN_PREFIX}{secrets.token_hex(20)}"
    return body + _checksum(body)


def is_well_formed_token(token: str) -> bool:
    """Format and checksum only: a typo, a forged token or an API key fails without a database lookup."""
    match = _TOKEN_FORMAT.match(token)
    return match is not None and _checksum(token[:-8]) == match.group(2)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ListRule:
    """An allowlist admits only its ids; a blocklist everything but them."""

    mode: ListMode
    ids: tuple[str, ...]

    def admits(self, value: str) -> bool:
        return (value in self.ids) is (self.mode is ListMode.allowlist)

    def as_data(self) -> dict[str, Any]:
        return {"mode": self.mode.value, "ids": list(self.ids)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ListRule:
        return cls(ListMode(data["mode"]), tuple(data["ids"]))


@dataclass(frozen=True)
class Restrictions:
    """What a managed server exposes: which operations (`capabilities`) and which projects; None admits all."""

    capabilities: ListRule | None = None
    projects: ListRule | None = None

    def admits_operation(self, operation_id: str) -> bool:
        return self.capabilities is None or self.capabilities.admits(operation_id)

    def project_scope(self) -> ProjectScope | None:
        """The projects rule as the tenant restriction every query applies (None: every project)."""
        if self.projects is None:
            return None
        return ProjectScope(self.projects.mode, frozenset(uuid.UUID(project_id) for project_id in self.projects.ids))

    def digest(self) -> str | None:
        """Names these restrictions (None: unrestricted); equal restrictions, equal digests, whatever their order."""
        if self.capabilities is None and self.projects is None:
            return None
        canonical = {name: {**rule, "ids": sorted(rule["ids"])} for name, rule in self.as_data().items()}
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()[:32]

    def as_data(self) -> dict[str, Any]:
        """As stored and answered: only the rules that are set, so no restrictions is `{}`."""
        rules = {"capabilities": self.capabilities, "projects": self.projects}
        return {name: rule.as_data() for name, rule in rules.items() if rule is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Restrictions:
        data = data or {}
        return cls(
            capabilities=ListRule.from_json(data["capabilities"]) if data.get("capabilities") else None,
            projects=ListRule.from_json(data["projects"]) if data.get("projects") else None,
        )


def _checked_restrictions(
    session: Session, tenant: Tenant, data: dict[str, Any], operation_ids: frozenset[str]
) -> Restrictions:
    """`data` as restrictions once every id names something: one error per unknown id, pointing at it."""
    restrictions = Restrictions.from_json(data)
    errors: list[FieldError] = []
    if restrictions.capabilities is not None:
        errors += (
            FieldError(
                f"{operation_id!r} is not an operation MCP exposes", pointer=f"/restrictions/capabilities/ids/{i}"
            )
            for i, operation_id in enumerate(restrictions.capabilities.ids)
            if operation_id not in operation_ids
        )
    if restrictions.projects is not None:
        # Canonical spelling, so the stored ids compare equal to the ones queries read.
        ids = tuple(str(uuid.UUID(project_id)) for project_id in restrictions.projects.ids)
        restrictions = Restrictions(restrictions.capabilities, ListRule(restrictions.projects.mode, ids))
        known = {str(found) for found in _existing_projects(session, tenant, ids)}
        errors += (
            FieldError(f"No project with id {project_id}", pointer=f"/restrictions/projects/ids/{i}")
            for i, project_id in enumerate(ids)
            if project_id not in known
        )
    if errors:
        noun = "id names" if len(errors) == 1 else "ids name"
        raise Invalid(f"{len(errors)} restriction {noun} nothing this server could restrict.", tuple(errors))
    return restrictions


def _existing_projects(session: Session, tenant: Tenant, ids: Iterable[str]) -> set[uuid.UUID]:
    wanted = [uuid.UUID(project_id) for project_id in ids]
    if not wanted:
        return set()
    return {project.id for project in session.scalars(tenant.select(Project).where(Project.id.in_(wanted)))}


@dataclass(frozen=True)
class IssuedServer:
    """A server with a freshly issued token: the only moment the token exists outside the caller's hands."""

    record: McpServer
    token: str


@dataclass(frozen=True)
class NewServer:
    name: str
    description: str
    restrictions: dict[str, Any]
    token_expires_in_days: int


def _issue_token(server: McpServer, grantor: api_keys.Grantor, days: int, now: datetime) -> str:
    token = generate_token()
    server.token_prefix = token[:PREFIX_LENGTH]
    server.token_hash = hash_token(token)
    # Never past the minting key's own life: its expiry ends what the token can do anyway.
    expires_at = grantor.cap_expiry(now + timedelta(days=days), pointer=None)
    assert expires_at is not None  # capping a given expiry always answers one
    server.token_expires_at = expires_at
    return token


def _flush_checking_name(session: Session, server: McpServer) -> None:
    session.add(server)
    try:
        session.flush()
    except IntegrityError:
        # Lost a race with a concurrent create or rename to the same name (the unit of work rolls back).
        raise _name_taken(server.name) from None


def _name_taken(name: str) -> Conflict:
    return Conflict(f"An MCP server named {name!r} already exists.")


def _check_name_free(session: Session, tenant: Tenant, name: str, server_id: uuid.UUID | None = None) -> None:
    statement = tenant.select(McpServer).where(McpServer.name == name)
    if server_id is not None:
        statement = statement.where(McpServer.id != server_id)
    if session.scalar(statement) is not None:
        raise _name_taken(name)


def create_server(
    session: Session,
    actor: Actor,
    grantor: api_keys.Grantor,
    creator_key_id: uuid.UUID,
    new: NewServer,
    operation_ids: frozenset[str],
    now: datetime,
) -> IssuedServer:
    """A server owned by the acting user, its token acting through `creator_key_id` (the calling key).

    `operation_ids` are those a `capabilities` rule may name: the operations MCP exposes.
    """
    name = new.name.strip()
    _check_name_free(session, actor.tenant, name)
    restrictions = _checked_restrictions(session, actor.tenant, new.restrictions, operation_ids)
    server = McpServer(
        id=uuid.uuid4(),
        organization_id=actor.tenant.organization_id,
        mode=actor.tenant.mode,
        user_id=actor.user_id,
        name=name,
        description=new.description,
        restrictions=restrictions.as_data(),
        creator_key_id=creator_key_id,
        created_at=now,
        updated_at=now,
    )
    token = _issue_token(server, grantor, new.token_expires_in_days, now)
    _flush_checking_name(session, server)
    return IssuedServer(server, token)


def list_servers(session: Session, actor: Actor, limit: int, after: Position | None) -> Page[McpServer]:
    """The servers `actor` manages: an admin's whole tenant, a member's own; deleted ones never."""
    return fetch_page(session, actor.select_manageable(McpServer), McpServer, limit, after)


def get_server(session: Session, actor: Actor, server_id: uuid.UUID) -> McpServer:
    return actor.get_manageable(session, McpServer, server_id)


def update_server(
    session: Session,
    actor: Actor,
    server_id: uuid.UUID,
    changes: dict[str, Any],
    operation_ids: frozenset[str],
    now: datetime,
) -> McpServer:
    """Apply `changes` (any of name, description, restrictions; restrictions replace the stored ones whole)."""
    server = actor.get_manageable(session, McpServer, server_id)
    wanted = {key: changes[key] for key in ("name", "description") if key in changes}
    if "name" in wanted:
        wanted["name"] = wanted["name"].strip()
        _check_name_free(session, actor.tenant, wanted["name"], server.id)
    if "restrictions" in changes:
        restrictions = _checked_restrictions(session, actor.tenant, changes["restrictions"], operation_ids)
        wanted["restrictions"] = restrictions.as_data()
    # Every query is done: nothing flushes a half-applied change before the name is checked by the database.
    changed = {key: value for key, value in wanted.items() if getattr(server, key) != value}
    if changed:
        for key, value in changed.items():
            setattr(server, key, value)
        server.updated_at = now
        _flush_checking_name(session, server)
    return server


def rotate_token(
    session: Session,
    actor: Actor,
    grantor: api_keys.Grantor,
    creator_key_id: uuid.UUID,
    server_id: uuid.UUID,
    days: int,
    now: datetime,
) -> IssuedServer:
    """A new token for the server, acting through the calling key; the old one stops at once.

    Only the server's owner rotates it, as with API keys: a token acting as another user would hand the caller
    that user's access, and taking the server over would silently cut its owner's agents off. An admin deletes it.
    """
    server = actor.get_manageable(session, McpServer, server_id)
    if server.user_id != actor.user_id:
        raise Forbidden(
            f"mcp_server {server_id} belongs to another user; only they can rotate its token (you can delete it)."
        )
    token = _issue_token(server, grantor, days, now)
    server.creator_key_id = creator_key_id
    server.updated_at = now
    session.flush()
    return IssuedServer(server, token)


def delete_server(session: Session, actor: Actor, server_id: uuid.UUID, now: datetime) -> None:
    """Soft delete: its token stops at once, every later call naming it answers 404, and its name is free."""
    server = actor.get_manageable(session, McpServer, server_id)
    server.deleted_at = now
    server.updated_at = now
    session.flush()


@dataclass(frozen=True)
class ServerAccess:
    """A managed server as the MCP edge serves it: whose data, what it admits, and the key it acts through."""

    server_id: uuid.UUID
    name: str
    organization_id: uuid.UUID
    mode: Mode
    restrictions: Restrictions
    token_prefix: str
    token_expires_at: datetime
    credential: api_keys.Credential


def _access(server: McpServer, credential: api_keys.Credential) -> ServerAccess:
    return ServerAccess(
        server_id=server.id,
        name=server.name,
        organization_id=server.organization_id,
        mode=server.mode,
        restrictions=Restrictions.from_json(server.restrictions),
        token_prefix=server.token_prefix,
        token_expires_at=server.token_expires_at,
        credential=credential,
    )


def access_by_token(session: Session, server_id: uuid.UUID, token: str, now: datetime) -> ServerAccess | str:
    """The server `token` opens, or why it opens nothing: "unknown" (malformed, no such server, deleted, another
    server's token), "expired", "creator_key_revoked" or "creator_key_expired"."""
    if not is_well_formed_token(token):
        return "unknown"
    server = session.scalar(
        select(McpServer).where(
            McpServer.id == server_id, McpServer.token_hash == hash_token(token), McpServer.deleted_at.is_(None)
        )
    )
    if server is None:
        return "unknown"
    credential = api_keys.find_credential_by_id(session, server.creator_key_id)
    if credential is None:
        return "unknown"
    # The issuing key first: its revocation also ends the token's expiry, and "revoked" says what to do.
    reason = api_keys.unusable_reason(credential.revoked_at, credential.expires_at, now)
    if reason is not None:
        return f"creator_key_{reason}"
    if server.token_expires_at <= now:
        return "expired"
    return _access(server, credential)


def server_in_tenant(session: Session, tenant: Tenant, server_id: uuid.UUID) -> ServerAccess:
    """Any live server of the tenant, whoever owns it (a Bearer key of the tenant reaches `/mcp/{server_id}`);
    NotFound otherwise, as for another tenant's."""
    server = tenant.get(session, McpServer, server_id)
    credential = api_keys.find_credential_by_id(session, server.creator_key_id)
    if credential is None:
        raise NotFound(McpServer.kind, server_id)
    return _access(server, credential)
