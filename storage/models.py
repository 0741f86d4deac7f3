"""SQLAlchemy models. Every tenant object carries its organization and mode."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Mode(enum.StrEnum):
    """Stripe-style data partition: test keys see only test data, live keys only live data."""

    live = "live"
    test = "test"


class Tier(enum.StrEnum):
    free = "free"
    standard = "standard"
    pro = "pro"
    enterprise = "enterprise"


class Role(enum.StrEnum):
    admin = "admin"
    member = "member"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[Tier] = mapped_column(Enum(Tier, native_enum=False, length=20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    # Per-user switches an organization can turn off, e.g. "template_fill".
    permissions: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # argon2id (PHC string), set by `vaultgate users set-password`; a user without one cannot sign in to OAuth.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # A removed user keeps its row (its keys and work name it) but authenticates nowhere.
    removed_at: Mapped[datetime | None] = mapped_column()

    organization: Mapped[Organization] = relationship(lazy="joined")


class TenantMixin:
    """Columns that make a row belong to exactly one organization and mode."""

    # Names the object in errors ("No api_key with id ...").
    kind: ClassVar[str]
    # Public ids of some kinds carry a prefix (`wf_…`, `run_…`), in errors too.
    id_prefix: ClassVar[str] = ""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    mode: Mapped[Mode] = mapped_column(Enum(Mode, native_enum=False, length=10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CredentialMixin(TenantMixin):
    """A credential (API key, MCP server, webhook endpoint): owned by one user, managed by them or an admin."""

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class ApiKey(CredentialMixin, Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant_created", "organization_id", "mode", "created_at", "id"),)
    kind = "api_key"

    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(lazy="joined")


class McpServer(CredentialMixin, Base):
    """A managed MCP server: the MCP tools its restrictions admit, reached with a Bearer key or its own path token.

    The token acts through `creator_key_id`, the key that created the server or last rotated its token, and
    only while that key works; `user_id`, the owner, is that key's user.
    """

    __tablename__ = "mcp_servers"
    __table_args__ = (
        Index("ix_mcp_servers_tenant_created", "organization_id", "mode", "created_at", "id"),
        # A deleted server's name is free again: unique among the live ones only.
        Index(
            "ix_mcp_servers_live_name",
            "organization_id",
            "mode",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )
    kind = "mcp_server"

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000))
    # `{capabilities?: {mode, ids}, projects?: {mode, ids}}`, as the API accepted it.
    restrictions: Mapped[dict[str, Any]] = mapped_column()
    token_prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime] = mapped_column()
    creator_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column()


class IdempotencyRecord(Base):
    """One caller's `Idempotency-Key`: claimed while in flight, then the response to replay (sealed)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("organization_id", "mode", "caller", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    mode: Mapped[Mode] = mapped_column(Enum(Mode, native_enum=False, length=10))
    # The calling user and key (and OAuth client, once there are any): one caller's key never answers another's request.
    caller: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    locked_until: Mapped[datetime | None] = mapped_column()
    response_status: Mapped[int | None] = mapped_column()
    response_headers: Mapped[dict[str, Any] | None] = mapped_column()
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Project(TenantMixin, Base):
    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint("organization_id", "mode", "name"),
        Index("ix_projects_tenant_created", "organization_id", "mode", "created_at", "id"),
    )
    kind = "project"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))


class DocumentStatus(enum.StrEnum):
    pending = "pending"
    processing = "processing"
    ready = "ready"
    failed = "failed"


class Document(TenantMixin, Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_tenant_created", "organization_id", "mode", "created_at", "id"),)
    kind = "document"

    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("projects.id"), index=True)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(500))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Server-generated; no part of it comes from the request.
    blob_key: Mapped[str] = mapped_column(String(200))
    page_count: Mapped[int | None] = mapped_column()
    # `metadata` is taken by SQLAlchemy's declarative base.
    user_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    status: Mapped[DocumentStatus] = mapped_column(Enum(DocumentStatus, native_enum=False, length=20))
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str | None] = mapped_column(String(200))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(String(1000))
    # The extracted text, with `segments` mapping its ranges to pages or paragraphs.
    text: Mapped[str | None] = mapped_column(Text)
    segments: Mapped[list[Any] | None] = mapped_column(JSON)
    job_id: Mapped[uuid.UUID | None] = mapped_column()
    # The restriction (a managed MCP server's digest, or "none") of the work that produced the document, a filled
    # template; NULL for an upload, original content that its project alone governs.
    restriction: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column()


class DocumentChunk(Base):
    """A searchable passage of a document, with where it sits (page or paragraph)."""

    __tablename__ = "document_chunks"

    # An integer key: SQLite's FTS5 index refers to chunks by rowid.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), index=True)
    ordinal: Mapped[int] = mapped_column()
    location_type: Mapped[str] = mapped_column(String(10))
    location_number: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text)


class JobStatus(enum.StrEnum):
    pending = "pending"
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


# A job in one of these has ended for good: nothing moves it again (`pending → running → one of these`).
TERMINAL_STATUSES = frozenset({JobStatus.completed, JobStatus.failed, JobStatus.cancelled})
# Ended without a result.
UNSUCCESSFUL_STATUSES = TERMINAL_STATUSES - {JobStatus.completed}


