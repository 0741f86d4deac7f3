"""The `workflow_run` job: run a workflow version's steps in order, keeping each finished step's result.

A run taken over after its worker died resumes after its last finished step:
results are recorded in the same fenced transaction as the checkpoint that
ends the step, so a step's effect is kept exactly when the run moved past it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.failures import Cancelled, Failure
from jobs.runtime import JobContext, JobKind
from jobs.sandbox import LimitExceeded, run_limited
from storage import workflows
from storage.models import utcnow
from workflows import expressions
from workflows.actions import ACTIONS, Scope, check_arguments
from workflows.definition import Definition, Step

KIND = workflows.RUN_KIND
# A step's result is kept in the database and handed to later steps: bounded like an API body.
MAX_RESULT_BYTES = 1024 * 1024
EXPRESSION_TIMEOUT_SECONDS = 5.0
EXPRESSION_MEMORY_BYTES = 512 * 1024 * 1024


def _evaluate(value: Any, context: dict[str, Any], pointer: str, step_name: str | None) -> Any:
    where = f"step '{step_name}'" if step_name else "the outputs"
    try:
        return run_limited(
            expressions.evaluate_bounded,
            value,
            context,
            pointer,
            MAX_RESULT_BYTES,
            timeout=EXPRESSION_TIMEOUT_SECONDS,
            memory_bytes=EXPRESSION_MEMORY_BYTES,
        )
    except expressions.ExpressionError as exc:
        code = "expression_forbidden" if exc.forbidden else "expression_error"
        raise Failure(code, f"In {where}, the expression at {exc.pointer} {exc.message}") from None
    except LimitExceeded as exc:
        raise Failure("expression_limit", f"In {where}, evaluating the expressions was stopped: it {exc}.") from None


def _checked_size(result: dict[str, Any], step: Step) -> dict[str, Any]:
    size = len(json.dumps(result, separators=(",", ":")).encode())
    if size > MAX_RESULT_BYTES:
        raise Failure(
            "step_result_too_large",
            f"Step '{step.name}' produced {size} bytes; a step's result is limited to {MAX_RESULT_BYTES} bytes.",
        )
    return result


def _check_deadline(started_at: datetime, timeout_seconds: int, next_stage: str) -> None:
    if utcnow() - started_at > timedelta(seconds=timeout_seconds):
        raise Cancelled(
            "timeout",
            f"The run exceeded its time limit of {timeout_seconds} s and was stopped before {next_stage}.",
        )


def _run_step(context: JobContext, scope: Scope, step: Step, position: int, values: dict[str, Any]) -> dict[str, Any]:
    arguments = _evaluate(step.arguments, values, f"/steps/{position}/with", step.name)
    problems = check_arguments(step.action, arguments)
    if problems:
        raise Failure("invalid_step_arguments", f"Step '{step.name}' ({step.action}): " + "; ".join(problems))
    try:
        result = ACTIONS[step.action](scope, arguments)
    except Cancelled:
        raise
    except Failure as exc:
        # The same failure, told where it happened: the worker records it as it is.
        exc.message = f"Step '{step.name}' ({step.action}): {exc.message}"
        raise
    return _checked_size(result, step)


def _progress(finished: int, total: int) -> int:
    # 100 is for a completed run: the outputs are still to come after the last step.
    return min(99, finished * 100 // total)


def run(context: JobContext) -> None:
    run_id = uuid.UUID(context.payload["run_id"])
    with context.session() as session:
        found = workflows.find_run(session, run_id)
        if found is None:
            raise Failure("run_missing", "The run's record is gone.")
        definition = Definition.from_document(
            workflows.get_version(session, found.workflow_id, found.workflow_version).definition
        )
        done = {position: step.result for position, step in workflows.finished_steps(session, run_id).items()}
        inputs, project_id, timeout_seconds = found.inputs, found.project_id, found.timeout_seconds
        user_id = found.created_by
    scope = Scope(context.claim.tenant, project_id, context.session, context.settings, user_id)
    values: dict[str, Any] = {
        "inputs": inputs,
        "project_id": str(project_id) if project_id else None,
        "steps": {definition.steps[position].id: result for position, result in done.items()},
    }
    total = len(definition.steps)
    for position, step in enumerate(definition.steps):
        if position in done:
            continue
        _check_deadline(context.claim.started_at, timeout_seconds, f"step '{step.name}'")
        context.checkpoint(_progress(position, total), step.name)
        deferred: list[Callable[[Session], None]] = []

        def keep_alive(position: int = position, step: Step = step) -> None:
            # A step that takes long (filling a template) checks in: a cancel or the run's timeout stops it.
            _check_deadline(context.claim.started_at, timeout_seconds, f"step '{step.name}' finished")
            context.checkpoint(_progress(position, total), step.name)

        result = _run_step(
            context, replace(scope, keep_alive=keep_alive, defer=deferred.append), step, position, values
        )

        def keep(
            session: Session,
            position: int = position,
            step: Step = step,
            result: dict[str, Any] = result,
            deferred: list[Callable[[Session], None]] = deferred,
        ) -> None:
            workflows.record_step(session, run_id, position, step.id, result, context.claim.attempt)
            for write in deferred:
                write(session)

        context.checkpoint(_progress(position + 1, total), step.name, apply=keep)
        values["steps"][step.id] = result
    _check_deadline(context.claim.started_at, timeout_seconds, "its outputs")
    outputs = _evaluate(definition.outputs, values, "/outputs", None)
    context.complete(lambda session: workflows.record_outputs(session, run_id, outputs), result={"steps": total})


WORKFLOW_RUN = JobKind(KIND, run)
