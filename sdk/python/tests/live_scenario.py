"""A client's day against a live gateway, through the installed SDK only (driven by the repository's
tests/test_sdk.py): `python live_scenario.py <api root> <api key> <repository root>`."""

from __future__ import annotations

import datetime
import io
import json
import sys
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx

import vaultgate_client
import vaultgate_client_ext
from vaultgate_client.api.templates import templates_start_fill
from vaultgate_client.api.vault import (
    vault_create_project,
    vault_get_document,
    vault_list_documents,
    vault_search,
    vault_upload_document,
)
from vaultgate_client.api.workflows import workflows_list, workflows_run
from vaultgate_client.models import (
    ChatCitation,
    ChatDeltaEvent,
    ChatDoneEvent,
    ChatProgressEvent,
    ChatQuestion,
    Document,
    DocumentStatus,
    DocumentUpload,
    JobStatus,
    Project,
    ProjectCreate,
    SearchResults,
    TemplateFillStarted,
    TemplateFillUpload,
    WorkflowRunRequest,
    WorkflowRunRequestInputs,
    WorkflowRunStarted,
)
from vaultgate_client.types import File
from vaultgate_client_ext import Problem, ResilientTransport, connect, download, paginate, stream_chat, wait
from vaultgate_client_ext.chat import server_sent_events
from vaultgate_client_ext.transport import retry_delay

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def check_installed_copy_is_used() -> None:
    for package in (vaultgate_client, vaultgate_client_ext):
        location = Path(package.__file__ or "")
        assert location.is_relative_to(sys.prefix), f"{package.__name__} imported from {location}, not {sys.prefix}"


