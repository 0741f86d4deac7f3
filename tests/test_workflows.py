"""Workflows through the API and the CLI, on SQLite and PostgreSQL: import, run, watch, cancel, time out."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from starlette.testclient import TestClient

from core.failures import Failure
from core.settings import Settings, get_settings
from gateway.cli import main
from gateway.contract import load_contract
from storage import documents
from storage.blobs import new_blob_key
from storage.database import session_scope
from storage.models import TERMINAL_STATUSES, Document, Mode, User, WorkflowRunStep
from storage.tenancy import Tenant
from storage.workflows import import_definition
from tests.conftest import ROOT, Caller, LiveServer, Tenants, wait_for
from workflows import runner
from workflows.actions import Scope, check_rules, extract_fields, search, select_documents, summarize
from workflows.definition import digest, parse
from workflows.ids import parse_run_id, workflow_public_id

EXAMPLE = ROOT / "examples" / "workflows" / "weekly-submittal-review.yaml"
DEMO = ROOT / "examples" / "demo"


def import_source(database_url: str, caller: Caller, source: str, mode: Mode = Mode.test) -> str:
    document = parse(source)
    with session_scope(database_url) as session:
        imported = import_definition(session, Tenant(caller.organization_id, mode), document, source, digest(document))
        return workflow_public_id(imported.workflow.id)


# About a quarter of a second of work in the sandbox, and a filter that matches nothing.
BUSY = "{% for i in range(100000) %}{% for j in range(10) %}{% endfor %}{% endfor %}"


def long_workflow(name: str, steps: int, timeout_seconds: int = 900, busy: bool = False) -> str:
    """Many small steps, each one a checkpoint: for cancelling, timing out and killing mid-run."""
    arguments = f"{{limit: 1, metadata: {{busy: '{BUSY}'}}}}" if busy else "{limit: 1}"
    lines = [f"name: {name}", f"timeout_seconds: {timeout_seconds}", "steps:"]
    for n in range(steps):
        lines += [f"  - id: s{n}", f"    name: Step {n}", "    action: select_documents", f"    with: {arguments}"]
    lines += ["outputs:", '  done: "{{ steps | length }}"']
    return "\n".join(lines) + "\n"


def demo_project(client: TestClient, caller: Caller) -> str:
    """The demo documents, uploaded with their metadata into a new project, all ready."""
    project = client.post("/api/v2/projects", json={"name": "Riverside Tower"}, headers=caller.headers).json()
    metadata = json.loads((DEMO / "metadata.json").read_text())
    uploaded = []
    for name, fields in metadata.items():
        response = client.post(
            "/api/v2/vault/documents",
            files={"file": (name, (DEMO / name).read_bytes())},
            data={"project_id": project["id"], "metadata": json.dumps(fields)},
            headers=caller.headers,
        )
        assert response.status_code == 202, response.text
        uploaded.append(response.json()["id"])

    def all_ready() -> bool:
        states = [client.get(f"/api/v2/vault/documents/{d}", headers=caller.headers).json()["status"] for d in uploaded]
        return states == ["ready"] * len(uploaded)

    wait_for(all_ready, timeout=60)
    return str(project["id"])


def start(client: TestClient, caller: Caller, workflow_id: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {**caller.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/api/v2/workflows/{workflow_id}/runs", json=body, headers=headers)


def status(client: TestClient, caller: Caller, run_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v2/workflows/runs/{run_id}", headers=caller.headers)
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


def finished(client: TestClient, caller: Caller, run_id: str) -> dict[str, Any]:
    return wait_for(
        lambda: ((run := status(client, caller, run_id))["status"] in TERMINAL_STATUSES and run) or None, timeout=60
    )


def this_week() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"start_date": str(today - timedelta(days=7)), "end_date": str(today)}


def test_the_weekly_submittal_review_runs_on_the_demo_data_as_the_reference_shows(
    client: TestClient, caller: Caller, settings: Settings
) -> None:
    project_id = demo_project(client, caller)
    workflow_id = import_source(settings.database_url, caller, EXAMPLE.read_text())

    listed = client.get("/api/v2/workflows", headers=caller.headers).json()
    assert [(w["id"], w["name"], w["enabled"], w["trigger_type"]) for w in listed["data"]] == [
        (workflow_id, "Weekly submittal review", True, "manual")
    ]
    detail = client.get(f"/api/v2/workflows/{workflow_id}", headers=caller.headers).json()
    assert [(i["name"], i["type"], i["required"]) for i in detail["inputs"]] == [
        ("start_date", "date", True),
        ("end_date", "date", True),
    ]
    assert detail["requires_project"] is True

    started = start(client, caller, workflow_id, {"inputs": this_week(), "project_id": project_id})
    assert started.status_code == 202, started.text
    body = started.json()
    assert body == {"run_id": body["run_id"], "workflow_id": workflow_id, "status": "pending", "started_at": None}
    assert body["run_id"].startswith("run_")
    assert started.headers["location"] == f"/api/v2/workflows/runs/{body['run_id']}"

    run = finished(client, caller, body["run_id"])
    assert run["status"] == "completed", run
    assert (run["progress"], run["stage"], run["error_message"]) == (100, "done", None)
    assert run["inputs"] == this_week()
    assert run["workflow_version"] == 1
    assert run["started_at"] is not None
    assert run["completed_at"] is not None
    assert run["outputs"]["summary"] == "5 submittals reviewed, 2 flagged for non-compliance."
    by_title = {
        client.get(f"/api/v2/vault/documents/{item['document_id']}", headers=caller.headers).json()["filename"]: item
        for item in run["outputs"]["items"]
    }
    assert sorted(by_title) == sorted(n for n in json.loads((DEMO / "metadata.json").read_text()) if "submittal" in n)
    assert all(set(item) == {"document_id", "status", "reason"} for item in by_title.values())
    flagged = {name: item["reason"] for name, item in by_title.items() if item["status"] == "non-compliant"}
    assert flagged == {
        "submittal-015-roof-membrane.md": "Contains a VOC content at or over the 250 g/L limit.",
        "submittal-016-fire-doors.md": 'Contains forbidden phrase "substitution requested".',
    }
    assert {item["reason"] for item in by_title.values() if item["status"] == "compliant"} == {"Meets all 5 rules."}

    runs = client.get("/api/v2/workflows/runs", params={"workflow_id": workflow_id}, headers=caller.headers).json()
    assert [r["run_id"] for r in runs["data"]] == [body["run_id"]]
    assert (
        client.get("/api/v2/workflows/runs", params={"status": "failed"}, headers=caller.headers).json()["data"] == []
    )


def test_a_run_request_that_breaks_the_declared_inputs_is_one_422_naming_every_field(
    client: TestClient, caller: Caller, settings: Settings
) -> None:
    workflow_id = import_source(settings.database_url, caller, EXAMPLE.read_text())
    response = start(client, caller, workflow_id, {"inputs": {"start_date": "2026-02-30", "week": 14}})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert {(e["pointer"], e["detail"]) for e in problem["errors"]} == {
        ("/inputs/week", "is not an input of this workflow (it takes: start_date, end_date)"),
        ("/inputs/start_date", "'2026-02-30' is not a date in the calendar"),
        ("/inputs/end_date", "is required"),
        ("/project_id", "is required: this workflow works in a project"),
    }
    bad_date = start(client, caller, workflow_id, {"inputs": {"start_date": "next monday", "end_date": "2026-04-08"}})
    assert [e["pointer"] for e in bad_date.json()["errors"]] == ["/inputs/start_date", "/project_id"]
    # Nothing was started.
    assert client.get("/api/v2/workflows/runs", headers=caller.headers).json()["data"] == []


def test_unknown_foreign_and_disabled_workflows_cannot_run(
    client: TestClient, caller: Caller, tenants: Tenants, settings: Settings
) -> None:
    mine = import_source(
        settings.database_url, caller, "name: Mine\nsteps: [{id: a, name: A, action: select_documents}]\n"
    )
    stranger = tenants.caller()
    assert start(client, stranger, mine, {}).status_code == 404
    assert client.get(f"/api/v2/workflows/{mine}", headers=stranger.headers).status_code == 404
    live = tenants.caller(mode=Mode.live, organization_id=caller.organization_id)
    assert client.get(f"/api/v2/workflows/{mine}", headers=live.headers).status_code == 404
    unknown = f"wf_{uuid.uuid4()}"
    missing = start(client, caller, unknown, {})
    assert (missing.status_code, missing.json()["detail"]) == (404, f"No workflow with id {unknown}")
    assert client.get("/api/v2/workflows/not-an-id", headers=caller.headers).status_code == 400

    off = import_source(
        settings.database_url,
        caller,
        "name: Off\nenabled: false\nsteps: [{id: a, name: A, action: select_documents}]\n",
    )
    refused = start(client, caller, off, {})
    assert refused.status_code == 409
    assert "disabled" in refused.json()["detail"]

    mine_run = start(client, caller, mine, {}).json()["run_id"]
    assert client.get(f"/api/v2/workflows/runs/{mine_run}", headers=stranger.headers).status_code == 404
    assert client.post(f"/api/v2/workflows/runs/{mine_run}/cancel", headers=stranger.headers).status_code == 404
    assert client.get("/api/v2/workflows/runs", headers=stranger.headers).json()["data"] == []
    project_elsewhere = client.post("/api/v2/projects", json={"name": "Theirs"}, headers=stranger.headers).json()
    assert start(client, caller, mine, {"project_id": project_elsewhere["id"]}).status_code == 404


def test_a_run_request_may_have_no_body_at_all(client: TestClient, caller: Caller, settings: Settings) -> None:
    workflow_id = import_source(settings.database_url, caller, long_workflow("Bodiless", 1))
    response = client.post(f"/api/v2/workflows/{workflow_id}/runs", headers=caller.headers)
    assert response.status_code == 202, response.text
    assert finished(client, caller, response.json()["run_id"])["outputs"] == {"done": 1}


def test_the_same_idempotency_key_twice_starts_one_run(client: TestClient, caller: Caller, settings: Settings) -> None:
    workflow_id = import_source(
        settings.database_url, caller, "name: Once\nsteps: [{id: a, name: A, action: select_documents}]\n"
    )
    first = start(client, caller, workflow_id, {}, key="weekly-review-2026-04-08")
    second = start(client, caller, workflow_id, {}, key="weekly-review-2026-04-08")
    assert first.status_code == second.status_code == 202
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert len(client.get("/api/v2/workflows/runs", headers=caller.headers).json()["data"]) == 1


FILLING = """\
name: Filling
steps:
  - {id: found, name: Finding, action: search, with: {query: anchors}}
  - {id: filled, name: Filling, action: fill_template, with: {template: "{{ inputs.template }}"}}
