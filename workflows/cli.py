"""`vaultgate workflows …`: the operator's import, export and list, straight against the database."""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from core.failures import Invalid
from core.settings import get_settings
from storage import workflows as stored
from storage.database import session_scope
from storage.models import Mode, Workflow, WorkflowVersion
from storage.tenancy import Tenant
from workflows.definition import digest, parse
from workflows.ids import parse_workflow_id, workflow_public_id


def _database_url() -> str:
    return get_settings().database_url


def import_file(database_url: str, tenant: Tenant, path: Path) -> stored.Imported:
    """Validate and import one definition file; Invalid lists every problem."""
    source = path.read_text(encoding="utf-8")
    document = parse(source)
    with session_scope(database_url) as session:
        return stored.import_definition(session, tenant, document, source, digest(document))


@click.group("workflows")
def workflows_group() -> None:
    """Workflow definitions (YAML): import, export, list."""


_mode_option = click.option(
    "--mode", type=click.Choice([m.value for m in Mode]), default=Mode.test.value, show_default=True
)


@workflows_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "organization_id", type=click.UUID, required=True, help="Organization id.")
@_mode_option
def import_command(file: Path, organization_id: uuid.UUID, mode: str) -> None:
    """Import a workflow definition; a changed definition of an existing name becomes its next version."""
    try:
        imported = import_file(_database_url(), Tenant(organization_id, Mode(mode)), file)
    except Invalid as exc:
        for problem in exc.errors:
            where = f"{file}:{problem.line}:{problem.column}" if problem.line else str(file)
            click.echo(f"{where}: {problem.pointer or '/'}: {problem.detail}", err=True)
        raise click.ClickException(f"{file} was not imported: {len(exc.errors)} problem(s)") from None
    workflow = imported.workflow
    state = "imported" if imported.changed else "unchanged"
    click.echo(f"{state}: {workflow.name!r} {workflow_public_id(workflow.id)} version {workflow.version}")


@workflows_group.command("export")
@click.argument("workflow_id")
@click.option("--version", type=click.IntRange(1), default=None, help="Default: the current version.")
def export_command(workflow_id: str, version: int | None) -> None:
    """Print a workflow's definition, as it was imported."""
    try:
        key = parse_workflow_id(workflow_id)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="WORKFLOW_ID") from None
    with session_scope(_database_url()) as session:
        workflow = session.get(Workflow, key)
        if workflow is None:
            raise click.ClickException(f"no workflow {workflow_id}")
        found = session.get(WorkflowVersion, (workflow.id, version or workflow.version))
        if found is None:
            raise click.ClickException(f"{workflow_id} has versions 1 to {workflow.version}")
        click.echo(found.source, nl=False)


@workflows_group.command("list")
@click.option("--org", "organization_id", type=click.UUID, required=True, help="Organization id.")
@_mode_option
def list_command(organization_id: uuid.UUID, mode: str) -> None:
    """List an organization's workflows (id, version, enabled, name)."""
    tenant = Tenant(organization_id, Mode(mode))
    with session_scope(_database_url()) as session:
        for workflow in session.scalars(tenant.select(Workflow).order_by(Workflow.name)):
            state = "enabled" if workflow.enabled else "disabled"
            click.echo(f"{workflow_public_id(workflow.id)}  v{workflow.version}  {state:8}  {workflow.name}")
