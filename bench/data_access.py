"""Data-access spike: sync SQLAlchemy as today against its asyncio extension and the raw drivers.

`python -m bench data_access`. Two endpoints do what Vaultgate's do, on SQLite and on PostgreSQL:
- `GET /api/v2/meta/whoami`: the API key by SHA-256 hash joined with its user and organization
  (`storage.api_keys._FIND_CREDENTIAL`), one unit of work;
- `GET /api/v2/workflows/runs/{run_id}` (the run-status poll): the same key lookup, then one workflow run
  joined with its job by primary key within the key's tenant, a second unit of work (as the gateway's
  authentication and handler are two). No credential cache: every request pays its queries.

Each is served by a minimal Starlette app, 1 uvicorn process (uvloop, httptools), in these styles:
  (1)  sync SQLAlchemy as today (`session_scope`, `find_credential`, `Tenant.get` through the ORM) in a
       `def` endpoint, so in anyio's thread pool;
  (1b) sync SQLAlchemy Core (statements built once, so the compiled cache hits) in a `def` endpoint:
       against (1) it prices the ORM session, against (2) the thread hop;
  (2)  the same Core calls in an `async def` endpoint, blocking the event loop (briefly);
  (3)  the asyncio extension with an `AsyncSession` (aiosqlite / psycopg async), the straight port of (1);
  (3b) the asyncio extension with Core on an `AsyncConnection`;
  (4)  the raw driver: `sqlite3` on the loop (its statement cache prepares once per connection), or a
       psycopg `AsyncConnectionPool` with prepared statements in autocommit;
  and on PostgreSQL only, (1b) and (3b) at the raw driver's round-trip count (no `pool_pre_ping`, autocommit,
  so no BEGIN/COMMIT): (1c) in the thread pool, (3c) with the asyncio extension; and (4b), the raw queries
  through a sync psycopg pool in a `def` endpoint, which splits the floor into driver and thread hop.
The SQLAlchemy engines are configured as `storage.database` configures them (PRAGMAs, pool sizes,
`pool_pre_ping` on PostgreSQL). Every answer is checked equal to (1)'s before it is measured.

Also, without HTTP: the median latency of one call of the lookups in each style, one caller at a time.
Variants run interleaved (order rotated each round) so the noise of a shared machine hits them alike.
The spike needs `aiosqlite` and `psycopg-pool`, which are not dependencies of Vaultgate: without them it
says so and measures nothing.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
import uvloop
from anyio import to_thread
from sqlalchemy import Engine, bindparam, create_engine, event, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.harness import CONNECTIONS, ROOT, ROUNDS, server
from bench.vault import postgres
from core.failures import NotFound
from gateway.contract import load_contract
from storage import api_keys
from storage.accounts import create_organization, create_user
from storage.api_keys import _FIND_CREDENTIAL, find_credential, hash_key, unusable_reason
from storage.database import dispose_engine, engine_for, normalize_url, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Job, Mode, Role, Tier, Workflow, WorkflowRun
from storage.tenancy import Tenant
from storage.workflows import NewRun, import_definition, start_run
from workflows.definition import digest, parse

DURATION = os.environ.get("BENCH_DURATION", "5s")
WARMUP = "1s"
CALLS = int(os.environ.get("BENCH_CALLS", "300"))  # per style per round, in the microbenchmark
BLOCK = 20
EXAMPLE = ROOT / "examples" / "workflows" / "weekly-submittal-review.yaml"
WHOAMI = "/api/v2/meta/whoami"
POLL = "/api/v2/workflows/runs/{run_id}"
FINISHED = ("completed", "failed", "cancelled")

# (1b), (2), (3b): the run read as Core, built once like _FIND_CREDENTIAL.
_FIND_RUN = (
    select(
        WorkflowRun.id,
        WorkflowRun.workflow_id,
        WorkflowRun.workflow_version,
        WorkflowRun.project_id,
        WorkflowRun.inputs,
        WorkflowRun.outputs,
        WorkflowRun.created_at,
        Job.status,
        Job.progress,
        Job.stage,
        Job.error_code,
        Job.error_message,
        Job.started_at,
        Job.finished_at,
    )
    .join(Job, Job.id == WorkflowRun.job_id)
    .where(
        WorkflowRun.id == bindparam("run_id"),
        WorkflowRun.organization_id == bindparam("organization_id"),
        WorkflowRun.mode == bindparam("mode"),
    )
)

# (4): the same two queries by hand, columns in the same order.
_CREDENTIAL_SQL = (
    "SELECT k.id, k.prefix, k.name, k.mode, k.scopes, k.expires_at, k.revoked_at, k.last_used_at,"
    " u.id, u.email, u.name, u.role, u.permissions, o.id, o.name, o.tier"
    " FROM api_keys k JOIN users u ON u.id = k.user_id JOIN organizations o ON o.id = u.organization_id"
    " WHERE k.key_hash = ?"
)
_RUN_SQL = (
    "SELECT r.id, r.workflow_id, r.workflow_version, r.project_id, r.inputs, r.outputs, r.created_at,"
    " j.status, j.progress, j.stage, j.error_code, j.error_message, j.started_at, j.finished_at"
    " FROM workflow_runs r JOIN jobs j ON j.id = r.job_id WHERE r.id = ? AND r.organization_id = ? AND r.mode = ?"
)

# What a request learned from its key: the whoami body, and the tenant the poll reads in.
Principal = tuple[dict[str, Any], Any, Any]
Body = dict[str, Any]


# ---------------------------------------------------------------------------------------------- answers
def _principal(
    key_id: Any, prefix: str, mode: Any, scopes: list[str], expires_at: Any, revoked_at: Any, org_id: Any, tier: Any
) -> Principal | None:
    if unusable_reason(revoked_at, expires_at, datetime.now(UTC)) is not None:
        return None
    body = {
        "auth_kind": "api_key",
        "mode": str(mode),
        "scopes": sorted(scopes),
        "key": {"id": str(key_id), "prefix": prefix},
        "organization": {"id": str(org_id), "tier": str(tier)},
    }
    return body, org_id, mode


def _principal_row(row: Sequence[Any]) -> Principal | None:
    return _principal(row[0], row[1], row[3], row[4], row[5], row[6], row[13], row[15])


def _run_view(row: Sequence[Any]) -> Body:
    """handlers.workflows._run_view, from a row of _FIND_RUN's columns."""
    status = str(row[7])
    failed = status in ("failed", "cancelled")
    return {
        "run_id": f"run_{row[0]}",
        "workflow_id": f"wf_{row[1]}",
        "workflow_version": row[2],
        "project_id": row[3],
        "status": status,
        "progress": row[8],
        "stage": row[9],
        "inputs": row[4],
        "outputs": row[5] if status == "completed" else None,
        "error_code": row[10] if failed else None,
        "error_message": row[11] if failed else None,
        "started_at": row[12],
        "completed_at": row[13] if status in FINISHED else None,
        "created_at": row[6],
    }


