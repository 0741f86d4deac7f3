"""Work derived from the vault (runs, fills, filled documents) is seen only under the restrictions it was made under.

A managed MCP server's tenant carries its restrictions' digest. A run or fill
reads the vault as its starter could, so its results are vault content of that
reach: a tenant with other restrictions (or restricted where the starter was
not) must not see them, whatever project they sit in. Uploads are original
content and stay governed by their project alone. A server whose capabilities
leave an operation out cannot reach it through a workflow step either.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from alembic import command
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from core.failures import NotFound
from core.settings import Settings
from fills.intake import TemplateUpload, accept_template
from gateway.contract import load_contract
from gateway.job_kinds import JOB_KINDS
from jobs.worker import WorkerPool
from storage import documents, jobs, projects, template_fills, workflows
from storage.blobs import blob_store_for, new_blob_key
from storage.database import dispose_engine, session_scope
from storage.migrate import alembic_config
from storage.models import TERMINAL_STATUSES, Document, Job, JobStatus, Mode, TemplateFill, Workflow, WorkflowRun
from storage.pagination import Page
from storage.search import search
from storage.tenancy import UNRESTRICTED, ListMode, ProjectScope, Tenant
from tests import samples
from tests.conftest import Caller, Tenants, wait_for
from vault.uploads import accept_upload
from workflows.definition import digest, parse
from workflows.ids import workflow_public_id

# Two managed servers' restrictions digests (32 hex digits, as `Restrictions.digest` makes them).
DIGEST = "d" * 32
OTHER_DIGEST = "e" * 32
SEARCH = "name: Scan\nsteps: [{id: found, name: Searching, action: search, with: {query: anchors}}]\n"
FILL_STEP = """
name: Review
inputs: {template: {type: string, required: true}}
steps:
  - {id: review, name: Filling the review, action: fill_template, with: {template: "{{ inputs.template }}"}}