class Job(TenantMixin, Base):
    """One unit of background work (an ingestion, a workflow run, a template fill), leased to one worker at a time."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "status", "run_after"),)
    kind = "job"

    job_kind: Mapped[str] = mapped_column("kind", String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[JobStatus] = mapped_column(Enum(JobStatus, native_enum=False, length=20))
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    cancel_requested_at: Mapped[datetime | None] = mapped_column()
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(String(1000))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Workflow(TenantMixin, Base):
    """A named automation; what it does is its latest `WorkflowVersion`. Imported, never edited over the API."""

    __tablename__ = "workflows"
    __table_args__ = (
        UniqueConstraint("organization_id", "mode", "name"),
        Index("ix_workflows_tenant_created", "organization_id", "mode", "created_at", "id"),
    )
    kind = "workflow"
    id_prefix = "wf_"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    enabled: Mapped[bool] = mapped_column()
    trigger_type: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WorkflowVersion(Base):
    """One imported definition of a workflow, kept as long as runs may name it."""

    __tablename__ = "workflow_versions"

    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflows.id"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    # The definition as validated (JSON), and the YAML exactly as imported, comments included, for export.
    definition: Mapped[dict[str, Any]] = mapped_column()
    source: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkflowRun(TenantMixin, Base):
    """One run of one version of a workflow; its state is its job's."""

    __tablename__ = "workflow_runs"
    __table_args__ = (Index("ix_workflow_runs_tenant_created", "organization_id", "mode", "created_at", "id"),)
    kind = "workflow_run"
    id_prefix = "run_"

    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflows.id"), index=True)
    workflow_version: Mapped[int] = mapped_column()
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("projects.id"))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    inputs: Mapped[dict[str, Any]] = mapped_column()
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    timeout_seconds: Mapped[int] = mapped_column()
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"))
    # The restriction its starter worked under (a managed MCP server's digest, "none" when unrestricted; NULL
    # before it was recorded, read as "none"): its results are visible only under the same restriction.
    restriction: Mapped[str | None] = mapped_column(String(32))

    job: Mapped[Job] = relationship(lazy="joined")


class WorkflowRunStep(Base):
    """A finished step of a run, with its result: a run taken over after a crash resumes after the last one."""

    __tablename__ = "workflow_run_steps"

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflow_runs.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column()
    # Which attempt of the run's job produced it: a resumed run's earlier steps keep their first attempt.
    attempt: Mapped[int] = mapped_column()
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)


class TemplateFill(TenantMixin, Base):
    """One fill of an uploaded DOCX template from the vault; its state is its job's, and its id is the job's."""

    __tablename__ = "template_fills"
    __table_args__ = (Index("ix_template_fills_tenant_created", "organization_id", "mode", "created_at", "id"),)
    kind = "template_fill"

    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("projects.id"))
    # The scope the caller named (empty: the whole project, or the whole vault without one).
    document_ids: Mapped[list[str]] = mapped_column(default=list)
    template_filename: Mapped[str] = mapped_column(String(255))
    # Server-generated, like a document's.
    template_blob_key: Mapped[str] = mapped_column(String(200))
    filled_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"))
    # The restriction its starter worked under (a managed MCP server's digest, "none" when unrestricted; NULL
    # before it was recorded, read as "none"): its results are visible only under the same restriction.
    restriction: Mapped[str | None] = mapped_column(String(32))

    job: Mapped[Job] = relationship(lazy="joined")


class OAuthClient(Base):
    """A dynamically registered OAuth client (RFC 7591). Clients named by a metadata URL are not stored."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # RFC 7591 client metadata as registered (redirect_uris, client_name, token_endpoint_auth_method, …).
    client_metadata: Mapped[dict[str, Any]] = mapped_column()
    # SHA-256 of the `client_secret_post` secret and of the RFC 7592 registration access token.
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    registration_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column()


class OAuthGrant(Base):
    """One approval on the consent page: a user let a client read one organization's data in one mode.

    The grant is the refresh-token family: revoking it (the user, a reused refresh token, a reused code, a
    password change) ends every token issued under it at once.
    """

    __tablename__ = "oauth_grants"
    __table_args__ = (Index("ix_oauth_grants_user", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    mode: Mapped[Mode] = mapped_column(Enum(Mode, native_enum=False, length=10))
    # A registered client's id, or a Client ID Metadata Document's https URL.
    client_id: Mapped[str] = mapped_column(String(2048))
    client_name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    # Why: "user", "revoked_by_client", "refresh_token_reused", "code_reused", "password_changed", "user_removed",
    # "client_deleted".
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class OAuthCode(Base):
    """An authorization code (stored hashed): single use, short-lived, bound to its redirect, challenge and resource."""

    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("oauth_grants.id"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    code_challenge: Mapped[str] = mapped_column(String(128))
    resource: Mapped[str] = mapped_column(String(2048))
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class OAuthRefreshToken(Base):
    """A refresh token (stored hashed). Each use rotates it; a rotated one used again revokes its grant."""

    __tablename__ = "oauth_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("oauth_grants.id"), index=True)
    resource: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    rotated_at: Mapped[datetime | None] = mapped_column()


class OAuthRevokedToken(Base):
    """An access token revoked before its expiry (RFC 7009), by `jti`; kept until the token would have expired."""

    __tablename__ = "oauth_revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class OAuthSigningKey(Base):
    """A JWT signing key, by `kid`. The private key is derived from the instance key and this `kid`: none is stored.

    The newest unretired key signs; a retired one stays in the JWKS (and verifies) until the last token it
    signed has expired.
    """

    __tablename__ = "oauth_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()
