"""A tenant restricted to some projects (a managed MCP server's): every read and write stays inside them.

An allowlist admits its projects only; a blocklist everything but its projects, objects in no project
included. Each test runs under both, on SQLite and PostgreSQL, against a vault holding a document (and, where
a test needs them, a run or a fill) in an admitted project, in a blocked one and in none.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from docx import Document as WordDocument
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.failures import Forbidden, Invalid, NotFound
from core.settings import Settings
from fills.intake import TemplateUpload, accept_template
from gateway.job_kinds import JOB_KINDS
from jobs.worker import WorkerPool
from storage import documents, jobs, projects, template_fills, workflows
from storage.blobs import blob_store_for, new_blob_key
from storage.database import session_scope
from storage.models import (
    TERMINAL_STATUSES,
    Document,
    Job,
    JobStatus,
    Mode,
    Project,
    TemplateFill,
    TenantMixin,
    Workflow,
    WorkflowRun,
)
from storage.search import search
from storage.tenancy import ListMode, ProjectScope, Tenant
from tests import samples
from tests.conftest import Tenants, wait_for
from vault import answers
from vault.uploads import accept_upload
from workflows.definition import digest, parse
from workflows.runs import check_run_request, current_definition


@dataclass(frozen=True)
class Vault:
    """One organization's vault, as its unrestricted tenant made it, and a restricted view of it."""

    settings: Settings
    user_id: uuid.UUID
    everything: Tenant
    restricted: Tenant
    admitted_project: uuid.UUID
    blocked_project: uuid.UUID
    # Documents (all ready, all mentioning anchors): in the admitted project, in the blocked one, in none.
    inside: uuid.UUID
    outside: uuid.UUID
    loose: uuid.UUID

    @property
    def scope(self) -> ProjectScope:
        assert self.restricted.projects is not None
        return self.restricted.projects

    @property
    def blocklist(self) -> bool:
        return self.scope.mode is ListMode.blocklist

    def visible(self, *admitted: uuid.UUID) -> set[uuid.UUID]:
        """`admitted`, plus whatever has no project if the restriction is a blocklist."""
        return {*admitted, self.loose} if self.blocklist else set(admitted)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, blob_dir=tmp_path / "blobs")


def ready_document(
    session: Session, tenant: Tenant, user_id: uuid.UUID, title: str, project: uuid.UUID | None
) -> uuid.UUID:
    document = documents.create_document(
        session,
        tenant,
        documents.NewDocument(
            project_id=project,
            created_by=user_id,
            title=title,
            filename=f"{title}.txt",
            content_type="text/plain",
            size_bytes=1,
            sha256="0" * 64,
            blob_key=new_blob_key(tenant),
            metadata={},
        ),
    )
    text = f"The {title} anchors are galvanized to ASTM A123."
    documents.store_extraction(
        session, document.id, title=None, page_count=None, segments=[documents.TextSegment("paragraph", 1, text)]
    )
    return document.id


@pytest.fixture(params=[ListMode.allowlist, ListMode.blocklist])
def vault(request: pytest.FixtureRequest, settings: Settings, tenants: Tenants) -> Vault:
    caller = tenants.caller()
    everything = Tenant(caller.organization_id, Mode.test)
    with session_scope(settings.database_url) as session:
        admitted = projects.create_project(session, everything, "Tower", None).id
        blocked = projects.create_project(session, everything, "Annex", None).id
        inside = ready_document(session, everything, caller.user_id, "inside", admitted)
        outside = ready_document(session, everything, caller.user_id, "outside", blocked)
        loose = ready_document(session, everything, caller.user_id, "loose", None)
    listed = {admitted} if request.param is ListMode.allowlist else {blocked}
    restricted = Tenant(caller.organization_id, Mode.test, ProjectScope(request.param, frozenset(listed)))
    return Vault(settings, caller.user_id, everything, restricted, admitted, blocked, inside, outside, loose)