def _orm_run_view(run: WorkflowRun) -> Body:
    job = run.job
    return _run_view(
        (
            run.id,
            run.workflow_id,
            run.workflow_version,
            run.project_id,
            run.inputs,
            run.outputs,
            run.created_at,
            job.status,
            job.progress,
            job.stage,
            job.error_code,
            job.error_message,
            job.started_at,
            job.finished_at,
        )
    )


def _reply(status: int, body: Body) -> Response:
    return Response(json.dumps(body, default=str), status, media_type="application/json")


UNAUTHORIZED = _reply(401, {"code": "unauthorized"})
NOT_FOUND = _reply(404, {"code": "not_found"})


# ---------------------------------------------------------------------------------------------- stores
class SyncStore(Protocol):
    def credential(self, token: str) -> Principal | None: ...
    def run(self, principal: Principal, run_id: uuid.UUID) -> Body | None: ...


class AsyncStore(Protocol):
    async def open(self) -> None: ...
    async def credential(self, token: str) -> Principal | None: ...
    async def run(self, principal: Principal, run_id: uuid.UUID) -> Body | None: ...
    async def close(self) -> None: ...


class OrmStore:
    """(1): today's storage code, a `session_scope` per unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url

    def credential(self, token: str) -> Principal | None:
        with session_scope(self.url) as session:
            c = find_credential(session, token)
        if c is None:
            return None
        return _principal(c.key_id, c.prefix, c.mode, c.scopes, c.expires_at, c.revoked_at, c.organization_id, c.tier)

    def run(self, principal: Principal, run_id: uuid.UUID) -> Body | None:
        try:
            with session_scope(self.url) as session:
                return _orm_run_view(Tenant(principal[1], principal[2]).get(session, WorkflowRun, run_id))
        except NotFound:
            return None


class CoreStore:
    """(1b), (2): Core statements built once, on a pooled connection of the given engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def credential(self, token: str) -> Principal | None:
        with self.engine.connect() as connection:
            row = connection.execute(_FIND_CREDENTIAL, {"key_hash": hash_key(token)}).first()
        return None if row is None else _principal_row(row)

    def run(self, principal: Principal, run_id: uuid.UUID) -> Body | None:
        parameters = {"run_id": run_id, "organization_id": principal[1], "mode": principal[2]}
        with self.engine.connect() as connection:
            row = connection.execute(_FIND_RUN, parameters).first()
        return None if row is None else _run_view(row)


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