inputs:
  template: {type: string, required: true}
"""


def test_workflows_name_every_scope_a_run_needs_from_their_steps_actions(
    client: TestClient, caller: Caller, settings: Settings
) -> None:
    reading = import_source(settings.database_url, caller, EXAMPLE.read_text())
    filling = import_source(settings.database_url, caller, FILLING)

    def required(workflow_id: str) -> Any:
        return client.get(f"/api/v2/workflows/{workflow_id}", headers=caller.headers).json()["required_scopes"]

    assert required(reading) == ["vault:read", "workflows:write"]
    assert required(filling) == ["templates:write", "vault:read", "workflows:write"]


@pytest.mark.parametrize(
    ("scopes", "missing"),
    [
        (["workflows:read", "workflows:write"], ["templates:write", "vault:read"]),
        (["workflows:write", "vault:read"], ["templates:write"]),
        (["workflows:write", "templates:write"], ["vault:read"]),
    ],
)
def test_a_key_without_the_scopes_of_a_workflows_steps_cannot_run_it(
    client: TestClient, tenants: Tenants, caller: Caller, settings: Settings, scopes: list[str], missing: list[str]
) -> None:
    workflow_id = import_source(settings.database_url, caller, FILLING)
    narrow = tenants.caller(scopes=scopes, organization_id=caller.organization_id)

    # Bad inputs too: the scope decides first, so a narrow key learns nothing about the inputs.
    refused = start(client, narrow, workflow_id, {"inputs": {"unknown": 1}})

    assert refused.status_code == 403
    problem = refused.json()
    assert problem["code"] == "insufficient_scope"
    assert all(f"'{scope}'" in problem["detail"] for scope in missing)
    assert refused.headers["www-authenticate"] == (
        f'Bearer realm="vaultgate", error="insufficient_scope", scope="{" ".join(missing)}"'
    )
    assert client.get("/api/v2/workflows/runs", headers=caller.headers).json()["data"] == []


def test_a_key_holding_the_scopes_of_a_workflows_steps_runs_it(
    client: TestClient, tenants: Tenants, caller: Caller, settings: Settings
) -> None:
    workflow_id = import_source(settings.database_url, caller, EXAMPLE.read_text())
    enough = tenants.caller(scopes=["workflows:write", "vault:read"], organization_id=caller.organization_id)
    project = client.post("/api/v2/projects", json={"name": "Scoped"}, headers=caller.headers).json()

    started = start(client, enough, workflow_id, {"inputs": this_week(), "project_id": project["id"]})

    assert started.status_code == 202, started.text
    assert finished(client, caller, started.json()["run_id"])["status"] == "completed"


def test_run_outputs_are_vault_content_only_a_key_reading_the_vault_sees(
    client: TestClient, tenants: Tenants, caller: Caller, settings: Settings
) -> None:
    workflow_id = import_source(settings.database_url, caller, EXAMPLE.read_text())
    project_id = demo_project(client, caller)
    run_id = start(client, caller, workflow_id, {"inputs": this_week(), "project_id": project_id}).json()["run_id"]
    assert finished(client, caller, run_id)["outputs"]["summary"]
    reader = tenants.caller(scopes=["workflows:read"], organization_id=caller.organization_id)

    withheld = status(client, reader, run_id)
    listed = client.get("/api/v2/workflows/runs", headers=reader.headers).json()["data"]

    assert withheld["status"] == "completed"
    assert withheld["outputs"] is None
    assert [run["outputs"] for run in listed] == [None]


@pytest.fixture
def cli_database(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The operator CLI, in this process, pointed at the test's database (its settings are read once per process)."""
    monkeypatch.setenv("VAULTGATE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_database")
