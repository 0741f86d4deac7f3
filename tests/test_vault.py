"""Projects, documents and search through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.app import create_app
from gateway.signed_urls import sign_download
from storage.database import session_scope
from storage.models import Document, Job, Mode
from tests import samples
from tests.conftest import Caller, Tenants, wait_for

DOCUMENTS = "/api/v2/vault/documents"


def upload(client: TestClient, caller: Caller, name: str, data: bytes, **fields: str) -> Any:
    return client.post(DOCUMENTS, files={"file": (name, data)}, data=fields, headers=caller.headers)


def settled(client: TestClient, caller: Caller, document_id: str) -> dict[str, Any]:
    """The document once ingestion has finished, one way or the other."""

    def finished() -> dict[str, Any] | None:
        document: dict[str, Any] = client.get(f"{DOCUMENTS}/{document_id}", headers=caller.headers).json()
        return document if document["status"] in ("ready", "failed") else None

    return wait_for(finished, timeout=60)


def ingest(client: TestClient, caller: Caller, name: str, data: bytes, **fields: str) -> dict[str, Any]:
    response = upload(client, caller, name, data, **fields)
    assert response.status_code == 202, response.text
    return settled(client, caller, response.json()["id"])


def search(client: TestClient, caller: Caller, q: str, **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/v2/vault/search", params={"q": q, **params}, headers=caller.headers)
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["data"]
    return hits


def test_projects_are_created_listed_and_unique_by_name(client: TestClient, caller: Caller, tenants: Tenants) -> None:
    created = client.post("/api/v2/projects", json={"name": "Riverside Tower"}, headers=caller.headers)
    assert created.status_code == 201
    project = created.json()
    assert created.headers["location"] == f"/api/v2/projects/{project['id']}"
    assert client.get(f"/api/v2/projects/{project['id']}", headers=caller.headers).json() == project
    assert client.get("/api/v2/projects", headers=caller.headers).json()["data"] == [project]

    again = client.post("/api/v2/projects", json={"name": "Riverside Tower"}, headers=caller.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"

    stranger = tenants.caller()
    assert client.get(f"/api/v2/projects/{project['id']}", headers=stranger.headers).status_code == 404
    assert client.get("/api/v2/projects", headers=stranger.headers).json()["data"] == []


def test_pdf_docx_and_text_are_ingested_and_found_where_they_say(client: TestClient, caller: Caller) -> None:
    project = client.post("/api/v2/projects", json={"name": "Tower"}, headers=caller.headers).json()
    pdf = samples.pdf(["Cover sheet", "Anchors are hot-dip galvanized to ASTM A123."], title="Anchor submittal")
    word = samples.docx(
        ["Scope of work", "The membrane is fully adhered."],
        title="Roofing spec",
        table=[["Item", "Status"], ["Sealant", "rejected for VOC content"]],
        header="Issued for construction",
        footer="Page footer note",
        content_control="Reviewer signed by Ada",
    )
    text = "Meeting notes\n\nThe curtain wall mockup passed the water test.\n".encode("utf-16")

    ready = {
        "pdf": ingest(client, caller, "anchors.pdf", pdf, project_id=project["id"], metadata='{"discipline": "steel"}'),
        "docx": ingest(client, caller, "roof.docx", word, project_id=project["id"]),
        "txt": ingest(client, caller, "notes.txt", text),
    }

    assert [d["status"] for d in ready.values()] == ["ready"] * 3, ready
    assert ready["pdf"]["title"] == "Anchor submittal"
    assert ready["pdf"]["page_count"] == 2
    assert ready["pdf"]["metadata"] == {"discipline": "steel"}
    assert ready["docx"]["title"] == "Roofing spec"
    assert ready["txt"]["title"] == "notes"
    assert ready["txt"]["content_type"] == "text/plain"

    def where(q: str) -> list[tuple[str, dict[str, Any]]]:
        return [(hit["document_id"], hit["location"]) for hit in search(client, caller, q)]

    assert where('"hot-dip galvanized"') == [(ready["pdf"]["id"], {"type": "page", "number": 2})]
    assert where("membrane adhered") == [(ready["docx"]["id"], {"type": "paragraph", "number": 2})]
    assert where("sealant VOC") == [(ready["docx"]["id"], {"type": "paragraph", "number": 4})]
    assert where("reviewer Ada") == [(ready["docx"]["id"], {"type": "paragraph", "number": 5})]
    assert where("construction")[0][0] == ready["docx"]["id"]
    assert where("footer note")[0][0] == ready["docx"]["id"]
    assert where("mockup water") == [(ready["txt"]["id"], {"type": "paragraph", "number": 2})]
    # Stemming: the plural finds the singular.
    assert where("mockups")[0][0] == ready["txt"]["id"]

    in_project = {hit["document_id"] for hit in search(client, caller, "the", project_id=project["id"])}
    assert ready["txt"]["id"] not in in_project
    only_pdf = search(client, caller, "anchors OR membrane", document_ids=ready["pdf"]["id"])
    assert {hit["document_id"] for hit in only_pdf} <= {ready["pdf"]["id"]}

    assert search(client, caller, "?!…") == []  # no words, nothing to match
    hit = search(client, caller, "galvanized")[0]
    assert hit["title"] == "Anchor submittal"
    assert "galvanized" in hit["snippet"]

    body = client.get(f"{DOCUMENTS}/{ready['txt']['id']}/text", headers=caller.headers).json()
    assert body["text"] == "Meeting notes\n\nThe curtain wall mockup passed the water test."
    second = body["segments"][1]
    assert body["text"][second["start"] : second["end"]] == "The curtain wall mockup passed the water test."


def test_download_link_returns_the_same_bytes_and_refuses_tampering_and_expiry(
    client: TestClient, caller: Caller, settings: Settings
) -> None:
    data = samples.pdf(["Bytes must survive the round trip"])
    document = ingest(client, caller, "round trip.pdf", data)
    link = client.get(f"{DOCUMENTS}/{document['id']}/download", headers=caller.headers)
    assert link.status_code == 200
    url = link.json()["download_url"]

    fetched = client.get(url)  # no Authorization: the signature is the credential
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["content-type"] == "application/pdf"
    assert "attachment" in fetched.headers["content-disposition"]

    query = parse_qs(urlsplit(url).query)
    path = urlsplit(url).path
    tampered = client.get(path, params={"expires": int(query["expires"][0]) + 3600, "signature": query["signature"][0]})
    assert tampered.status_code == 403
    assert tampered.json()["code"] == "invalid_signature"

    secret = settings.instance_key().derive("download")
    past = 1_700_000_000
    expired = client.get(
        path, params={"expires": past, "signature": sign_download(secret, uuid.UUID(document["id"]), past)}
    )
    assert expired.status_code == 403
    assert "expired" in expired.json()["detail"]


@pytest.mark.parametrize(
    ("name", "make", "status", "code"),
    [
        ("bomb.docx", samples.zip_bomb_docx, 422, "unsafe_document"),
        ("xxe.docx", samples.xxe_docx, 422, "unsafe_document"),
        *[
            (f"{hiding}.docx", lambda prolog=prolog: samples.docx_with_hidden_dtd(prolog), 422, "unsafe_document")
            for hiding, prolog in samples.DTD_HIDING_PROLOGS.items()
        ],
        ("decoy.docx", samples.decoy_body_docx, 422, "unsafe_document"),
        ("corrupt.docx", samples.corrupt_docx, 422, "unsafe_document"),
        ("macro.docx", samples.docm_renamed, 415, "unsupported_media_type"),
        ("legacy.docx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048, 415, "unsupported_media_type"),
        ("image.pdf", lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, 415, "unsupported_media_type"),
        ("empty.txt", lambda: b"", 415, "unsupported_media_type"),
    ],
)
def test_hostile_or_foreign_uploads_are_refused_and_store_nothing(
    client: TestClient, caller: Caller, settings: Settings, name: str, make: Any, status: int, code: str
) -> None:
    response = upload(client, caller, name, make())

    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["pointer"] == "/file"
    assert client.get(DOCUMENTS, headers=caller.headers).json()["data"] == []
    assert not [p for p in settings.blob_dir.rglob("*") if p.is_file()]
    assert client.get("/api/v2/health").status_code == 200


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (samples.encrypted_pdf(["classified"]), "pdf_encrypted"),
        (samples.pdf(["a page that will be cut off " * 40] * 3)[:900], "pdf_unreadable"),
    ],
    ids=["encrypted", "truncated"],
)
def test_pdfs_only_extraction_can_judge_end_failed_with_a_code(
    client: TestClient, caller: Caller, data: bytes, code: str
) -> None:
    document = ingest(client, caller, "broken.pdf", data)

    assert document["status"] == "failed"
    assert document["error_code"] == code
    assert document["error_message"]
    assert client.get(f"{DOCUMENTS}/{document['id']}/text", headers=caller.headers).status_code == 409
    healthy = ingest(client, caller, "fine.txt", b"still working")
    assert healthy["status"] == "ready"


def test_deleted_documents_answer_404_and_leave_search(client: TestClient, caller: Caller) -> None:
    document = ingest(client, caller, "gone.txt", b"ephemeral zeppelin")
    link = client.get(f"{DOCUMENTS}/{document['id']}/download", headers=caller.headers).json()["download_url"]
    assert search(client, caller, "zeppelin")

    deleted = client.delete(f"{DOCUMENTS}/{document['id']}", headers=caller.headers)

    assert deleted.status_code == 204
    assert deleted.content == b""
    for suffix in ("", "/text", "/download"):
        assert client.get(f"{DOCUMENTS}/{document['id']}{suffix}", headers=caller.headers).status_code == 404
    assert client.delete(f"{DOCUMENTS}/{document['id']}", headers=caller.headers).status_code == 404
    assert search(client, caller, "zeppelin") == []
    assert client.get(link).status_code == 404
    assert client.get(DOCUMENTS, headers=caller.headers).json()["data"] == []


def test_documents_are_private_to_their_organization_and_mode(client: TestClient, tenants: Tenants) -> None:
    owner = tenants.caller()
    document = ingest(client, owner, "secret.txt", b"quarterly margin figures")
    live_twin = tenants.caller(mode=Mode.live, organization_id=owner.organization_id)
    stranger = tenants.caller()

    for other in (live_twin, stranger):
        assert client.get(f"{DOCUMENTS}/{document['id']}", headers=other.headers).status_code == 404
        assert client.delete(f"{DOCUMENTS}/{document['id']}", headers=other.headers).status_code == 404
        assert search(client, other, "margin") == []
        foreign = client.get(
            "/api/v2/vault/search", params={"q": "margin", "document_ids": document["id"]}, headers=other.headers
        )
        assert foreign.status_code == 404
    assert search(client, owner, "margin")[0]["document_id"] == document["id"]


def test_list_filters_by_project_status_and_time(client: TestClient, caller: Caller) -> None:
    project = client.post("/api/v2/projects", json={"name": "P"}, headers=caller.headers).json()
    inside = ingest(client, caller, "in.txt", b"inside", project_id=project["id"])
    outside = ingest(client, caller, "out.txt", b"outside")
    failed = ingest(client, caller, "bad.pdf", samples.encrypted_pdf(["x"]))

    def ids(**params: str) -> list[str]:
        response = client.get(DOCUMENTS, params=params, headers=caller.headers)
        assert response.status_code == 200, response.text
        return [d["id"] for d in response.json()["data"]]

    assert ids() == [failed["id"], outside["id"], inside["id"]]
    assert ids(project_id=project["id"]) == [inside["id"]]
    assert ids(status="failed") == [failed["id"]]
    assert ids(created_after=outside["created_at"]) == [failed["id"], outside["id"]]
    assert ids(created_before=outside["created_at"]) == [inside["id"]]

    first = client.get(DOCUMENTS, params={"limit": 1, "status": "ready"}, headers=caller.headers).json()
    rest = client.get(
        DOCUMENTS, params={"limit": 1, "status": "ready", "cursor": first["next_cursor"]}, headers=caller.headers
    )
    assert [d["id"] for d in first["data"] + rest.json()["data"]] == [outside["id"], inside["id"]]
    other_filter = client.get(DOCUMENTS, params={"limit": 1, "cursor": first["next_cursor"]}, headers=caller.headers)
    assert other_filter.status_code == 400
    assert other_filter.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("metadata", "detail"),
    [("not json", "JSON object"), ("[1, 2]", "JSON object"), ('{"a":' * 10 + "1" + "}" * 10, "deep")],
)
def test_bad_metadata_is_a_422_naming_the_field(client: TestClient, caller: Caller, metadata: str, detail: str) -> None:
    response = upload(client, caller, "m.txt", b"text", metadata=metadata)

    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/metadata"
    assert detail in response.json()["errors"][0]["detail"]
    assert client.get(DOCUMENTS, headers=caller.headers).json()["data"] == []


def test_unknown_project_is_a_404_and_stores_nothing(client: TestClient, caller: Caller, settings: Settings) -> None:
    response = upload(client, caller, "a.txt", b"text", project_id=str(uuid.uuid4()))

    assert response.status_code == 404
    assert client.get(DOCUMENTS, headers=caller.headers).json()["data"] == []
    assert not [p for p in settings.blob_dir.rglob("*") if p.is_file()]


def test_the_same_idempotency_key_uploads_once(client: TestClient, caller: Caller) -> None:
    headers = {**caller.headers, "Idempotency-Key": "upload-1"}
    first = client.post(DOCUMENTS, files={"file": ("a.txt", b"once")}, headers=headers)
    second = client.post(DOCUMENTS, files={"file": ("a.txt", b"once")}, headers=headers)

    assert first.status_code == second.status_code == 202
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert len(client.get(DOCUMENTS, headers=caller.headers).json()["data"]) == 1


def test_uploads_over_the_cap_are_refused_before_they_are_read(
    database_url: str, tmp_path: Any, tenants: Tenants
) -> None:
    settings = Settings(database_url=database_url, blob_dir=tmp_path / "blobs", max_upload_bytes=1024 * 1024)
    caller = tenants.caller()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = upload(client, caller, "big.txt", b"a" * (2 * 1024 * 1024))

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_deleting_a_document_while_its_ingestion_records_progress_does_not_deadlock(
    settings: Settings, caller: Caller
) -> None:
    idle = settings.model_copy(update={"job_workers": 0})
    with TestClient(create_app(idle), raise_server_exceptions=False) as client:
        document = upload(client, caller, "notes.txt", b"Meeting notes.").json()
        with session_scope(settings.database_url) as session:
            job_id = session.get_one(Document, uuid.UUID(document["id"])).job_id
        answers: list[Any] = []
        # As a worker checkpoints: the job's row, then (a moment later) the document's, in one transaction.
        with session_scope(settings.database_url) as worker:
            worker.execute(update(Job).where(Job.id == job_id).values(stage="Indexing for search"))
            deleting = threading.Thread(
                target=lambda: answers.append(client.delete(f"{DOCUMENTS}/{document['id']}", headers=caller.headers))
            )
            deleting.start()
            time.sleep(0.5)
            worker.execute(update(Document).where(Document.id == uuid.UUID(document["id"])).values(progress=90))
        deleting.join(30)
        assert [answer.status_code for answer in answers] == [204]
        assert client.get(f"{DOCUMENTS}/{document['id']}", headers=caller.headers).status_code == 404