class RawSqliteStore:
    """(4) on SQLite: one `sqlite3` connection used on the loop; values converted as SQLAlchemy would."""

    def __init__(self, url: str) -> None:
        self.db = sqlite3.connect(str(make_url(url).database), check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA busy_timeout=30000")

    def credential(self, token: str) -> Principal | None:
        row = self.db.execute(_CREDENTIAL_SQL, (hash_key(token),)).fetchone()
        if row is None:
            return None
        organization_id = uuid.UUID(row[13])
        return _principal(
            uuid.UUID(row[0]),
            row[1],
            row[3],
            json.loads(row[4]),
            _dt(row[5]),
            _dt(row[6]),
            organization_id,
            row[15],
        )

    def run(self, principal: Principal, run_id: uuid.UUID) -> Body | None:
        row = self.db.execute(_RUN_SQL, (run_id.hex, principal[1].hex, principal[2])).fetchone()
        if row is None:
            return None
        outputs = row[5]
        return _run_view(
            (
                uuid.UUID(row[0]),
                uuid.UUID(row[1]),
                row[2],
                None if row[3] is None else uuid.UUID(row[3]),
                json.loads(row[4]),
                None if outputs is None else json.loads(outputs),
                _dt(row[6]),
                *row[7:12],
                _dt(row[12]),
                _dt(row[13]),
            )
        )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


class RawPostgresStore:
    """(4) on PostgreSQL: a psycopg AsyncConnectionPool (10 to 30, as the engine's), autocommit, prepared."""

    def __init__(self, url: str) -> None:
        # Not a Vaultgate dependency (the spike installs it): mypy may run without it.
        from psycopg_pool import AsyncConnectionPool  # type: ignore[import-not-found, unused-ignore]

        self.pool: Any = AsyncConnectionPool(url, min_size=10, max_size=30, kwargs={"autocommit": True}, open=False)
        self.credential_sql = _CREDENTIAL_SQL.replace("?", "%s")
        self.run_sql = _RUN_SQL.replace("?", "%s")

    async def open(self) -> None:
        await self.pool.open(wait=True)

    async def credential(self, token: str) -> Principal | None:
        async with self.pool.connection() as connection:
            cursor = await connection.execute(self.credential_sql, (hash_key(token),), prepare=True)
            row = await cursor.fetchone()
        if row is None:
            return None
        return _principal(row[0], row[1], row[3], row[4], _utc(row[5]), _utc(row[6]), row[13], row[15])

    async def run(self, principal: Principal, run_id: uuid.UUID) -> Body | None:
        async with self.pool.connection() as connection:
            cursor = await connection.execute(self.run_sql, (run_id, principal[1], principal[2]), prepare=True)
            row = await cursor.fetchone()
        if row is None:
            return None
        return _run_view((*row[:6], _utc(row[6]), *row[7:12], _utc(row[12]), _utc(row[13])))

    async def close(self) -> None:
        await self.pool.close()


class RawPostgresSyncStore:
    """(4b) on PostgreSQL: the same queries through a sync psycopg ConnectionPool, for a `def` endpoint."""

    def __init__(self, url: str) -> None:
        from psycopg_pool import ConnectionPool  # type: ignore[import-not-found, unused-ignore]

        self.pool: Any = ConnectionPool(url, min_size=10, max_size=30, kwargs={"autocommit": True}, open=True)
        self.pool.wait()
        self.credential_sql = _CREDENTIAL_SQL.replace("?", "%s")
        self.run_sql = _RUN_SQL.replace("?", "%s")

    def credential(self, token: str) -> Principal | None:
        with self.pool.connection() as connection:
            row = connection.execute(self.credential_sql, (hash_key(token),), prepare=True).fetchone()
        if row is None:
            return None
        return _principal(row[0], row[1], row[3], row[4], _utc(row[5]), _utc(row[6]), row[13], row[15])

    def run(self, principal: Principal, run_id: uuid.UUID) -> Body | None:
        with self.pool.connection() as connection:
            row = connection.execute(self.run_sql, (run_id, principal[1], principal[2]), prepare=True).fetchone()
        if row is None:
            return None
        return _run_view((*row[:6], _utc(row[6]), *row[7:12], _utc(row[12]), _utc(row[13])))


class AsyncCoreStore:
    """(3b): the asyncio extension, Core on an AsyncConnection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def open(self) -> None:
        return None

    async def credential(self, token: str) -> Principal | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(_FIND_CREDENTIAL, {"key_hash": hash_key(token)})).first()
        return None if row is None else _principal_row(row)

    async def run(self, principal: Principal, run_id: uuid.UUID) -> Body | None:
        parameters = {"run_id": run_id, "organization_id": principal[1], "mode": principal[2]}
        async with self.engine.connect() as connection:
            row = (await connection.execute(_FIND_RUN, parameters)).first()
        return None if row is None else _run_view(row)

    async def close(self) -> None:
        await self.engine.dispose()


class AsyncOrmStore:
    """(3): the asyncio extension, an AsyncSession per unit of work, the same statements as (1)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def open(self) -> None:
        return None

    async def credential(self, token: str) -> Principal | None:
        async with self.sessions() as session, session.begin():
            connection = await session.connection()
            row = (await connection.execute(_FIND_CREDENTIAL, {"key_hash": hash_key(token)})).first()
        return None if row is None else _principal_row(row)

    async def run(self, principal: Principal, run_id: uuid.UUID) -> Body | None:
        tenant = Tenant(principal[1], principal[2])
        async with self.sessions() as session, session.begin():
            found = await session.scalar(tenant.select(WorkflowRun).where(WorkflowRun.id == run_id))
            return None if found is None else _orm_run_view(found)

    async def close(self) -> None:
        await self.engine.dispose()


class OnLoop:
    """A sync store called on the event loop, seen as an async one (the microbenchmark's view)."""

    def __init__(self, store: SyncStore) -> None:
        self.store = store

    async def open(self) -> None:
        return None

    async def credential(self, token: str) -> Principal | None:
        return self.store.credential(token)

    async def run(self, principal: Principal, run_id: uuid.UUID) -> Body | None:
        return self.store.run(principal, run_id)

    async def close(self) -> None:
        return None


def _is_sqlite(url: str) -> bool:
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # As storage.database does for the sync engine.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _async_engine(url: str, *, autocommit: bool = False) -> AsyncEngine:
    """The asyncio twin of storage.database.create_database_engine (aiosqlite / psycopg async)."""
    parsed: URL = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed.set(drivername="sqlite+aiosqlite"), connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if autocommit:
        return create_async_engine(
            parsed.set(drivername="postgresql+psycopg_async"),
            isolation_level="AUTOCOMMIT",
            pool_size=10,
            max_overflow=20,
        )
    return create_async_engine(
        parsed.set(drivername="postgresql+psycopg_async"), pool_pre_ping=True, pool_size=10, max_overflow=20
    )


@dataclass(frozen=True)
class Variant:
    label: str
    # "thread": a `def` endpoint; "loop": `async def` calling a sync store; "async": `async def` awaiting.
    kind: str
    # PostgreSQL only: the round trips SQLAlchemy adds there (pool_pre_ping, BEGIN/COMMIT) removed, to
    # compare sync and asyncio at the raw driver's round-trip count. SQLite has neither.
    postgresql_only: bool = False


VARIANTS = {
    "orm_thread": Variant("(1) sync ORM session, def (thread pool), today", "thread"),
    "core_thread": Variant("(1b) sync Core, def (thread pool)", "thread"),
    "core_loop": Variant("(2) sync Core, async def on the loop", "loop"),
    "async_orm": Variant("(3) asyncio ext., AsyncSession", "async"),
    "async_core": Variant("(3b) asyncio ext., Core", "async"),
    "raw": Variant("(4) raw driver", "loop"),  # "async" on PostgreSQL
    "core_thread_autocommit": Variant("(1c) sync Core, autocommit, no pre-ping, def", "thread", postgresql_only=True),
    "async_core_autocommit": Variant("(3c) asyncio Core, autocommit, no pre-ping", "async", postgresql_only=True),
    "raw_thread": Variant("(4b) raw psycopg, sync pool, def (thread pool)", "thread", postgresql_only=True),
}


def _plain_engine(url: str) -> Engine:
    """storage.database's PostgreSQL engine without pool_pre_ping, in autocommit (reads need no transaction)."""
    return create_engine(normalize_url(url), isolation_level="AUTOCOMMIT", pool_size=10, max_overflow=20)


def _variants(url: str) -> list[str]:
    return [name for name, variant in VARIANTS.items() if not (variant.postgresql_only and _is_sqlite(url))]


def _sync_store(name: str, url: str) -> SyncStore:
    if name == "orm_thread":
        return OrmStore(url)
    if name in ("core_thread", "core_loop"):
        return CoreStore(engine_for(url))
    if name == "core_thread_autocommit":
        return CoreStore(_plain_engine(url))
    if name == "raw_thread":
        return RawPostgresSyncStore(url)
    return RawSqliteStore(url)


def _async_store(name: str, url: str) -> AsyncStore:
    if name == "raw":
        return RawPostgresStore(url)
    engine = _async_engine(url, autocommit=name == "async_core_autocommit")
    return AsyncOrmStore(engine) if name == "async_orm" else AsyncCoreStore(engine)


# ---------------------------------------------------------------------------------------------- the app
def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:] if header.startswith("Bearer ") else ""


