"""The `fill_template` workflow step: a template stored in the vault, filled from the run's documents."""

from __future__ import annotations

import io
from typing import Any

from docx import Document as WordDocument
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.cli import DEMO_TEMPLATE
from storage.models import Role
from tests import samples
from tests.conftest import Caller, Tenants, wait_for
from tests.test_templates import download, rows
from tests.test_vault import ingest
from tests.test_workflows import demo_project, finished, import_source, start, status

REVIEW = """
name: Submittal review document
requires_project: true
inputs:
  template: {type: string, required: true, description: The template's document id.}
steps:
  - id: submittals
    name: Collecting submittals
    action: select_documents
    with: {metadata: {type: submittal}}
  - id: review
    name: Filling the review
    action: fill_template
    with:
      template: "{{ inputs.template }}"
      documents: "{{ steps.submittals.documents }}"
outputs:
  document_id: "{{ steps.review.document_id }}"
  filename: "{{ steps.review.filename }}"
"""


def run_review(client: TestClient, caller: Caller, settings: Settings, project_id: str, template_id: str) -> Any:
    workflow_id = import_source(settings.database_url, caller, REVIEW)
    response = start(client, caller, workflow_id, {"inputs": {"template": template_id}, "project_id": project_id})
    assert response.status_code == 202, response.text
    return finished(client, caller, response.json()["run_id"])


def test_a_step_fills_a_stored_template_from_the_documents_an_earlier_step_chose(
    client: TestClient, caller: Caller, settings: Settings
) -> None:
    project_id = demo_project(client, caller)
    template = ingest(client, caller, "submittal-review.docx", DEMO_TEMPLATE.read_bytes(), project_id=project_id)
    run = run_review(client, caller, settings, project_id, template["id"])
    assert run["status"] == "completed", run
    detail = client.get(f"/api/v2/workflows/{run['workflow_id']}", headers=caller.headers)
    assert [step["action"] for step in detail.json()["steps"]] == ["select_documents", "fill_template"]
    assert run["outputs"]["filename"] == "submittal-review-filled.docx"

    link = client.get(f"/api/v2/vault/documents/{run['outputs']['document_id']}/download", headers=caller.headers)
    document = WordDocument(io.BytesIO(download(client, link.json()["download_url"])))
    # The step's scope is the five submittals select_documents chose, not the whole project (six documents).
    assert document.core_properties.subject.startswith("5 documents reviewed on ")
    assert [row[0] for row in rows(document)[1:]] == ["014", "015", "016", "017", "018"]
    stored = client.get(f"/api/v2/vault/documents/{run['outputs']['document_id']}", headers=caller.headers).json()
    assert (stored["project_id"], stored["metadata"]) == (project_id, {"template_document_id": template["id"]})


def test_a_template_that_cannot_be_filled_fails_its_step_with_the_fills_code(
    client: TestClient, caller: Caller, settings: Settings
) -> None:
    project_id = client.post("/api/v2/projects", json={"name": "Empty"}, headers=caller.headers).json()["id"]
    strict = samples.docx(["{% for d in documents | required('Submittal schedule') %}{{ d.title }}{% endfor %}"])
    template = ingest(client, caller, "strict.docx", strict, project_id=project_id)
    run = run_review(client, caller, settings, project_id, template["id"])
    assert (run["status"], run["error_code"]) == ("failed", "table_fill_failed")
    assert run["error_message"] == (
        "Step 'Filling the review' (fill_template): "
        "Unable to match any source document to the 'Submittal schedule' table."
    )

    notes = ingest(client, caller, "notes.md", b"# Not a template\n", project_id=project_id)
    run = run_review(client, caller, settings, project_id, notes["id"])
    assert (run["status"], run["error_code"]) == ("failed", "template_not_docx")
    assert "is text/markdown, not a DOCX" in run["error_message"]


def test_a_run_fills_only_for_an_owner_who_may_fill_templates(
    client: TestClient, caller: Caller, tenants: Tenants, settings: Settings
) -> None:
    project_id = client.post("/api/v2/projects", json={"name": "Tower"}, headers=caller.headers).json()["id"]
    template = ingest(client, caller, "review.docx", samples.docx(["{{ project.name }}"]), project_id=project_id)
    member = tenants.caller(organization_id=caller.organization_id, role=Role.member, permissions=())
    run = run_review(client, member, settings, project_id, template["id"])
    assert (run["status"], run["error_code"]) == ("failed", "permission_denied")
    # Nothing was filled for them.
    listed = client.get("/api/v2/vault/documents", params={"project_id": project_id}, headers=caller.headers).json()
    assert [d["filename"] for d in listed["data"]] == ["review.docx"]


def test_a_cancelled_fill_step_stores_nothing(client: TestClient, caller: Caller, settings: Settings) -> None:
    project_id = client.post("/api/v2/projects", json={"name": "Tower"}, headers=caller.headers).json()["id"]
    endless = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    template = ingest(client, caller, "endless.docx", samples.docx([endless]), project_id=project_id)
    workflow_id = import_source(settings.database_url, caller, REVIEW)
    response = start(client, caller, workflow_id, {"inputs": {"template": template["id"]}, "project_id": project_id})
    run_id = response.json()["run_id"]
    wait_for(lambda: status(client, caller, run_id)["stage"] == "Filling the review")
    assert client.post(f"/api/v2/workflows/runs/{run_id}/cancel", headers=caller.headers).status_code == 200
    run = finished(client, caller, run_id)
    assert (run["status"], run["error_code"]) == ("cancelled", "cancelled")
    listed = client.get("/api/v2/vault/documents", params={"project_id": project_id}, headers=caller.headers).json()
    assert [d["filename"] for d in listed["data"]] == ["endless.docx"]
