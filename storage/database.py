"""Engines and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    # Plain postgresql:// URLs would pick psycopg2, which is not installed.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_database_engine(url: str) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers run beside the single writer; several gateway
        # processes may share one file.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


_engines: dict[str, tuple[Engine, sessionmaker[Session]]] = {}
_engines_lock = threading.Lock()


def _engine_and_sessions(url: str) -> tuple[Engine, sessionmaker[Session]]:
    # One pool per URL per process, created on first use by whichever thread gets there first.
    with _engines_lock:
        if url not in _engines:
            engine = create_database_engine(url)
            _engines[url] = (engine, sessionmaker(bind=engine, expire_on_commit=False))
        return _engines[url]


def engine_for(url: str) -> Engine:
    return _engine_and_sessions(url)[0]


def dispose_engine(url: str) -> None:
    """Close the pool for `url` (tests use a database per test)."""
    with _engines_lock:
        entry = _engines.pop(url, None)
    if entry is not None:
        entry[0].dispose()


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A unit of work: committed if the block succeeds, rolled back if it raises."""
    session = _engine_and_sessions(url)[1]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def database_is_reachable(url: str) -> bool:
    try:
        with engine_for(url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any driver failure means "unreachable" to a health probe
        return False
    return True