def test_reimporting_a_changed_definition_makes_a_version_and_runs_record_theirs(
    client: TestClient, caller: Caller, tmp_path: Path
) -> None:
    source = "name: Evolving\nsteps: [{id: a, name: A, action: select_documents}]\noutputs: {n: 1}\n"
    path = tmp_path / "evolving.yaml"
    path.write_text(source)
    runner = CliRunner()
    imported = runner.invoke(main, ["workflows", "import", str(path), "--org", str(caller.organization_id)])
    assert imported.exit_code == 0, imported.output
    workflow_id = imported.output.split()[-3]
    assert imported.output.startswith("imported: 'Evolving' wf_")
    assert imported.output.endswith("version 1\n")
    v1_run = finished(client, caller, start(client, caller, workflow_id, {}).json()["run_id"])

    again = runner.invoke(main, ["workflows", "import", str(path), "--org", str(caller.organization_id)])
    assert again.output == f"unchanged: 'Evolving' {workflow_id} version 1\n"
    path.write_text(source.replace("n: 1", "n: 2"))
    changed = runner.invoke(main, ["workflows", "import", str(path), "--org", str(caller.organization_id)])
    assert changed.output == f"imported: 'Evolving' {workflow_id} version 2\n"
    v2_run = finished(client, caller, start(client, caller, workflow_id, {}).json()["run_id"])

    assert (v1_run["workflow_version"], v1_run["outputs"]) == (1, {"n": 1})
    assert (v2_run["workflow_version"], v2_run["outputs"]) == (2, {"n": 2})
    exported = runner.invoke(main, ["workflows", "export", workflow_id, "--version", "1"])
    assert exported.output == source
    listed = runner.invoke(main, ["workflows", "list", "--org", str(caller.organization_id)])
    assert listed.output == f"{workflow_id}  v2  enabled   Evolving\n"

    path.write_text("name: Evolving\nsteps:\n  - {id: a, name: A, action: nothing}\n")
    refused = runner.invoke(main, ["workflows", "import", str(path), "--org", str(caller.organization_id)])
    assert refused.exit_code == 1
    assert f"{path}:3:30: /steps/0/action: 'nothing' is not one of" in refused.output
    assert client.get(f"/api/v2/workflows/{workflow_id}", headers=caller.headers).json()["version"] == 2