def _run_id(request: Request) -> uuid.UUID | None:
    raw = str(request.path_params["run_id"])
    try:
        return uuid.UUID(raw[4:]) if raw.startswith("run_") else None
    except ValueError:
        return None


def _whoami_sync(store: SyncStore, request: Request) -> Response:
    principal = store.credential(_token(request))
    return UNAUTHORIZED if principal is None else _reply(200, principal[0])


def _poll_sync(store: SyncStore, request: Request) -> Response:
    principal = store.credential(_token(request))
    if principal is None:
        return UNAUTHORIZED
    run_id = _run_id(request)
    body = None if run_id is None else store.run(principal, run_id)
    return NOT_FOUND if body is None else _reply(200, body)


def _kind(variant: str, url: str) -> str:
    return "async" if variant == "raw" and not _is_sqlite(url) else VARIANTS[variant].kind


def _async_app(store: AsyncStore) -> Starlette:
    async def whoami(request: Request) -> Response:
        principal = await store.credential(_token(request))
        return UNAUTHORIZED if principal is None else _reply(200, principal[0])

    async def poll(request: Request) -> Response:
        principal = await store.credential(_token(request))
        if principal is None:
            return UNAUTHORIZED
        run_id = _run_id(request)
        body = None if run_id is None else await store.run(principal, run_id)
        return NOT_FOUND if body is None else _reply(200, body)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await store.open()  # before uvicorn accepts connections: the harness's readiness probe waits for it
        yield
        await store.close()

    return Starlette(routes=[Route(WHOAMI, whoami), Route(POLL, poll)], lifespan=lifespan)


