"""Waking idle workers the moment a job is queued, without polling the jobs table.

Three sources feed one in-process `Wakeup` per database:
- the enqueuing process itself, after its transaction commits;
- PostgreSQL `LISTEN/NOTIFY` (the enqueue sends `pg_notify` in its transaction), for every process on every machine;
- SQLite's `PRAGMA data_version`, which changes when another process commits: reading it touches only the
  shared WAL index in memory, never a table, so watching it every 50 ms is cheap.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from storage.database import normalize_url
from storage.jobs import NOTIFY_CHANNEL

logger = logging.getLogger("vaultgate.jobs")
_SQLITE_WATCH_SECONDS = 0.05


class Wakeup:
    """A counter idle workers wait on; every notify bumps it, so no wake-up is lost between checks."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.generation = 0

    def notify(self) -> None:
        with self._condition:
            self.generation += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        """Return when the generation moves past `seen`, or after `timeout` seconds."""
        with self._condition:
            self._condition.wait_for(lambda: self.generation != seen, timeout)


_wakeups: dict[str, Wakeup] = {}
_wakeups_lock = threading.Lock()


def wakeup_for(database_url: str) -> Wakeup:
    key = str(make_url(normalize_url(database_url)))
    with _wakeups_lock:
        return _wakeups.setdefault(key, Wakeup())


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("jobs_enqueued", False):
        wakeup_for(session.get_bind().engine.url.render_as_string(hide_password=False)).notify()


class ExternalSignals:
    """A daemon thread relaying other processes' commits into the local `Wakeup`."""

    def __init__(self, database_url: str, wakeup: Wakeup) -> None:
        self.url = make_url(normalize_url(database_url))
        self.wakeup = wakeup
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vaultgate-job-signals", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        # Not joined: the relay may sit up to a second in a LISTEN wait, and, a daemon, it ends on its own.
        self._stop.set()

    def _run(self) -> None:
        watch = self._watch_sqlite if self.url.get_backend_name() == "sqlite" else self._listen_postgres
        while not self._stop.is_set():
            try:
                watch()
            except Exception:  # a dropped connection must not end the relay; reconnect
                logger.warning("job signal relay lost its connection; reconnecting", exc_info=True)
                self.wakeup.notify()  # something may have been queued meanwhile
                self._stop.wait(1.0)

    def _listen_postgres(self) -> None:
        conninfo = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
            while not self._stop.is_set():
                for _ in connection.notifies(timeout=1.0, stop_after=1):
                    self.wakeup.notify()

    def _watch_sqlite(self) -> None:
        connection = sqlite3.connect(self.url.database or "", check_same_thread=False)
        try:
            last = connection.execute("PRAGMA data_version").fetchone()[0]
            while not self._stop.is_set():
                time.sleep(_SQLITE_WATCH_SECONDS)
                version = connection.execute("PRAGMA data_version").fetchone()[0]
                if version != last:
                    last = version
                    self.wakeup.notify()
        finally:
            connection.close()