outputs: {document_id: "{{ steps.review.document_id }}"}
"""


@dataclass(frozen=True)
class Vault:
    """One organization's vault: its unrestricted tenant, and two servers' tenants blocking one project.

    The servers differ only in their digests: their projects admit the same rows.
    """

    settings: Settings
    user_id: uuid.UUID
    everything: Tenant
    restricted: Tenant
    other: Tenant
    admitted_project: uuid.UUID
    blocked_project: uuid.UUID


@pytest.fixture
def vault(settings: Settings, tenants: Tenants) -> Vault:
    caller = tenants.caller()
    everything = Tenant(caller.organization_id, Mode.test)
    with session_scope(settings.database_url) as session:
        admitted = projects.create_project(session, everything, "Tower", None).id
        blocked = projects.create_project(session, everything, "Annex", None).id
    scope = ProjectScope(ListMode.blocklist, frozenset({blocked}))
    restricted = Tenant(caller.organization_id, Mode.test, scope, DIGEST)
    other = Tenant(caller.organization_id, Mode.test, scope, OTHER_DIGEST)
    return Vault(settings, caller.user_id, everything, restricted, other, admitted, blocked)


def import_workflow(vault: Vault, source: str) -> uuid.UUID:
    document = parse(source)
    with session_scope(vault.settings.database_url) as session:
        return workflows.import_definition(session, vault.everything, document, source, digest(document)).workflow.id


def start_run(vault: Vault, tenant: Tenant, inputs: dict[str, Any] | None = None, source: str = SEARCH) -> uuid.UUID:
    workflow_id = import_workflow(vault, source)
    with session_scope(vault.settings.database_url) as session:
        workflow = vault.everything.get(session, Workflow, workflow_id)
        new = workflows.NewRun(vault.user_id, inputs or {}, vault.admitted_project, max_attempts=1)
        return workflows.start_run(session, tenant, workflow, 600, new).id


def start_fill(vault: Vault, tenant: Tenant) -> uuid.UUID:
    template = io.BytesIO(samples.docx(["{% for d in documents %}{{ d.title }};{% endfor %}"]))
    upload = TemplateUpload(vault.user_id, template, "t.docx", vault.admitted_project, [])
    with session_scope(vault.settings.database_url) as session:
        return accept_template(session, blob_store_for(vault.settings), tenant, upload, max_attempts=1).id


def list_runs(session: Session, tenant: Tenant) -> Page[WorkflowRun]:
    return workflows.list_runs(session, tenant, workflows.RunFilters(), 25, None)


def list_fills(session: Session, tenant: Tenant) -> Page[TemplateFill]:
    return template_fills.list_fills(session, tenant, template_fills.FillFilters(), 25, None)


@dataclass(frozen=True)
class WorkKind:
    """Runs or fills: how one is started and how they are listed."""

    model: type[WorkflowRun | TemplateFill]
    start: Callable[[Vault, Tenant], uuid.UUID]
    listed: Callable[[Session, Tenant], Page[WorkflowRun] | Page[TemplateFill]]


WORK_KINDS = [
    pytest.param(WorkKind(WorkflowRun, start_run, list_runs), id="run"),
    pytest.param(WorkKind(TemplateFill, start_fill, list_fills), id="fill"),
]


def sees(vault: Vault, tenant: Tenant, kind: WorkKind, object_id: uuid.UUID) -> bool:
    """Whether `tenant` finds the object by id, and lists it, alike (it must not do one and not the other)."""
    with session_scope(vault.settings.database_url) as session:
        listed = object_id in {row.id for row in kind.listed(session, tenant).rows}
        try:
            tenant.get(session, kind.model, object_id)
        except NotFound:
            assert not listed
            return False
        assert listed
        return True


def recorded_restriction(vault: Vault, kind: WorkKind, object_id: uuid.UUID) -> str | None:
    with session_scope(vault.settings.database_url) as session:
        return session.scalar(select(kind.model.restriction).where(kind.model.id == object_id))


# The rule, in the tenancy layer.


@pytest.mark.parametrize("kind", WORK_KINDS)
def test_work_started_unrestricted_is_hidden_from_a_restricted_tenant_even_in_an_admitted_project(
    vault: Vault, kind: WorkKind
) -> None:
    object_id = kind.start(vault, vault.everything)
    assert recorded_restriction(vault, kind, object_id) == UNRESTRICTED

    assert sees(vault, vault.everything, kind, object_id)
    assert not sees(vault, vault.restricted, kind, object_id)


@pytest.mark.parametrize("kind", WORK_KINDS)
def test_work_from_before_restrictions_were_recorded_counts_as_unrestricted(vault: Vault, kind: WorkKind) -> None:
    object_id = kind.start(vault, vault.restricted)
    with session_scope(vault.settings.database_url) as session:
        session.execute(update(kind.model).where(kind.model.id == object_id).values(restriction=None))

    assert sees(vault, vault.everything, kind, object_id)
    assert not sees(vault, vault.restricted, kind, object_id)


@pytest.mark.parametrize("kind", WORK_KINDS)
def test_work_is_seen_only_under_the_restrictions_it_was_started_under(vault: Vault, kind: WorkKind) -> None:
    object_id = kind.start(vault, vault.restricted)
    assert recorded_restriction(vault, kind, object_id) == DIGEST

    assert sees(vault, vault.restricted, kind, object_id)
    assert not sees(vault, vault.other, kind, object_id)
    # An unrestricted colleague sees everything, as before.
    assert sees(vault, vault.everything, kind, object_id)


def ready_document(vault: Vault, title: str, project: uuid.UUID | None, restriction: str | None) -> uuid.UUID:
    """A ready document mentioning anchors: an upload (`restriction` None) or what work made under one."""
    with session_scope(vault.settings.database_url) as session:
        document = documents.create_document(
            session,
            vault.everything,
            documents.NewDocument(
                project_id=project,
                created_by=vault.user_id,
                title=title,
                filename=f"{title}.txt",
                content_type="text/plain",
                size_bytes=1,
                sha256="0" * 64,
                blob_key=new_blob_key(vault.everything),
                metadata={},
                restriction=restriction,
            ),
        )
        segments = [documents.TextSegment("paragraph", 1, f"The {title} anchors are galvanized.")]
        documents.store_extraction(session, document.id, title=None, page_count=None, segments=segments)
        return document.id


def test_made_documents_follow_their_work_and_uploads_their_project(vault: Vault) -> None:
    upload = ready_document(vault, "upload", vault.admitted_project, None)
    ready_document(vault, "blocked", vault.blocked_project, None)
    unrestricted = ready_document(vault, "unrestricted", vault.admitted_project, UNRESTRICTED)
    own = ready_document(vault, "own", vault.admitted_project, DIGEST)
    ready_document(vault, "others", vault.admitted_project, OTHER_DIGEST)

    with session_scope(vault.settings.database_url) as session:
        listed = documents.list_documents(session, vault.restricted, documents.DocumentFilters(), 25, None)
        assert {document.id for document in listed.rows} == {upload, own}
        assert {hit.document_id for hit in search(session, vault.restricted, "anchors", limit=10)} == {upload, own}
        selected = documents.select_documents(session, vault.restricted, documents.Selection(), 25)
        assert {document.id for document in selected} == {upload, own}
        with pytest.raises(NotFound):
            vault.restricted.get(session, Document, unrestricted)
        assert len(search(session, vault.everything, "anchors", limit=10)) == 5


# Through the worker: what a job makes records the restriction it ran under.


def test_a_jobs_payload_keeps_the_restriction_digest_and_its_claim_restores_it(vault: Vault) -> None:
    with session_scope(vault.settings.database_url) as session:
        job_id = jobs.enqueue(session, vault.restricted, "probe", {"label": "restricted"}, 1).id
    with session_scope(vault.settings.database_url) as session:
        assert session.get_one(Job, job_id).payload["restriction"] == DIGEST
        claim = jobs.claim(session, "test", timedelta(seconds=30), ["probe"])
    assert claim is not None
    assert (claim.tenant, claim.payload) == (vault.restricted, {"label": "restricted"})


def run_jobs_until_done(settings: Settings, *job_ids: uuid.UUID) -> None:
    """Every queued job run by a worker pool as the gateway's, until those of `job_ids` have completed."""
    pool = WorkerPool(settings, 2, JOB_KINDS)
    pool.start()
    try:

        def ended() -> list[Job] | None:
            with session_scope(settings.database_url) as session:
                found = [session.get_one(Job, job_id) for job_id in job_ids]
                return found if all(job.status in TERMINAL_STATUSES for job in found) else None

        for job in wait_for(ended, timeout=60, interval=0.1):
            assert job.status is JobStatus.completed, (job.error_code, job.error_message)
    finally:
        pool.stop()