def _threaded_app(store: SyncStore) -> Starlette:
    # Plain functions: Starlette runs them in anyio's thread pool (run_in_threadpool), as connexion does.
    def whoami(request: Request) -> Response:
        return _whoami_sync(store, request)

    def poll(request: Request) -> Response:
        return _poll_sync(store, request)

    return Starlette(routes=[Route(WHOAMI, whoami), Route(POLL, poll)])


def _on_loop_app(store: SyncStore) -> Starlette:
    async def whoami(request: Request) -> Response:
        return _whoami_sync(store, request)

    async def poll(request: Request) -> Response:
        return _poll_sync(store, request)

    return Starlette(routes=[Route(WHOAMI, whoami), Route(POLL, poll)])


def create_app() -> Starlette:
    """`uvicorn --factory bench.data_access:create_app`, styled by DATA_ACCESS_VARIANT and DATA_ACCESS_URL."""
    variant, url = os.environ["DATA_ACCESS_VARIANT"], os.environ["DATA_ACCESS_URL"]
    kind = _kind(variant, url)
    if kind == "async":
        return _async_app(_async_store(variant, url))
    store = _sync_store(variant, url)
    return _threaded_app(store) if kind == "thread" else _on_loop_app(store)


# ---------------------------------------------------------------------------------------------- the run
@contextmanager
def _database(admin_url: str | None) -> Iterator[str]:
    """A fresh SQLite file, or a fresh database in the throwaway PostgreSQL cluster at `admin_url`."""
    directory = Path(tempfile.mkdtemp(prefix="vaultgate-bench-data-"))
    url = f"sqlite:///{directory / 'bench.db'}"
    if admin_url is not None:
        name = f"bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        dispose_engine(url)
        shutil.rmtree(directory, ignore_errors=True)