def test_an_expression_escaping_the_sandbox_fails_the_run_before_anything_runs(
    client: TestClient, caller: Caller, settings: Settings
) -> None:
    source = """\
name: Escape
steps:
  - id: probe
    name: Probing
    action: search
    with: {query: "{{ ''.__class__.__mro__[1].__subclasses__() }}"}
  - id: after
    name: After
    action: select_documents
"""
    workflow_id = import_source(settings.database_url, caller, source)
    run = finished(client, caller, start(client, caller, workflow_id, {}).json()["run_id"])
    assert (run["status"], run["error_code"]) == ("failed", "expression_forbidden")
    assert run["error_message"] == (
        "In step 'Probing', the expression at /steps/0/with/query refused by the sandbox: "
        "access to attribute '__class__' of 'str' object is unsafe."
    )
    assert run["outputs"] is None
    with session_scope(settings.database_url) as session:
        assert list(session.scalars(select(WorkflowRunStep))) == []
    assert client.get("/api/v2/health").status_code == 200


def test_a_step_given_the_wrong_kind_of_value_fails_the_run_naming_it(
    client: TestClient, caller: Caller, settings: Settings
) -> None:
    source = """\
name: Mistyped
inputs:
  how_many: {type: string, default: "many"}
steps:
  - id: pick
    name: Picking
    action: select_documents
    with: {limit: "{{ inputs.how_many }}"}
"""
    workflow_id = import_source(settings.database_url, caller, source)
    run = finished(client, caller, start(client, caller, workflow_id, {}).json()["run_id"])
    assert (run["status"], run["error_code"]) == ("failed", "invalid_step_arguments")
    assert run["error_message"].startswith("Step 'Picking' (select_documents): with/limit: 'many' is not")