def filled_document(vault: Vault, fill_id: uuid.UUID) -> Document:
    with session_scope(vault.settings.database_url) as session:
        filled_id = session.get_one(TemplateFill, fill_id).filled_document_id
        assert filled_id is not None
        return vault.everything.get(session, Document, filled_id)


def test_a_fills_document_is_seen_only_under_the_restrictions_of_whoever_started_the_fill(vault: Vault) -> None:
    upload = ready_document(vault, "upload", vault.admitted_project, None)
    by_colleague = start_fill(vault, vault.everything)
    by_server = start_fill(vault, vault.restricted)

    run_jobs_until_done(vault.settings, by_colleague, by_server)

    colleagues, servers = filled_document(vault, by_colleague), filled_document(vault, by_server)
    assert (colleagues.restriction, servers.restriction) == (UNRESTRICTED, DIGEST)
    with session_scope(vault.settings.database_url) as session:
        assert vault.restricted.get(session, Document, servers.id).project_id == vault.admitted_project
        for hidden, tenant in ((colleagues, vault.restricted), (servers, vault.other)):
            with pytest.raises(NotFound):
                tenant.get(session, Document, hidden.id)
        # The upload, in a project the server's restrictions admit, stays visible to it and to the other server.
        assert vault.restricted.get(session, Document, upload).id == vault.other.get(session, Document, upload).id


def test_a_restricted_runs_fill_template_step_makes_a_document_of_its_restriction(vault: Vault) -> None:
    with session_scope(vault.settings.database_url) as session:
        template = accept_upload(
            session,
            blob_store_for(vault.settings),
            vault.everything,
            user_id=vault.user_id,
            source=io.BytesIO(samples.docx(["{{ documents | length }} documents"])),
            filename="review.docx",
            project_id=vault.admitted_project,
            metadata={},
            max_attempts=1,
        ).id
    run_id = start_run(vault, vault.restricted, {"template": str(template)}, FILL_STEP)
    with session_scope(vault.settings.database_url) as session:
        run = session.get_one(WorkflowRun, run_id)
        assert run.restriction == DIGEST
        job_id = run.job_id

    run_jobs_until_done(vault.settings, job_id)

    with session_scope(vault.settings.database_url) as session:
        outputs = vault.restricted.get(session, WorkflowRun, run_id).outputs
        assert outputs is not None
        made = vault.restricted.get(session, Document, uuid.UUID(outputs["document_id"]))
        assert (made.restriction, made.project_id) == (DIGEST, vault.admitted_project)
        with pytest.raises(NotFound):
            vault.other.get(session, Document, made.id)
        # Its ingestion, queued by the run's worker, runs under the same restriction.
        assert session.get_one(Job, made.job_id).payload["restriction"] == DIGEST


# The migration: documents earlier fills made count as made unrestricted, not as uploads.


