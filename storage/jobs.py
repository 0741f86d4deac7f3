"""The jobs table: enqueue, claim with a lease, heartbeat, finish. Every worker write is fenced by its lease.

A job moves `pending → running → completed | failed | cancelled`. A running
job belongs to the worker named in `lease_owner` until `lease_expires_at`;
a worker that stops heartbeating (crash, SIGKILL, lost machine) loses it,
and the next worker to look takes it over — or, after the last attempt,
fails it with `worker_lost`. Writes by a worker that lost its lease change
nothing (`LeaseLost`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, case, func, or_, select, text, update
from sqlalchemy.orm import Session

from core.failures import CANCELLED_CODE, CANCELLED_MESSAGE, Conflict
from storage.models import TERMINAL_STATUSES, Job, JobStatus, utcnow
from storage.tenancy import ProjectScope, Tenant

NOTIFY_CHANNEL = "vaultgate_jobs"
# The payload key that keeps the project restriction of the tenant that queued a job: its worker acts within it.
PROJECT_SCOPE_KEY = "project_scope"
# And its restrictions' digest: what the job reads and produces is visible under those restrictions only.
RESTRICTION_KEY = "restriction"


class LeaseLost(Exception):
    """This worker no longer holds the job (it expired and was taken over, or the job was cancelled)."""


@dataclass(frozen=True)
class Claim:
    """A job leased to one worker."""

    id: uuid.UUID
    kind: str
    # Whose job it is, restricted as its starter was (a managed MCP server's projects and restrictions digest).
    tenant: Tenant
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    owner: str
    # When the job first started running (earlier than this claim if it was taken over).
    started_at: datetime


def enqueue(session: Session, tenant: Tenant, kind: str, payload: dict[str, Any], max_attempts: int) -> Job:
    """Add a pending job, for `tenant` as it is (restricted, it stays so when the job runs); workers are woken
    when the session commits."""
    if tenant.projects is not None:
        payload = {**payload, PROJECT_SCOPE_KEY: tenant.projects.as_data()}
    if tenant.restriction is not None:
        payload = {**payload, RESTRICTION_KEY: tenant.restriction}
    job = Job(
        organization_id=tenant.organization_id,
        mode=tenant.mode,
        job_kind=kind,
        payload=payload,
        status=JobStatus.pending,
        max_attempts=max_attempts,
        stage="Queued",
    )
    session.add(job)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Delivered to LISTENing workers on every machine when (and only if) the transaction commits.
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
    session.info["jobs_enqueued"] = True
    return job


def _claimable(now: datetime) -> Any:
    return or_(
        and_(Job.status == JobStatus.pending, Job.run_after <= now),
        and_(Job.status == JobStatus.running, Job.lease_expires_at < now, Job.attempts < Job.max_attempts),
    )


def claim(session: Session, owner: str, lease: timedelta, kinds: list[str]) -> Claim | None:
    """Lease the oldest claimable job to `owner`, in one statement.

    On PostgreSQL the subquery skips rows other workers hold (SKIP LOCKED); on
    SQLite the statement takes the write lock first, so two processes cannot
    both win, and no read snapshot can go stale in between.
    """
    now = utcnow()
    oldest = (
        select(Job.id)
        .where(_claimable(now), Job.job_kind.in_(kinds))
        .order_by(Job.run_after, Job.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed: Any = session.execute(
        update(Job)
        .where(Job.id == oldest)
        .values(
            status=JobStatus.running,
            attempts=Job.attempts + 1,
            lease_owner=owner,
            lease_expires_at=now + lease,
            # The first start: a job taken over after a crash did not start again.
            started_at=func.coalesce(Job.started_at, now),
        )
        .returning(
            Job.id,
            Job.job_kind,
            Job.organization_id,
            Job.mode,
            Job.payload,
            Job.attempts,
            Job.max_attempts,
            Job.started_at,
        )
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        return None
    job_id, kind, organization_id, mode, stored, attempts, max_attempts, started_at = claimed
    payload = dict(stored)
    scope = payload.pop(PROJECT_SCOPE_KEY, None)
    restriction = payload.pop(RESTRICTION_KEY, None)
    tenant = Tenant(organization_id, mode, ProjectScope.from_data(scope) if scope is not None else None, restriction)
    return Claim(job_id, kind, tenant, payload, attempts, max_attempts, owner, started_at)


def expired_beyond_retry(session: Session) -> list[Job]:
    """Running jobs whose lease expired on their last attempt (or after a cancel request), locked for the caller."""
    now = utcnow()
    statement = (
        select(Job)
        .where(
            Job.status == JobStatus.running,
            Job.lease_expires_at < now,
            or_(Job.attempts >= Job.max_attempts, Job.cancel_requested_at.is_not(None)),
        )
        .limit(50)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(statement))


def _update_if(session: Session, conditions: list[Any], values: dict[str, Any]) -> Row[datetime | None] | None:
    """One conditional UPDATE of a job: the job's `cancel_requested_at` if a row matched, None if none did."""
    return session.execute(
        update(Job)
        .where(*conditions)
        .values(**values)
        .returning(Job.cancel_requested_at)
        .execution_options(synchronize_session=False)
    ).first()


