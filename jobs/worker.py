"""Workers: threads that claim jobs, heartbeat their lease while running them, and record the outcome.

`vaultgate serve` runs `VAULTGATE_JOB_WORKERS` of them in each server
process; `vaultgate worker` runs them alone, on any machine that reaches the
database.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from core.failures import CANCELLED_CODE, CANCELLED_MESSAGE, Cancelled, Failure, NotFound
from core.settings import Settings
from jobs.confinement import hide_process_memory
from jobs.runtime import JobContext, JobKind, lease
from jobs.sandbox import start_fork_server
from jobs.signals import ExternalSignals, wakeup_for
from storage import jobs
from storage.database import session_scope
from storage.jobs import Claim, LeaseLost
from storage.models import JobStatus

logger = logging.getLogger("vaultgate.jobs")


def _backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(2**attempt, 60))


def job_error(failure: Failure) -> tuple[str, str]:
    """The job's `error_code` and `error_message` for a failure: the one place a failure becomes a job's."""
    if isinstance(failure, NotFound) and failure.code == "not_found":
        # A job names what it missed (`document_not_found`): its reader cannot see which lookup it was.
        return f"{failure.kind}_not_found", failure.message
    return failure.code, failure.message


class _Heartbeat:
    """Extends the lease every third of its length until stopped; sets `lost` if the lease was taken."""

    def __init__(self, settings: Settings, claim: Claim) -> None:
        self.settings = settings
        self.claim = claim
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{claim.id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        interval = self.settings.job_lease_seconds / 3
        while not self._stop.wait(interval):
            try:
                with session_scope(self.settings.database_url) as session:
                    jobs.heartbeat(session, self.claim, lease(self.settings))
            except LeaseLost:
                self.lost.set()
                return
            except SQLAlchemyError:
                # Pool exhaustion or a dropped connection: try again next beat, while the lease may still hold.
                logger.warning("heartbeat for job %s failed; retrying", self.claim.id, exc_info=True)


class WorkerPool:
    def __init__(self, settings: Settings, count: int, kinds: dict[str, JobKind]) -> None:
        self.settings = settings
        self.count = count
        self.kinds = kinds
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.wakeup = wakeup_for(settings.database_url)
        self._signals = ExternalSignals(settings.database_url, self.wakeup)
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(f"{self.name}/{n}",), name=f"vaultgate-worker-{n}", daemon=True)
            for n in range(count)
        ]
        # Idle workers look for expired leases and due retries this often.
        self.idle_seconds = min(settings.job_lease_seconds / 3, 5.0)
        self._next_sweep = 0.0

    def start(self) -> None:
        if not self._threads:
            return
        # Before any worker thread exists, so the sandbox's children never see this process's secrets
        # (neither in their own environment, nor through this process's /proc entries).
        hide_process_memory()
        start_fork_server()
        self._signals.start()
        for thread in self._threads:
            thread.start()
        logger.info("started %d job workers (%s)", self.count, self.name)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self.wakeup.notify()
        for thread in self._threads:
            thread.join(timeout)
        if self._threads:
            self._signals.stop()

    def _loop(self, owner: str) -> None:
        while not self._stopping.is_set():
            seen = self.wakeup.generation
            try:
                self._close_abandoned()
                with session_scope(self.settings.database_url) as session:
                    claim = jobs.claim(session, owner, lease(self.settings), list(self.kinds))
            except SQLAlchemyError:
                logger.warning("could not claim a job; retrying", exc_info=True)
                claim = None
                self._stopping.wait(1.0)
            if claim is not None:
                try:
                    self._run(claim)
                except Exception:
                    # E.g. the database went away while recording the outcome: the lease will expire and the
                    # job be taken over; this worker must live on to take the next one.
                    logger.exception("could not record the outcome of job %s", claim.id)
                continue
            self.wakeup.wait(seen, self.idle_seconds)

    def _close_abandoned(self) -> None:
        """Fail (or cancel) jobs whose worker vanished on their last attempt; once per idle period per pool."""
        # Not before every claim: a busy pool would add a query to every job for nothing.
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.idle_seconds
        with session_scope(self.settings.database_url) as session:
            for job in jobs.expired_beyond_retry(session):
                outcome: tuple[JobStatus, str | None, str | None]
                if job.cancel_requested_at is not None:
                    outcome = (JobStatus.cancelled, CANCELLED_CODE, CANCELLED_MESSAGE)
                else:
                    outcome = (
                        JobStatus.failed,
                        "worker_lost",
                        f"The worker running this job stopped responding on each of {job.attempts} attempts.",
                    )
                if not jobs.close_abandoned(session, job, *outcome):
                    continue
                kind = self.kinds.get(job.job_kind)
                if kind is not None and kind.on_end is not None:
                    kind.on_end(session, dict(job.payload), *outcome)

    def _end(self, claim: Claim, kind: JobKind, status: JobStatus, code: str | None, message: str | None) -> None:
        with session_scope(self.settings.database_url) as session:
            jobs.finish(session, claim, status, error_code=code, error_message=message)
            if kind.on_end is not None:
                kind.on_end(session, claim.payload, status, code, message)

    def _run(self, claim: Claim) -> None:
        kind = self.kinds[claim.kind]
        with _Heartbeat(self.settings, claim) as heartbeat:
            try:
                try:
                    kind.run(JobContext(claim, kind, self.settings, heartbeat.lost))
                except Cancelled as cancelled:
                    self._end(claim, kind, JobStatus.cancelled, cancelled.code, cancelled.message)
                except Failure as failure:
                    self._end(claim, kind, JobStatus.failed, *job_error(failure))
                except LeaseLost:
                    raise
                except Exception as exc:
                    logger.exception("job %s (%s) attempt %d crashed", claim.id, claim.kind, claim.attempt)
                    if claim.attempt < claim.max_attempts:
                        with session_scope(self.settings.database_url) as session:
                            jobs.retry_later(session, claim, _backoff(claim.attempt), f"attempt {claim.attempt}: {exc}")
                    else:
                        message = f"The job failed on each of {claim.attempt} attempts."
                        self._end(claim, kind, JobStatus.failed, "internal_error", message)
            except LeaseLost:
                logger.warning("job %s was taken over or cancelled; leaving it", claim.id)