def not_found_like_a_foreign_id(vault: Vault, model: type[TenantMixin], object_id: uuid.UUID) -> None:
    """`get` of an id outside the restriction answers what it answers for an id of no one's."""
    with session_scope(vault.settings.database_url) as session:
        with pytest.raises(NotFound) as refused:
            vault.restricted.get(session, model, object_id)
        with pytest.raises(NotFound) as unknown:
            vault.restricted.get(session, model, uuid.UUID(int=0))
        # The object itself exists, for the organization.
        assert vault.everything.get(session, model, object_id).id == object_id
    assert (refused.value.code, refused.value.kind) == (unknown.value.code, unknown.value.kind)
    assert str(refused.value) == f"No {model.kind} with id {model.id_prefix}{object_id}"


# Reads.


def test_projects_outside_the_restriction_are_neither_listed_nor_found(vault: Vault) -> None:
    with session_scope(vault.settings.database_url) as session:
        listed = projects.list_projects(session, vault.restricted, 25, None)
        assert [project.id for project in listed.rows] == [vault.admitted_project]
        assert vault.restricted.get(session, Project, vault.admitted_project).name == "Tower"
        assert projects.find_project_by_name(session, vault.restricted, "Annex") is None
    not_found_like_a_foreign_id(vault, Project, vault.blocked_project)


def test_documents_outside_the_restriction_are_neither_listed_nor_found(vault: Vault) -> None:
    with session_scope(vault.settings.database_url) as session:
        listed = documents.list_documents(session, vault.restricted, documents.DocumentFilters(), 25, None)
        assert {document.id for document in listed.rows} == vault.visible(vault.inside)
        in_blocked = documents.DocumentFilters(project_id=vault.blocked_project)
        assert documents.list_documents(session, vault.restricted, in_blocked, 25, None).rows == []
        assert documents.get_ready(session, vault.restricted, vault.inside).id == vault.inside
        everyone = [vault.inside, vault.outside, vault.loose]
        assert documents.visible_ids(session, vault.restricted, everyone) == vault.visible(vault.inside)
        with pytest.raises(NotFound):
            documents.get_many_ready(session, vault.restricted, [vault.inside, vault.outside])
        whole_vault = documents.Selection(status=None)
        selected = documents.select_documents(session, vault.restricted, whole_vault, 100)
        assert {document.id for document in selected} == vault.visible(vault.inside)
    not_found_like_a_foreign_id(vault, Document, vault.outside)
    if not vault.blocklist:
        not_found_like_a_foreign_id(vault, Document, vault.loose)


def test_search_finds_only_documents_the_restriction_admits(vault: Vault) -> None:
    with session_scope(vault.settings.database_url) as session:
        hits = search(session, vault.restricted, "anchors", limit=10)
        assert {hit.document_id for hit in hits} == vault.visible(vault.inside)
        # Unrestricted, the same search finds all three: the restriction, not the query, left them out.
        assert len(search(session, vault.everything, "anchors", limit=10)) == 3
        with pytest.raises(NotFound, match=f"No project with id {vault.blocked_project}"):
            search(session, vault.restricted, "anchors", limit=10, project_id=vault.blocked_project)
        with pytest.raises(NotFound, match=f"No document with id {vault.outside}"):
            search(session, vault.restricted, "anchors", limit=10, document_ids=[vault.inside, vault.outside])
        answered = answers.answer(session, vault.restricted, "What are the anchors galvanized to?", sentences=5)
        assert {citation.document_id for citation in answered.citations} == vault.visible(vault.inside)


@pytest.fixture
def workflow_id(vault: Vault) -> uuid.UUID:
    source = "name: Scan\nsteps: [{id: found, name: Searching, action: search, with: {query: anchors}}]\n"
    document = parse(source)
    with session_scope(vault.settings.database_url) as session:
        return workflows.import_definition(session, vault.everything, document, source, digest(document)).workflow.id


def start_run(vault: Vault, tenant: Tenant, workflow_id: uuid.UUID, project: uuid.UUID | None) -> uuid.UUID:
    with session_scope(vault.settings.database_url) as session:
        workflow = vault.everything.get(session, Workflow, workflow_id)
        new = workflows.NewRun(vault.user_id, {}, project, max_attempts=1)
        return workflows.start_run(session, tenant, workflow, 600, new).id


def start_fill(vault: Vault, tenant: Tenant, project: uuid.UUID | None, body: list[str] | None = None) -> uuid.UUID:
    upload = TemplateUpload(
        vault.user_id, io.BytesIO(samples.docx(body or ["{{ documents | length }}"])), "t.docx", project, []
    )
    with session_scope(vault.settings.database_url) as session:
        return accept_template(session, blob_store_for(vault.settings), tenant, upload, max_attempts=1).id


