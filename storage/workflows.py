"""Workflows, their versions, their runs and each run's finished steps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.failures import Conflict
from storage import jobs
from storage.models import Job, JobStatus, Workflow, WorkflowRun, WorkflowRunStep, WorkflowVersion, utcnow
from storage.pagination import Page, Position, fetch_page
from storage.tenancy import Tenant

RUN_KIND = "workflow_run"


@dataclass(frozen=True)
class Imported:
    workflow: Workflow
    # False when the definition was identical to the latest version's: nothing was written.
    changed: bool


@dataclass(frozen=True)
class NewRun:
    user_id: uuid.UUID
    inputs: dict[str, Any]
    project_id: uuid.UUID | None
    max_attempts: int


@dataclass(frozen=True)
class RunFilters:
    workflow_id: uuid.UUID | None = None
    status: JobStatus | None = None


def import_definition(session: Session, tenant: Tenant, document: dict[str, Any], source: str, digest: str) -> Imported:
    """Create the workflow named in `document`, or give the existing one a new version if what it does changed."""
    workflow = find_by_name(session, tenant, document["name"])
    if workflow is not None:
        latest = session.get(WorkflowVersion, (workflow.id, workflow.version))
        if latest is not None and latest.digest == digest:
            return Imported(workflow, changed=False)
    else:
        workflow = Workflow(organization_id=tenant.organization_id, mode=tenant.mode, name=document["name"], version=0)
        session.add(workflow)
    workflow.version += 1
    workflow.description = document.get("description")
    workflow.enabled = document.get("enabled", True)
    workflow.trigger_type = document.get("trigger_type", "manual")
    workflow.updated_at = utcnow()
    session.flush()
    session.add(
        WorkflowVersion(
            workflow_id=workflow.id, version=workflow.version, definition=document, source=source, digest=digest
        )
    )
    session.flush()
    return Imported(workflow, changed=True)


def find_by_name(session: Session, tenant: Tenant, name: str) -> Workflow | None:
    return session.scalar(tenant.select(Workflow).where(Workflow.name == name))


def list_workflows(session: Session, tenant: Tenant, limit: int, after: Position | None) -> Page[Workflow]:
    return fetch_page(session, tenant.select(Workflow), Workflow, limit, after)


def get_version(session: Session, workflow_id: uuid.UUID, version: int) -> WorkflowVersion:
    return session.get_one(WorkflowVersion, (workflow_id, version))


def start_run(session: Session, tenant: Tenant, workflow: Workflow, timeout_seconds: int, new: NewRun) -> WorkflowRun:
    """Record a run of the workflow's current version and queue it; an enabled workflow only.

    The run records the tenant's restriction: its outputs are vault content as the tenant could read it.
    """
    if not workflow.enabled:
        raise Conflict(f"The workflow {workflow.name!r} is disabled; enable it and import it again to run it.")
    tenant.check_new_object_project(session, new.project_id)
    run_id = uuid.uuid4()
    job = jobs.enqueue(session, tenant, RUN_KIND, {"run_id": str(run_id)}, new.max_attempts)
    run = WorkflowRun(
        id=run_id,
        organization_id=tenant.organization_id,
        mode=tenant.mode,
        workflow_id=workflow.id,
        workflow_version=workflow.version,
        project_id=new.project_id,
        created_by=new.user_id,
        inputs=new.inputs,
        timeout_seconds=timeout_seconds,
        job_id=job.id,
        restriction=tenant.work_restriction,
        job=job,
    )
    session.add(run)
    session.flush()
    return run


def list_runs(
    session: Session, tenant: Tenant, filters: RunFilters, limit: int, after: Position | None
) -> Page[WorkflowRun]:
    statement = tenant.select(WorkflowRun)
    if filters.workflow_id is not None:
        statement = statement.where(WorkflowRun.workflow_id == filters.workflow_id)
    if filters.status is not None:
        statement = statement.join(Job, Job.id == WorkflowRun.job_id).where(Job.status == filters.status)
    return fetch_page(session, statement, WorkflowRun, limit, after)


def cancel_run(session: Session, run: WorkflowRun) -> None:
    """Cancel at once if pending; a running run stops at its next step boundary."""
    jobs.cancel(session, run.job, "run")


def find_run(session: Session, run_id: uuid.UUID) -> WorkflowRun | None:
    """A run by id alone: for its job, which runs on behalf of the tenant recorded in it."""
    return session.get(WorkflowRun, run_id)


def finished_steps(session: Session, run_id: uuid.UUID) -> dict[int, WorkflowRunStep]:
    statement = select(WorkflowRunStep).where(WorkflowRunStep.run_id == run_id)
    return {step.position: step for step in session.scalars(statement)}


def record_step(
    session: Session, run_id: uuid.UUID, position: int, step_id: str, result: dict[str, Any], attempt: int
) -> None:
    session.add(WorkflowRunStep(run_id=run_id, position=position, step_id=step_id, result=result, attempt=attempt))


def record_outputs(session: Session, run_id: uuid.UUID, outputs: dict[str, Any]) -> None:
    run = session.get(WorkflowRun, run_id)
    if run is not None:
        run.outputs = outputs
