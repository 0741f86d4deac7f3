"""Starting a run: the workflow's current definition, and a run request checked against it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from core.failures import FieldError, Invalid
from storage import documents, workflows
from storage.models import Workflow
from storage.tenancy import PROJECT_REQUIRED, Tenant
from workflows.definition import Definition
from workflows.inputs import resolve


def current_definition(session: Session, tenant: Tenant, workflow_id: uuid.UUID) -> tuple[Workflow, Definition]:
    """The tenant's workflow and the definition of its current version."""
    workflow = tenant.get(session, Workflow, workflow_id)
    version = workflows.get_version(session, workflow.id, workflow.version)
    return workflow, Definition.from_document(version.definition)


def check_run_request(
    session: Session, tenant: Tenant, definition: Definition, inputs: dict[str, Any], project_id: uuid.UUID | None
) -> dict[str, Any]:
    """The run's input values (defaults filled in); Invalid naming every way the request breaks the definition.

    A request that fits must name a project if the workflow requires one (or the tenant, restricted to a
    list of projects, does), and only documents the tenant can see (NotFound for the first it cannot).
    """
    values, errors = resolve(definition.inputs, inputs)
    if definition.requires_project and project_id is None:
        errors.append(FieldError("is required: this workflow works in a project", pointer="/project_id"))
    elif tenant.requires_project and project_id is None:
        errors.append(FieldError(PROJECT_REQUIRED, pointer="/project_id"))
    if errors:
        fields = ", ".join(error.pointer or "" for error in errors)
        raise Invalid(f"The run request has {len(errors)} invalid field(s): {fields}.", tuple(errors))
    named = [
        uuid.UUID(value)
        for spec in definition.inputs
        if spec.type == "document_ids"
        for value in values.get(spec.name) or []
    ]
    if named:
        documents.require_visible(session, tenant, named)
    return values