def test_cancelling_a_running_run_stops_it_within_one_step(
    client: TestClient, caller: Caller, settings: Settings
) -> None:
    workflow_id = import_source(settings.database_url, caller, long_workflow("Long", 50))
    run_id = start(client, caller, workflow_id, {}).json()["run_id"]

    def steps_done() -> int:
        with session_scope(settings.database_url) as session:
            return len(
                list(session.scalars(select(WorkflowRunStep).where(WorkflowRunStep.run_id == parse_run_id(run_id))))
            )

    wait_for(lambda: steps_done() >= 2, timeout=60, interval=0.01)
    cancelled = client.post(f"/api/v2/workflows/runs/{run_id}/cancel", headers=caller.headers)
    at_cancel = steps_done()
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] in ("running", "cancelled")
    run = finished(client, caller, run_id)
    assert (run["status"], run["error_code"], run["error_message"]) == (
        "cancelled",
        "cancelled",
        "Cancelled at the caller's request.",
    )
    assert run["outputs"] is None
    assert at_cancel <= steps_done() <= at_cancel + 1 < 50
    again = client.post(f"/api/v2/workflows/runs/{run_id}/cancel", headers=caller.headers)
    assert (again.status_code, again.json()["code"]) == (409, "conflict")


def test_a_pending_run_is_cancelled_at_once(caller: Caller, settings: Settings) -> None:
    from gateway.app import create_app

    idle = settings.model_copy(update={"job_workers": 0})
    with TestClient(create_app(idle), raise_server_exceptions=False) as client:
        workflow_id = import_source(settings.database_url, caller, long_workflow("Queued", 1))
        run_id = start(client, caller, workflow_id, {}).json()["run_id"]
        cancelled = client.post(f"/api/v2/workflows/runs/{run_id}/cancel", headers=caller.headers).json()
        assert (cancelled["status"], cancelled["started_at"]) == ("cancelled", None)
        assert cancelled["completed_at"] is not None