def check_transport_offline() -> None:
    """Retries and keys against a scripted server: a 429 then a 201 is one logical call with one key."""
    keys: list[str] = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(201, json={})] * 2)

    def handle(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        return next(answers)

    slept: list[float] = []
    transport = ResilientTransport(httpx.MockTransport(handle), sleep=slept.append)
    with httpx.Client(transport=transport, base_url="http://gateway") as client:
        assert client.post("/vault/projects", json={}).status_code == 201
        assert client.post("/vault/projects", json={}).status_code == 201
    assert slept == [7.0, 7.0], slept
    assert keys[0] == keys[1] != keys[2] == keys[3], keys

    attempts: list[httpx.Request] = []

    def unavailable(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        return httpx.Response(503, headers={"Content-Type": "application/problem+json"}, json={"code": "busy"})

    busy = ResilientTransport(httpx.MockTransport(unavailable), sleep=slept.append)
    problem = problem_of(lambda: httpx.Client(transport=busy).get("http://gateway/meta/health"))
    assert (problem.status, problem.code, len(attempts)) == (503, "busy", 3), (problem, attempts)
    assert problem.retry_after is None, problem.retry_after
    assert "Idempotency-Key" not in attempts[0].headers  # a read needs none


def check_event_stream_offline() -> None:
    """Keep-alive comments are skipped, multi-line data is joined, an event ends at a blank line."""
    lines = [": ping", "event: delta", 'data: {"text":', 'data: "a"}', "", ": ping", "data: x", "", "event: done"]
    assert list(server_sent_events(iter(lines))) == [("delta", '{"text":\n"a"}'), ("message", "x")]
    assert retry_delay(httpx.Response(429, headers={"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}), 1) == 0.0
    assert retry_delay(httpx.Response(503), 3) == 4.0


def problem_of(call: Callable[[], object]) -> Problem:
    try:
        call()
    except Problem as problem:
        return problem
    raise AssertionError("the call did not raise Problem")


def main(base_url: str, api_key: str, repository: Path) -> None:
    check_installed_copy_is_used()
    check_transport_offline()
    check_event_stream_offline()
    client = connect(base_url, api_key)

    project = vault_create_project.sync(client=client, body=ProjectCreate(name="SDK tower"))
    assert isinstance(project, Project), project

    demo = repository / "examples" / "demo"
    metadata = json.loads((demo / "metadata.json").read_text())
    uploaded: list[Document] = []
    for name in ("submittal-014-curtain-wall-anchors.md", "submittal-016-fire-doors.md"):
        upload = DocumentUpload(
            file=File(payload=io.BytesIO((demo / name).read_bytes()), file_name=name, mime_type="text/markdown"),
            project_id=project.id,
            metadata=json.dumps(metadata[name]),
        )
        document = vault_upload_document.sync(client=client, body=upload)
        assert isinstance(document, Document), document
        uploaded.append(wait(client, document))
    assert [document.status for document in uploaded] == [DocumentStatus.READY] * 2, uploaded
    anchors = uploaded[0]

    results = vault_search.sync(client=client, q="galvanized anchors", project_id=project.id)
    assert isinstance(results, SearchResults), results
    assert results.data[0].document_id == anchors.id, results

    workflow = next(w for w in paginate(workflows_list.sync, client=client) if w.name == "Weekly submittal review")
    today = datetime.datetime.now(datetime.UTC).date()
    days = {"start_date": today - datetime.timedelta(days=1), "end_date": today + datetime.timedelta(days=1)}
    inputs = WorkflowRunRequestInputs.from_dict({name: day.isoformat() for name, day in days.items()})
    started = workflows_run.sync(
        workflow.id, client=client, body=WorkflowRunRequest(inputs=inputs, project_id=project.id)
    )
    assert isinstance(started, WorkflowRunStarted), started
    run = wait(client, started)
    assert run.status == JobStatus.COMPLETED, (run.status, run.error_code, run.error_message)
    assert run.outputs is not None
    assert "2 submittals reviewed" in run.outputs.to_dict()["summary"], run.outputs

    template = (repository / "examples" / "templates" / "submittal-review.docx").read_bytes()
    fill_upload = TemplateFillUpload(
        file=File(payload=io.BytesIO(template), file_name="submittal-review.docx", mime_type=DOCX),
        project_id=project.id,
    )
    fill_started = templates_start_fill.sync(client=client, body=fill_upload)
    assert isinstance(fill_started, TemplateFillStarted), fill_started
    fill = wait(client, fill_started)
    assert fill.status == JobStatus.COMPLETED, (fill.error_code, fill.error_message)
    assert isinstance(fill.filled_download_url, str), fill
    with zipfile.ZipFile(io.BytesIO(download(client, fill.filled_download_url))) as filled:
        body = filled.read("word/document.xml").decode()
    assert "Submittal review: SDK tower" in body, body[:2000]
    assert "Northwall Glazing" in body, body[:2000]

    # The filled document joins the project: three documents, one per page.
    listed = [d.id for d in paginate(vault_list_documents.sync, client=client, limit=1, project_id=project.id)]
    assert len(listed) == len(set(listed)) == 3, listed
    assert {d.id for d in uploaded} < set(listed), listed

    question = ChatQuestion(question="What grade are the curtain wall anchors?", document_ids=[anchors.id])
    events = list(stream_chat(client, question))
    assert isinstance(events[0], ChatProgressEvent), events
    assert isinstance(events[-1], ChatDoneEvent), events
    assert events[-1].answered, events
    assert any(isinstance(e, ChatDeltaEvent) and "galvanized" in e.text for e in events), events
    assert any(isinstance(e, ChatCitation) and e.document_id == anchors.id for e in events), events

    missing = problem_of(lambda: vault_get_document.sync(uuid.uuid4(), client=client))
    assert (missing.status, missing.code) == (404, "not_found"), missing
    assert missing.request_id.startswith("req_"), missing.request_id
    invalid = problem_of(lambda: next(paginate(vault_list_documents.sync, client=client, limit=1000)))
    assert (invalid.status, invalid.code) == (400, "validation_error"), invalid
    assert [error.parameter for error in invalid.errors] == ["limit"], invalid.body
    print("sdk scenario passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