def test_runs_outside_the_restriction_are_neither_listed_nor_found(vault: Vault, workflow_id: uuid.UUID) -> None:
    inside = start_run(vault, vault.everything, workflow_id, vault.admitted_project)
    outside = start_run(vault, vault.everything, workflow_id, vault.blocked_project)
    loose = start_run(vault, vault.everything, workflow_id, None)
    with session_scope(vault.settings.database_url) as session:
        listed = workflows.list_runs(session, vault.restricted, workflows.RunFilters(), 25, None)
        assert {run.id for run in listed.rows} == ({inside, loose} if vault.blocklist else {inside})
    not_found_like_a_foreign_id(vault, WorkflowRun, outside)


def test_fills_outside_the_restriction_are_neither_listed_nor_found(vault: Vault) -> None:
    inside = start_fill(vault, vault.everything, vault.admitted_project)
    outside = start_fill(vault, vault.everything, vault.blocked_project)
    loose = start_fill(vault, vault.everything, None)
    with session_scope(vault.settings.database_url) as session:
        listed = template_fills.list_fills(session, vault.restricted, template_fills.FillFilters(), 25, None)
        assert {fill.id for fill in listed.rows} == ({inside, loose} if vault.blocklist else {inside})
    not_found_like_a_foreign_id(vault, TemplateFill, outside)


# Writes.


def upload(vault: Vault, project: uuid.UUID | None) -> Document:
    with session_scope(vault.settings.database_url) as session:
        document = accept_upload(
            session,
            blob_store_for(vault.settings),
            vault.restricted,
            user_id=vault.user_id,
            source=io.BytesIO(b"Field notes."),
            filename="notes.txt",
            project_id=project,
            metadata={},
            max_attempts=1,
        )
        session.expunge(document)
        return document