def _fenced(session: Session, claim: Claim, **values: Any) -> datetime | None:
    """Update the job only while `claim` still holds its lease; answers when a cancel was requested, if one was."""
    lease_held = [Job.id == claim.id, Job.lease_owner == claim.owner, Job.status == JobStatus.running]
    updated = _update_if(session, lease_held, values)
    if updated is None:
        raise LeaseLost(f"job {claim.id} is no longer leased to {claim.owner}")
    return updated[0]


def heartbeat(session: Session, claim: Claim, lease: timedelta) -> None:
    _fenced(session, claim, lease_expires_at=utcnow() + lease)


def checkpoint(session: Session, claim: Claim, progress: int, stage: str) -> bool:
    """Record progress (never lower than before), unless a cancel has been requested (answered True: the job
    stops where it was)."""
    not_cancelled = Job.cancel_requested_at.is_(None)
    # Never backwards: an attempt that takes a job over starts its stages again from the first.
    forward = case((Job.progress > progress, Job.progress), else_=progress)
    cancelled_at = _fenced(
        session,
        claim,
        progress=case((not_cancelled, forward), else_=Job.progress),
        stage=case((not_cancelled, stage), else_=Job.stage),
    )
    return cancelled_at is not None


def finish(
    session: Session,
    claim: Claim,
    status: JobStatus,
    *,
    result: dict[str, Any] | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "lease_owner": None, "lease_expires_at": None}
    if status is JobStatus.completed:
        values.update(progress=100, stage="done", result=result)
    if error_code is not None:
        values.update(error_code=error_code, error_message=(error_message or "")[:1000])
    _fenced(session, claim, **values)


def retry_later(session: Session, claim: Claim, delay: timedelta, error_message: str) -> None:
    """Give the job back for another attempt after `delay`."""
    _fenced(
        session,
        claim,
        status=JobStatus.pending,
        run_after=utcnow() + delay,
        lease_owner=None,
        lease_expires_at=None,
        stage="Waiting to retry",
        error_message=error_message[:1000],
    )


def close_abandoned(
    session: Session, job: Job, status: JobStatus, error_code: str | None, error_message: str | None
) -> bool:
    """Finish a job from `expired_beyond_retry` whose worker is gone; False if that worker finished it meanwhile.

    Conditional on what was read, so on SQLite (where the read took no row lock) a worker that completed
    the job in between is never overwritten.
    """
    now = utcnow()
    still_abandoned = [
        Job.id == job.id,
        Job.status == JobStatus.running,
        Job.lease_owner == job.lease_owner,
        Job.lease_expires_at < now,
    ]
    values = {
        "status": status,
        "error_code": error_code,
        "error_message": error_message,
        "finished_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
    }
    return _update_if(session, still_abandoned, values) is not None


def request_cancel(session: Session, job: Job) -> None:
    """A pending job is cancelled at once; a running one at its worker's next checkpoint."""
    if job.status is JobStatus.pending:
        job.status = JobStatus.cancelled
        job.finished_at = utcnow()
        job.stage = "Cancelled"
        job.error_code = CANCELLED_CODE
        job.error_message = CANCELLED_MESSAGE
    elif job.status is JobStatus.running and job.cancel_requested_at is None:
        job.cancel_requested_at = utcnow()


def cancel(session: Session, job: Job, noun: str) -> None:
    """`request_cancel` on the job behind a run or fill (`noun`); Conflict once it has finished."""
    if job.status in TERMINAL_STATUSES:
        raise Conflict(f"The {noun} is already {job.status.value}; only a pending or running {noun} can be cancelled.")
    request_cancel(session, job)
    session.flush()