def test_the_migration_marks_documents_earlier_fills_made_as_unrestricted(vault: Vault) -> None:
    upload = ready_document(vault, "upload", vault.admitted_project, None)
    by_fill_job = ready_document(vault, "filled", vault.admitted_project, None)
    by_step = ready_document(vault, "stepped", vault.admitted_project, None)
    fill_id = start_fill(vault, vault.everything)
    with session_scope(vault.settings.database_url) as session:
        session.get_one(TemplateFill, fill_id).filled_document_id = by_fill_job
        session.get_one(Document, by_step).user_metadata = {"template_document_id": str(upload)}
    dispose_engine(vault.settings.database_url)
    config = alembic_config(vault.settings.database_url)

    command.downgrade(config, "0008")
    command.upgrade(config, "head")

    with session_scope(vault.settings.database_url) as session:
        restrictions = {row.id: row.restriction for row in session.execute(select(Document.id, Document.restriction))}
        assert restrictions == {upload: None, by_fill_job: UNRESTRICTED, by_step: UNRESTRICTED}
        assert session.get_one(TemplateFill, fill_id).restriction is None


# Capabilities: a step does what an operation does, and needs what that operation needs.


MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
    "Host": "127.0.0.1",
}


@pytest.fixture
def admin(tenants: Tenants) -> Caller:
    """A key holding every scope, `mcp:admin` included."""
    return tenants.caller(scopes=load_contract().scopes)


def managed_server(client: TestClient, caller: Caller, restrictions: dict[str, Any]) -> str:
    """A managed MCP server's access URL path (its token in it)."""
    body = {"name": f"agents {uuid.uuid4().hex[:8]}", "restrictions": restrictions}
    created = client.post("/api/v2/mcp-servers", json=body, headers=caller.headers)
    assert created.status_code == 201, created.text
    return urlsplit(str(created.json()["access_url"])).path


def import_for(settings: Settings, caller: Caller, source: str) -> str:
    """The public id of `source` imported for the caller's organization (in test mode, as its key is)."""
    document = parse(source)
    with session_scope(settings.database_url) as session:
        tenant = Tenant(caller.organization_id, Mode.test)
        imported = workflows.import_definition(session, tenant, document, source, digest(document))
        return workflow_public_id(imported.workflow.id)


def call_tool(client: TestClient, path: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """`tools/call` through the server's access URL; the result (`isError`, `structuredContent`)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    response = client.post(path, json=body, headers=MCP_HEADERS)
    assert response.status_code == 200, response.text
    # One server-sent event carrying the JSON-RPC response.
    result: dict[str, Any] = json.loads(response.text.split("data: ", 1)[1])["result"]
    return result


def test_a_server_allowed_to_run_workflows_but_not_to_search_cannot_search_through_a_step(
    client: TestClient, admin: Caller, settings: Settings
) -> None:
    source = SEARCH.replace("steps: [", "steps: [{id: picked, name: Picking, action: select_documents, with: {}}, ")
    workflow_id = import_for(settings, admin, source)
    runs_only = ["workflows.run", "workflows.get_run_status", "vault.list_documents"]
    refusing = managed_server(client, admin, {"capabilities": {"mode": "allowlist", "ids": runs_only}})
    admitting = managed_server(
        client, admin, {"capabilities": {"mode": "allowlist", "ids": [*runs_only, "vault.search"]}}
    )

    refused = call_tool(client, refusing, "workflows_run", {"workflow_id": workflow_id})
    started = call_tool(client, admitting, "workflows_run", {"workflow_id": workflow_id})

    assert refused["isError"], refused
    assert refused["structuredContent"]["code"] == "forbidden"
    assert refused["structuredContent"]["status"] == 403
    assert refused["structuredContent"]["detail"] == (
        "Step 'Searching' (search) needs vault.search, which this MCP server's restrictions do not allow."
    )
    assert not started["isError"], started
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(WorkflowRun)) == 1


def test_a_server_restricted_to_projects_sees_its_own_runs_and_not_a_colleagues_in_the_same_project(
    client: TestClient, admin: Caller, settings: Settings
) -> None:
    project_id = client.post("/api/v2/projects", json={"name": "Tower"}, headers=admin.headers).json()["id"]
    elsewhere = client.post("/api/v2/projects", json={"name": "Annex"}, headers=admin.headers).json()["id"]
    workflow_id = import_for(settings, admin, SEARCH)
    colleagues = client.post(
        f"/api/v2/workflows/{workflow_id}/runs", json={"project_id": project_id}, headers=admin.headers
    )
    assert colleagues.status_code == 202, colleagues.text
    server = managed_server(client, admin, {"projects": {"mode": "blocklist", "ids": [elsewhere]}})

    own = call_tool(client, server, "workflows_run", {"workflow_id": workflow_id, "project_id": project_id})
    hidden = call_tool(client, server, "workflows_get_run_status", {"run_id": colleagues.json()["run_id"]})
    listed = call_tool(client, server, "workflows_list_runs", {})

    assert not own["isError"], own
    assert (hidden["isError"], hidden["structuredContent"]["code"]) == (True, "not_found")
    assert [run["run_id"] for run in listed["structuredContent"]["data"]] == [own["structuredContent"]["run_id"]]
