"""Public ids of workflows (`wf_<uuid>`) and runs (`run_<uuid>`), as the product docs spell them."""

from __future__ import annotations

import uuid

from storage.models import Workflow, WorkflowRun


def workflow_public_id(workflow_id: uuid.UUID) -> str:
    return f"{Workflow.id_prefix}{workflow_id}"


def run_public_id(run_id: uuid.UUID) -> str:
    return f"{WorkflowRun.id_prefix}{run_id}"


def _parse(prefix: str, text: str) -> uuid.UUID:
    if not text.startswith(prefix):
        raise ValueError(f"{text!r} does not start with {prefix!r}")
    return uuid.UUID(text.removeprefix(prefix))


def parse_workflow_id(text: str) -> uuid.UUID:
    """The uuid inside a `wf_…` id; ValueError if it is not one."""
    return _parse(Workflow.id_prefix, text)


def parse_run_id(text: str) -> uuid.UUID:
    """The uuid inside a `run_…` id; ValueError if it is not one."""
    return _parse(WorkflowRun.id_prefix, text)