def _seed(url: str, rows: int = 100) -> tuple[str, str]:
    """An organization, a user, `rows` keys and `rows` pending runs of the example workflow; the last of each."""
    upgrade_to_head(url)
    source = EXAMPLE.read_text()
    document = parse(source)
    scopes = load_contract().scopes
    today = datetime.now(UTC).date()
    inputs = {"start_date": str(today - timedelta(days=7)), "end_date": str(today)}
    with session_scope(url) as session:
        organization = create_organization(session, name="Bench", tier=Tier.enterprise)
        user = create_user(
            session, organization=organization, email="bench@example.com", name="Bench", role=Role.admin, permissions=[]
        )
        tenant = Tenant(organization.id, Mode.test)
        workflow: Workflow = import_definition(session, tenant, document, source, digest(document)).workflow
        for n in range(rows):
            key = api_keys.create_key(session, user=user, mode=Mode.test, name=f"bench {n}", scopes=scopes)
            run = start_run(session, tenant, workflow, 600, NewRun(user.id, inputs, None, max_attempts=1))
        secret, run_id = key.secret, f"run_{run.id}"
    dispose_engine(url)
    return secret, run_id


Call = Callable[[], Awaitable[object]]


async def _microbench(url: str, token: str, public_run_id: str) -> list[tuple[str, float, float]]:
    """(label, median µs of the key lookup, median µs of key lookup + run read) per style, one call at a time."""
    run_id = uuid.UUID(public_run_id[4:])

    def direct(store: SyncStore) -> tuple[Call, Call]:
        async def key() -> object:
            return store.credential(token)

        async def both() -> object:
            principal = store.credential(token)
            return None if principal is None else store.run(principal, run_id)

        return key, both

    def hopped(store: SyncStore) -> tuple[Call, Call]:
        def both_sync() -> object:
            principal = store.credential(token)
            return None if principal is None else store.run(principal, run_id)

        async def key() -> object:
            return await to_thread.run_sync(store.credential, token)

        async def both() -> object:
            return await to_thread.run_sync(both_sync)

        return key, both

    def awaited(store: AsyncStore) -> tuple[Call, Call]:
        async def key() -> object:
            return await store.credential(token)

        async def both() -> object:
            principal = await store.credential(token)
            return None if principal is None else await store.run(principal, run_id)

        return key, both

    async def hop_alone() -> object:
        return await to_thread.run_sync(time.perf_counter)

    sqlite = _is_sqlite(url)
    orm, core = OrmStore(url), CoreStore(engine_for(url))
    async_stores: list[AsyncStore] = [AsyncOrmStore(_async_engine(url)), AsyncCoreStore(_async_engine(url))]
    raw: AsyncStore = OnLoop(RawSqliteStore(url)) if sqlite else RawPostgresStore(url)
    async_stores.append(raw)
    cases: dict[str, tuple[Call, Call]] = {
        "(1) ORM session (today), no hop": direct(orm),
        "(1) ORM session (today) + thread hop": hopped(orm),
        "(1b)/(2) Core, no hop": direct(core),
        "(1b) Core + thread hop": hopped(core),
        "(3) asyncio ext., AsyncSession": awaited(async_stores[0]),
        "(3b) asyncio ext., Core": awaited(async_stores[1]),
        "(4) raw driver": awaited(raw),
    }
    plain: Engine | None = None
    raw_sync: RawPostgresSyncStore | None = None
    if not sqlite:
        # How much of the gap to the raw driver is round trips: pre-ping and BEGIN/COMMIT.
        plain = _plain_engine(url)
        autocommit = AsyncCoreStore(_async_engine(url, autocommit=True))
        async_stores.append(autocommit)
        cases["(1c) Core, autocommit, no pre-ping, no hop"] = direct(CoreStore(plain))
        cases["(3c) asyncio Core, autocommit, no pre-ping"] = awaited(autocommit)
        raw_sync = RawPostgresSyncStore(url)
        cases["(4b) raw psycopg sync, no hop"] = direct(raw_sync)
        cases["(4b) raw psycopg sync + thread hop"] = hopped(raw_sync)
    cases["thread hop alone (to_thread.run_sync)"] = (hop_alone, hop_alone)
    for store in async_stores:
        await store.open()
    try:
        samples: dict[str, tuple[list[int], list[int]]] = {label: ([], []) for label in cases}
        for label, (key, both) in cases.items():
            if label.startswith("(") and (await key() is None or await both() is None):
                raise RuntimeError(f"{label}: the seeded key or run was not found")
            for _ in range(30):
                await key()
                await both()
        # Blocks of BLOCK calls, cycling through the styles, so a burst of load on the machine hits them alike.
        for _ in range(ROUNDS * CALLS // BLOCK):
            for label in cases:
                for call, into in zip(cases[label], samples[label], strict=True):
                    for _ in range(BLOCK):
                        started = time.perf_counter_ns()
                        await call()
                        into.append(time.perf_counter_ns() - started)
        return [(label, statistics.median(k) / 1000, statistics.median(b) / 1000) for label, (k, b) in samples.items()]
    finally:
        for store in async_stores:
            await store.close()
        if plain is not None:
            plain.dispose()
        if raw_sync is not None:
            raw_sync.pool.close()
        dispose_engine(url)


def _wrk(url: str, token: str) -> tuple[float, float]:
    """(requests per second, p99 in ms) after a discarded warm-up; any non-2xx answer fails the benchmark."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", "--latency", "-H", f"Authorization: Bearer {token}"]
    subprocess.run([*command, f"-d{WARMUP}", url], check=True, capture_output=True)
    output = subprocess.run([*command, f"-d{DURATION}", url], check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"benchmark saw errors:\n{output}")
    if "Socket errors" in output:
        print(f"    note: {url}: {output.split('Socket errors:')[1].splitlines()[0].strip()}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if rate is None or p99 is None:
        raise RuntimeError(output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[p99.group(2)]
    return float(rate.group(1)), float(p99.group(1)) * scale


def _http(url: str, token: str, public_run_id: str) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Per (endpoint, variant): (req/s, p99 ms) of each round; variants interleaved, order rotated per round."""
    paths = {"whoami": WHOAMI, "poll": POLL.format(run_id=public_run_id)}
    names = _variants(url)
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    reference: dict[str, Any] = {}
    for round_ in range(ROUNDS):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            env = {"DATA_ACCESS_VARIANT": name, "DATA_ACCESS_URL": url}
            with server("bench.data_access:create_app", env) as base:
                for endpoint, path in paths.items():
                    if round_ == 0:  # (1) comes first: every other style must answer exactly what it does
                        answer = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"})
                        if answer.status_code != 200 or reference.setdefault(endpoint, answer.json()) != answer.json():
                            raise RuntimeError(f"{name} {endpoint}: {answer.status_code} {answer.text}")
                    results.setdefault((endpoint, name), []).append(_wrk(base + path, token))
    return results


def _report(
    backend: str, micro: list[tuple[str, float, float]], http: dict[tuple[str, str], list[tuple[float, float]]]
) -> None:
    print(f"\n== {backend}: one call, no HTTP: median µs over {ROUNDS * CALLS} calls, one caller, idle pool ==")
    print(f"  {'style':48s} {'key lookup':>10s} {'key + run':>10s}")
    for label, key, both in micro:
        print(f"  {label:48s} {key:7.0f} µs {both:7.0f} µs")
    print(
        f"\n== {backend}: HTTP, 1 uvicorn process (uvloop, httptools), wrk -t2 -c{CONNECTIONS} -d{DURATION}, "
        f"{ROUNDS} interleaved rounds =="
    )
    print("  req/s: median of rounds; x(1): median of the rounds' ratios to (1); p99: median of rounds")
    print(
        f"  {'variant':48s} {'whoami req/s':>12s} {'x(1)':>6s} {'p99 ms':>7s}   {'poll req/s':>10s} {'x(1)':>6s} {'p99 ms':>7s}"
    )
    base = "orm_thread"
    for name in sorted({name for _endpoint, name in http}, key=list(VARIANTS).index):
        variant = VARIANTS[name]
        cells = []
        for endpoint in ("whoami", "poll"):
            rounds = http[(endpoint, name)]
            ratios = [r[0] / b[0] for r, b in zip(rounds, http[(endpoint, base)], strict=True)]
            cells.append(
                f"{statistics.median(r[0] for r in rounds):{12 if endpoint == 'whoami' else 10}.0f} "
                f"{statistics.median(ratios):5.2f}x {statistics.median(r[1] for r in rounds):7.1f}"
            )
        label = variant.label + (" (psycopg pool)" if name == "raw" and backend == "PostgreSQL" else "")
        print(f"  {label:48s} {cells[0]}   {cells[1]}")
    print("  per-round req/s (whoami | poll):")
    for name in sorted({name for _endpoint, name in http}, key=list(VARIANTS).index):
        variant = VARIANTS[name]
        runs = [" ".join(f"{r[0]:.0f}" for r in http[(endpoint, name)]) for endpoint in ("whoami", "poll")]
        print(f"    {variant.label[:4].strip():5s} {runs[0]:>24s} | {runs[1]}")


def _measure(backend: str, url: str) -> None:
    token, public_run_id = _seed(url)
    load = os.getloadavg()[0]
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # the servers' loop
        micro = runner.run(_microbench(url, token, public_run_id))
    http = _http(url, token, public_run_id)
    _report(backend, micro, http)
    print(f"  load average (1 min) before / after: {load:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


def run() -> None:
    missing = [name for name in ("aiosqlite", "psycopg_pool") if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"\ndata_access: skipped, the spike needs {', '.join(missing)}: .venv/bin/pip install aiosqlite psycopg-pool"
        )
        return
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("SQLAlchemy", "aiosqlite", "psycopg", "psycopg-pool", "starlette", "uvicorn", "uvloop")
    )
    print(f"\nData-access spike ({versions})")
    backends = os.environ.get("DATA_ACCESS_BACKENDS", "sqlite,postgresql").split(",")
    if "sqlite" in backends:
        with _database(None) as url:
            _measure("SQLite", url)
    if "postgresql" in backends:
        with postgres() as admin_url, _database(admin_url) as url:
            _measure("PostgreSQL", url)