def test_a_run_past_its_timeout_is_cancelled_with_the_reason(
    client: TestClient, caller: Caller, settings: Settings
) -> None:
    workflow_id = import_source(settings.database_url, caller, long_workflow("Slow", 10, timeout_seconds=1, busy=True))
    run = finished(client, caller, start(client, caller, workflow_id, {}).json()["run_id"])
    assert (run["status"], run["error_code"]) == ("cancelled", "timeout")
    assert run["error_message"].startswith("The run exceeded its time limit of 1 s and was stopped before step 'Step")
    assert 0 < run["progress"] < 99


# The actions, each on its own, against documents put straight into storage.


@pytest.fixture
def vault(caller: Caller, settings: Settings) -> Scope:
    return Scope(Tenant(caller.organization_id, Mode.test), None, lambda: session_scope(settings.database_url))


def put(scope: Scope, title: str, paragraphs: list[str], **options: Any) -> str:
    """A `ready` document with this text, created when `created` says (default now)."""
    with scope.session() as session:
        user_id = session.scalars(select(User.id).where(User.organization_id == scope.tenant.organization_id)).one()
        document = documents.create_document(
            session,
            scope.tenant,
            documents.NewDocument(
                project_id=options.get("project_id"),
                created_by=user_id,
                title=title,
                filename=f"{title}.txt",
                content_type="text/plain",
                size_bytes=1,
                sha256="0" * 64,
                blob_key=new_blob_key(scope.tenant),
                metadata=options.get("metadata", {}),
            ),
        )
        segments = [documents.TextSegment("paragraph", n, p) for n, p in enumerate(paragraphs, 1)]
        documents.store_extraction(session, document.id, title=None, page_count=None, segments=segments)
        if "created" in options:
            session.execute(update(Document).where(Document.id == document.id).values(created_at=options["created"]))
        return str(document.id)


def at(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC) + timedelta(hours=12)


def test_select_documents_filters_by_project_dates_metadata_and_status(vault: Scope) -> None:
    with vault.session() as session:
        from storage.projects import create_project

        project = create_project(session, vault.tenant, "P", None).id
    early = put(vault, "early", ["x"], project_id=project, created=at("2026-03-31"), metadata={"type": "submittal"})
    first = put(vault, "first", ["x"], project_id=project, created=at("2026-04-01"), metadata={"type": "submittal"})
    last = put(
        vault, "last", ["x"], project_id=project, created=at("2026-04-08"), metadata={"type": "submittal", "n": 3}
    )
    put(vault, "notes", ["x"], project_id=project, created=at("2026-04-02"), metadata={"type": "notes"})
    put(vault, "elsewhere", ["x"], created=at("2026-04-02"), metadata={"type": "submittal"})
    scoped = Scope(vault.tenant, project, vault.session)

    def ids(**arguments: Any) -> list[str]:
        return [d["id"] for d in select_documents(scoped, arguments)["documents"]]

    week = {"created_from": "2026-04-01", "created_to": "2026-04-08", "metadata": {"type": "submittal"}}
    assert ids(**week) == [first, last]
    assert ids(metadata={"n": 3}) == [last]
    assert ids(created_to="2026-04-01T12:00:00+00:00", metadata={"type": "submittal"}) == [early, first]
    assert ids(limit=1) == [early]
    assert ids(status="failed") == []
    with pytest.raises(Failure, match="No project with id"):
        select_documents(scoped, {"project_id": str(uuid.uuid4())})