def test_nothing_is_created_in_a_project_outside_the_restriction(vault: Vault, workflow_id: uuid.UUID) -> None:
    blocked = f"No project with id {vault.blocked_project}"
    with pytest.raises(NotFound, match=blocked):
        upload(vault, vault.blocked_project)
    with pytest.raises(NotFound, match=blocked):
        start_run(vault, vault.restricted, workflow_id, vault.blocked_project)
    with pytest.raises(NotFound, match=blocked):
        start_fill(vault, vault.restricted, vault.blocked_project)
    with session_scope(vault.settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert session.scalar(select(func.count()).select_from(Document)) == 3
    assert upload(vault, vault.admitted_project).project_id == vault.admitted_project


def test_an_object_in_no_project_is_refused_under_an_allowlist_only(vault: Vault, workflow_id: uuid.UUID) -> None:
    attempts: list[Callable[[], object]] = [
        lambda: upload(vault, None).id,
        lambda: start_run(vault, vault.restricted, workflow_id, None),
        lambda: start_fill(vault, vault.restricted, None),
    ]
    for attempt in attempts:
        if vault.blocklist:
            attempt()
            continue
        with pytest.raises(Invalid) as refused:
            attempt()
        assert [error.pointer for error in refused.value.errors] == ["/project_id"]
        assert refused.value.message.startswith("is required: this MCP server is restricted to a list of projects")


def test_a_run_request_in_no_project_is_one_422_naming_it_with_the_inputs(vault: Vault) -> None:
    source = "name: Dated\ninputs: {day: {type: date, required: true}}\nsteps: [{id: a, name: A, action: search, with: {query: x}}]\n"
    document = parse(source)
    with session_scope(vault.settings.database_url) as session:
        workflow_id = workflows.import_definition(
            session, vault.everything, document, source, digest(document)
        ).workflow.id
        _, definition = current_definition(session, vault.restricted, workflow_id)
        with pytest.raises(Invalid) as refused:
            check_run_request(session, vault.restricted, definition, {}, None)
    pointers = [error.pointer for error in refused.value.errors]
    assert pointers == (["/inputs/day"] if vault.blocklist else ["/inputs/day", "/project_id"])


def test_a_project_is_created_under_a_blocklist_and_refused_under_an_allowlist(vault: Vault) -> None:
    with session_scope(vault.settings.database_url) as session:
        if not vault.blocklist:
            with pytest.raises(Forbidden, match="restricted to a list of projects; it cannot create new ones"):
                projects.create_project(session, vault.restricted, "Garage", None)
            return
        created = projects.create_project(session, vault.restricted, "Garage", None)
        assert vault.restricted.get(session, Project, created.id).name == "Garage"


# Work done later, by a worker, keeps the restriction of whoever started it.


def test_a_jobs_payload_keeps_the_restriction_and_its_claim_restores_it(vault: Vault) -> None:
    with session_scope(vault.settings.database_url) as session:
        job_id = jobs.enqueue(session, vault.restricted, "probe", {"label": "restricted"}, 1).id
        unrestricted = jobs.enqueue(session, vault.everything, "other", {"label": "unrestricted"}, 1).id
    with session_scope(vault.settings.database_url) as session:
        assert session.get_one(Job, job_id).payload["project_scope"] == {
            "mode": vault.scope.mode.value,
            "ids": [str(project_id) for project_id in vault.scope.ids],
        }
        assert session.get_one(Job, unrestricted).payload == {"label": "unrestricted"}
        claim = jobs.claim(session, "test", timedelta(seconds=30), ["probe"])
    assert claim is not None
    assert (claim.tenant, claim.payload) == (vault.restricted, {"label": "restricted"})


def run_jobs_until_done(settings: Settings, job_id: uuid.UUID) -> Job:
    """Every queued job run by a worker pool as the gateway's, until `job_id` has ended."""
    pool = WorkerPool(settings, 2, JOB_KINDS)
    pool.start()
    try:

        def ended() -> Job | None:
            with session_scope(settings.database_url) as session:
                job = session.get_one(Job, job_id)
                session.expunge(job)
                return job if job.status in TERMINAL_STATUSES else None

        return wait_for(ended, timeout=60, interval=0.1)
    finally:
        pool.stop()


def test_a_runs_steps_search_only_what_its_starter_could_see(vault: Vault) -> None:
    # In a project under an allowlist (it must name one), in none under a blocklist: the whole vault it leaves.
    project = None if vault.blocklist else vault.admitted_project
    source = f"""
name: Scan
steps:
  - {{id: found, name: Searching, action: search, with: {{query: anchors}}}}
  - {{id: named, name: Blocked project, action: search, with: {{query: anchors, project_id: "{vault.blocked_project}"}}}}
"""
    document = parse(source)
    with session_scope(vault.settings.database_url) as session:
        imported = workflows.import_definition(session, vault.everything, document, source, digest(document))
        workflow_id = imported.workflow.id
    run_id = start_run(vault, vault.restricted, workflow_id, project)
    with session_scope(vault.settings.database_url) as session:
        job_id = session.get_one(WorkflowRun, run_id).job_id

    job = run_jobs_until_done(vault.settings, job_id)
    assert (job.status, job.error_code) == (JobStatus.failed, "project_not_found")
    assert job.error_message == f"Step 'Blocked project' (search): No project with id {vault.blocked_project}"
    with session_scope(vault.settings.database_url) as session:
        hits = workflows.finished_steps(session, run_id)[0].result["hits"]
    assert {uuid.UUID(hit["document_id"]) for hit in hits} == vault.visible(vault.inside)


def test_a_fill_sources_and_searches_only_what_its_starter_could_see(vault: Vault) -> None:
    project = None if vault.blocklist else vault.admitted_project
    body = ["{% for d in documents %}{{ d.title }};{% endfor %}", "{{ search('anchors', 10) | length }}"]
    fill_id = start_fill(vault, vault.restricted, project, body)
    assert run_jobs_until_done(vault.settings, fill_id).status is JobStatus.completed, fill_id
    with session_scope(vault.settings.database_url) as session:
        filled_id = session.get_one(TemplateFill, fill_id).filled_document_id
        assert filled_id is not None
        filled = vault.everything.get(session, Document, filled_id)
        blob_key = filled.blob_key
        assert filled.project_id == project
    with blob_store_for(vault.settings).open(blob_key) as stored:
        paragraphs = [paragraph.text for paragraph in WordDocument(io.BytesIO(stored.read())).paragraphs]
    assert paragraphs == (["inside;loose;", "2"] if vault.blocklist else ["inside;", "1"])
