"""What a job sees while it runs, and how a job kind plugs into the worker."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.failures import Cancelled
from core.settings import Settings
from storage import jobs
from storage.database import session_scope
from storage.jobs import Claim, LeaseLost
from storage.models import JobStatus

# Hooks run in the same transaction as the job's own state change, so the two never disagree.
EndHook = Callable[[Session, dict[str, Any], JobStatus, str | None, str | None], None]
ProgressHook = Callable[[Session, dict[str, Any], int, str], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Callable[[JobContext], None]
    # A job's failure or cancellation, from the worker or from the reaper after a crash.
    on_end: EndHook | None = None
    on_progress: ProgressHook | None = None


class JobContext:
    """The running job's handle: its claim, checkpoints, and the one way to complete it."""

    def __init__(self, claim: Claim, kind: JobKind, settings: Settings, lease_lost: threading.Event) -> None:
        self.claim = claim
        self.kind = kind
        self.settings = settings
        self._lease_lost = lease_lost

    @property
    def payload(self) -> dict[str, Any]:
        return self.claim.payload

    def session(self) -> AbstractContextManager[Session]:
        return session_scope(self.settings.database_url)

    def checkpoint(self, progress: int, stage: str, apply: Callable[[Session], None] | None = None) -> None:
        """Record progress, and `apply` in the same transaction while the lease holds (e.g. a finished step's
        result); raise Cancelled if a cancel was requested, LeaseLost if the job was taken over."""
        if self._lease_lost.is_set():
            raise LeaseLost(f"job {self.claim.id} lost its lease")
        with self.session() as session:
            cancel = jobs.checkpoint(session, self.claim, progress, stage)
            if not cancel:
                if apply is not None:
                    apply(session)
                if self.kind.on_progress is not None:
                    self.kind.on_progress(session, self.payload, progress, stage)
        if cancel:
            raise Cancelled()

    def complete(self, apply: Callable[[Session], None], result: dict[str, Any] | None = None) -> None:
        """Mark the job completed and apply its effect in one transaction, only while the lease holds."""
        with self.session() as session:
            jobs.finish(session, self.claim, JobStatus.completed, result=result)
            apply(session)


def lease(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.job_lease_seconds)