def test_search_extract_check_and_summarize_read_the_documents_text(vault: Scope) -> None:
    anchors = put(vault, "anchors", ["Anchors are galvanized to ASTM A123.", "Specification section 08 44 13."])
    membrane = put(vault, "membrane", ["The adhesive has a VOC content of 310 g/L.", "Substitution requested."])

    hits = search(vault, {"query": "galvanized"})["hits"]
    assert [(h["document_id"], h["location"]) for h in hits] == [(anchors, {"type": "paragraph", "number": 1})]

    fields = extract_fields(
        vault,
        {
            "documents": [anchors, {"id": membrane}],
            "fields": {"section": r"section (\d\d \d\d \d\d)", "voc": r"\d+ g/L"},
        },
    )["items"]
    assert [(i["document_id"], i["fields"]) for i in fields] == [
        (anchors, {"section": "08 44 13", "voc": None}),
        (membrane, {"section": None, "voc": "310 g/L"}),
    ]

    checked = check_rules(
        vault,
        {
            "documents": [anchors, membrane],
            "required_phrases": ["specification section"],
            "forbidden_phrases": ["substitution requested"],
            "forbidden_patterns": [{"pattern": r"VOC content of [3-9]\d\d", "description": "a VOC content over 300"}],
        },
    )
    assert checked["reviewed"] == 2
    assert checked["flagged"] == 1
    assert checked["items"] == [
        {"document_id": anchors, "status": "compliant", "reason": "Meets all 3 rules."},
        {
            "document_id": membrane,
            "status": "non-compliant",
            "reason": 'Missing required phrase "specification section"; contains forbidden phrase '
            '"substitution requested"; contains a VOC content over 300.',
        },
    ]

    summary = summarize(vault, {"documents": [anchors], "sentences": 1})
    assert summary["items"] == [{"document_id": anchors, "title": "anchors", "summary": summary["summary"]}]
    assert summary["summary"] in ("Anchors are galvanized to ASTM A123.", "Specification section 08 44 13.")

    with pytest.raises(Failure, match="No document with id"):
        check_rules(vault, {"documents": [str(uuid.uuid4())], "required_phrases": ["x"]})
    with pytest.raises(Failure) as timeout:
        extract_fields(vault, {"documents": [put(vault, "long", ["a" * 50000 + "!"])], "fields": {"x": r"(a|aa)+$"}})
    assert timeout.value.code in ("pattern_timeout",)


def test_runs_start_wait_and_status_drive_a_run_through_the_api(live_server: LiveServer) -> None:
    runner = CliRunner()
    base = ["runs", "--url", live_server.url, "--api-key", live_server.api_key]
    examples = load_contract().document["components"]["examples"]["completed_run"]["value"]
    started = runner.invoke(
        main,
        [
            *base,
            "start",
            examples["workflow_id"],
            "--project",
            examples["project_id"],
            "--input",
            "start_date=2000-01-01",
            "--input",
            f"end_date={datetime.now(UTC).date()}",
            "--wait",
        ],
    )
    assert started.exit_code == 0, started.output
    run_id, _, final = started.stdout.partition("\n")
    run = json.loads(final)
    assert run["run_id"] == run_id
    assert run["status"] == "completed"
    assert run["outputs"]["summary"].endswith("flagged for non-compliance.")
    assert "completed 100% done" in started.stderr

    waited = runner.invoke(main, [*base, "wait", run_id, "--interval", "2"])
    assert (waited.exit_code, json.loads(waited.stdout)) == (0, run)
    status = runner.invoke(main, [*base, "status", run_id])
    assert json.loads(status.stdout) == run

    impatient = runner.invoke(main, [*base, "wait", run_id, "--interval", "0.1"])
    assert impatient.exit_code == 2
    assert "0.1 is not in the range 2<=x<=5" in impatient.stderr
    refused = runner.invoke(
        main, [*base, "start", examples["workflow_id"], "--input", "start_date=soon", "--input", "end_date=2026-04-08"]
    )
    assert refused.exit_code == 1
    assert "422 validation_error" in refused.stderr
    assert "/inputs/start_date: must be a date written YYYY-MM-DD" in refused.stderr
    assert "/project_id: is required" in refused.stderr


def test_a_step_result_over_the_cap_fails_the_run_naming_the_step_once(
    client: TestClient, caller: Caller, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "MAX_RESULT_BYTES", 600)  # arguments fit; six documents do not
    workflow_id = import_source(settings.database_url, caller, EXAMPLE.read_text())
    project_id = demo_project(client, caller)

    run_id = start(client, caller, workflow_id, {"inputs": this_week(), "project_id": project_id}).json()["run_id"]
    ended = finished(client, caller, run_id)

    assert (ended["status"], ended["error_code"]) == ("failed", "step_result_too_large")
    assert ended["error_message"].count("Step '") == 1, ended["error_message"]
