"""workflows: list and read imported workflows; start, watch, list and cancel their runs."""

from __future__ import annotations

import builtins
import uuid
from typing import Any

from gateway.auth import current_principal, current_settings, database_session, may_read_vault_content, require_scopes
from gateway.contract import load_contract
from gateway.cursors import pager_for
from storage import workflows
from storage.models import TERMINAL_STATUSES, UNSUCCESSFUL_STATUSES, JobStatus, Workflow, WorkflowRun
from workflows.actions import check_steps_admitted, required_scopes
from workflows.definition import Definition
from workflows.ids import parse_run_id, parse_workflow_id, run_public_id, workflow_public_id
from workflows.runs import check_run_request, current_definition


def _workflow_view(workflow: Workflow) -> dict[str, Any]:
    return {
        "id": workflow_public_id(workflow.id),
        "name": workflow.name,
        "description": workflow.description,
        "enabled": workflow.enabled,
        "trigger_type": workflow.trigger_type,
        "created_at": workflow.created_at,
        "updated_at": workflow.updated_at,
    }


def _detail_view(workflow: Workflow, definition: Definition) -> dict[str, Any]:
    return {
        **_workflow_view(workflow),
        "version": workflow.version,
        "requires_project": definition.requires_project,
        "timeout_seconds": definition.timeout_seconds,
        "inputs": [vars(spec) for spec in definition.inputs],
        "steps": [{"id": step.id, "name": step.name, "action": step.action} for step in definition.steps],
        "required_scopes": _run_scopes(definition),
    }


def _run_scopes(definition: Definition) -> builtins.list[str]:
    """Every scope a key needs to run the workflow: `workflows.run`'s own and its steps' actions'."""
    own = load_contract().operation("workflows.run").scope
    return sorted(required_scopes(definition) | ({own} if own else set()))


def _run_view(run: WorkflowRun) -> dict[str, Any]:
    job = run.job
    finished = job.status in TERMINAL_STATUSES
    failed = job.status in UNSUCCESSFUL_STATUSES
    return {
        "run_id": run_public_id(run.id),
        "workflow_id": workflow_public_id(run.workflow_id),
        "workflow_version": run.workflow_version,
        "project_id": run.project_id,
        "status": job.status.value,
        "progress": job.progress,
        "stage": job.stage,
        "inputs": run.inputs,
        # Outputs are vault content (summaries, extracted fields, hits): only for a key that may read the vault.
        "outputs": run.outputs
        if job.status is JobStatus.completed and may_read_vault_content(current_principal())
        else None,
        # A retry's note on the failed attempt is for operators; callers see errors once the run ends.
        "error_code": job.error_code if failed else None,
        "error_message": job.error_message if failed else None,
        "started_at": job.started_at,
        "completed_at": job.finished_at if finished else None,
        "created_at": run.created_at,
    }


def list(*, limit: int, cursor: str | None = None) -> dict[str, Any]:
    """List workflows, newest first."""
    pager = pager_for("workflows.list")
    with database_session() as session:
        page = workflows.list_workflows(session, pager.tenant, limit, pager.position(cursor))
        return pager.envelope(page, _workflow_view)


def get(*, workflow_id: str) -> dict[str, Any]:
    """One workflow's current version, with its declared inputs and steps."""
    with database_session() as session:
        return _detail_view(*current_definition(session, current_principal().tenant, parse_workflow_id(workflow_id)))


def run(*, workflow_id: str, body: dict[str, Any] | None = None) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Start a run of the workflow's current version; 202 with the pending run."""
    principal = current_principal()
    body = body or {}
    project_id = uuid.UUID(body["project_id"]) if body.get("project_id") else None
    with database_session() as session:
        workflow, definition = current_definition(session, principal.tenant, parse_workflow_id(workflow_id))
        require_scopes(principal, _run_scopes(definition), "Running this workflow requires, for its steps,")
        check_steps_admitted(definition, principal.allowed_operations)
        values = check_run_request(session, principal.tenant, definition, body.get("inputs") or {}, project_id)
        started = workflows.start_run(
            session,
            principal.tenant,
            workflow,
            definition.timeout_seconds,
            workflows.NewRun(
                user_id=principal.user_id,
                inputs=values,
                project_id=project_id,
                max_attempts=current_settings().job_max_attempts,
            ),
        )
        public_id = run_public_id(started.id)
        location = load_contract().url_for("workflows.get_run_status", run_id=public_id)
        view = {"run_id": public_id, "workflow_id": workflow_id, "status": "pending", "started_at": None}
        return view, 202, {"Location": location}


def get_run_status(*, run_id: str) -> dict[str, Any]:
    """A run's state, progress, stage, outputs and error."""
    with database_session() as session:
        return _run_view(current_principal().tenant.get(session, WorkflowRun, parse_run_id(run_id)))


def list_runs(
    *, limit: int, cursor: str | None = None, workflow_id: str | None = None, status: str | None = None
) -> dict[str, Any]:
    """List runs, newest first, filtered."""
    filters = workflows.RunFilters(
        workflow_id=parse_workflow_id(workflow_id) if workflow_id else None,
        status=JobStatus(status) if status else None,
    )
    pager = pager_for("workflows.list_runs", vars(filters))
    with database_session() as session:
        page = workflows.list_runs(session, pager.tenant, filters, limit, pager.position(cursor))
        return pager.envelope(page, _run_view)


def cancel_run(*, run_id: str) -> dict[str, Any]:
    """Cancel a pending run now, a running one before its next step."""
    with database_session() as session:
        found = current_principal().tenant.get(session, WorkflowRun, parse_run_id(run_id))
        workflows.cancel_run(session, found)
        return _run_view(found)
