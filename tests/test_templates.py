"""Template fills through the API, on SQLite and PostgreSQL: what fills, what is refused, what is contained."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from docx import Document as WordDocument
from pypdf import PdfReader
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.app import create_app
from gateway.cli import DEMO_TEMPLATE, create_demo_documents
from gateway.contract import load_contract
from storage.blobs import blob_store_for
from storage.database import session_scope
from storage.demo import ensure_demo_key
from storage.models import TERMINAL_STATUSES, Mode, Role, TemplateFill
from tests import samples
from tests.conftest import Caller, Tenants, wait_for
from tests.test_vault import ingest

FILLS = "/api/v2/templates/fill"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Tight render limits, so a runaway template is stopped within the test's patience.
    return Settings(
        database_url=database_url,
        validate_responses=True,
        blob_dir=tmp_path / "blobs",
        render_timeout_seconds=4.0,
        render_memory_bytes=768 * 1024 * 1024,
        upload_limits={"templates.start_fill": 2 * 1024 * 1024},
    )


def template(
    paragraphs: list[str],
    *,
    table: list[list[str]] | None = None,
    footer: str | None = None,
    title: str | None = None,
) -> bytes:
    """A DOCX template: each paragraph, then a table (each row a list of cell texts)."""
    return samples.docx(paragraphs, table=table, footer=footer, title=title)


def start(client: TestClient, caller: Caller, data: bytes, name: str = "template.docx", **fields: str) -> Any:
    return client.post(FILLS, files={"file": (name, data)}, data=fields, headers=caller.headers)


def settled(client: TestClient, caller: Caller, job_id: str, timeout: float = 60) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        fill: dict[str, Any] = client.get(f"{FILLS}/{job_id}", headers=caller.headers).json()
        return fill if fill["status"] in TERMINAL_STATUSES else None

    return wait_for(finished, timeout=timeout, interval=0.1)


def fill(client: TestClient, caller: Caller, data: bytes, **fields: str) -> dict[str, Any]:
    response = start(client, caller, data, **fields)
    assert response.status_code == 202, response.text
    return settled(client, caller, response.json()["job_id"])


def download(client: TestClient, url: str) -> bytes:
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200, response.text
    return response.content


def filled_document(client: TestClient, finished: dict[str, Any]) -> Any:
    assert finished["status"] == "completed", finished
    return WordDocument(io.BytesIO(download(client, finished["filled_download_url"])))


def texts(document: Any) -> list[str]:
    return [paragraph.text for paragraph in document.paragraphs]


def rows(document: Any, table: int = 0) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in document.tables[table].rows]


def project_with(client: TestClient, caller: Caller, name: str, files: dict[str, tuple[bytes, str]]) -> str:
    """A project holding ready documents: file name → (content, metadata JSON)."""
    project_id: str = client.post("/api/v2/projects", json={"name": name}, headers=caller.headers).json()["id"]
    for filename, (content, metadata) in files.items():
        assert ingest(client, caller, filename, content, project_id=project_id, metadata=metadata)["status"] == "ready"
    return project_id


def test_a_fill_answers_202_with_a_location_and_completes_with_a_vault_document(
    client: TestClient, caller: Caller
) -> None:
    project_id = project_with(client, caller, "Tower", {"a.md": (b"# Anchors\n\nStatus: Approved.\n", "{}")})
    response = start(
        client, caller, template(["{{ project.name }}: {{ documents[0].fields.status }}"]), project_id=project_id
    )
    assert response.status_code == 202
    started = response.json()
    assert started == {"job_id": started["job_id"], "status": "pending"}
    assert response.headers["location"] == f"{FILLS}/{started['job_id']}"

    finished = settled(client, caller, started["job_id"])
    assert (finished["progress"], finished["progress_stage"], finished["error_code"]) == (100, "done", None)
    assert finished["started_at"] <= finished["completed_at"]
    assert texts(filled_document(client, finished)) == ["Tower: Approved"]

    # The filled DOCX is the caller's document, in the project, ingested like any upload.
    document_id = finished["filled_document_id"]
    stored = wait_for(
        lambda: (
            (d := client.get(f"/api/v2/vault/documents/{document_id}", headers=caller.headers).json())["status"]
            == "ready"
            and d
        )
    )
    assert stored["project_id"] == project_id
    assert stored["filename"] == "template-filled.docx"
    assert stored["metadata"] == {"template_fill_id": started["job_id"]}
    text = client.get(f"/api/v2/vault/documents/{document_id}/text", headers=caller.headers).json()["text"]
    assert "Tower: Approved" in text


def test_the_example_template_fills_from_the_demo_project(settings: Settings, tmp_path: Path) -> None:
    # The shipped template is what its script builds.
    spec = importlib.util.spec_from_file_location(
        "make_submittal_review", DEMO_TEMPLATE.with_name("make_submittal_review.py")
    )
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert _parts(script.build()) == _parts(DEMO_TEMPLATE.read_bytes())

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        with session_scope(settings.database_url) as session:
            key = ensure_demo_key(session, None, load_contract().scopes)
        _tenant, project_id = create_demo_documents(settings)
        demo = Caller(key, uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
        wait_for(
            lambda: all(
                d["status"] == "ready"
                for d in client.get("/api/v2/vault/documents", headers=demo.headers).json()["data"]
            ),
            timeout=60,
        )
        finished = fill(client, demo, DEMO_TEMPLATE.read_bytes(), project_id=str(project_id))
        data = download(client, finished["filled_download_url"])

    document = WordDocument(io.BytesIO(data))
    today = datetime.now(UTC).date()
    body = texts(document)
    assert body[0] == "Submittal review: Riverside Tower"
    assert f"Review date: {today.strftime('%d %B %Y')}" in body
    assert "Submittals in this review: 5" in body
    findings = "\n".join(body)
    assert "Substitution requested: the specified closers are back-ordered" in findings
    assert "VOC content of 310 g/L" in findings
    schedule = rows(document)
    assert schedule[0] == ["No.", "Submittal", "Submitted by", "Spec section", "Discipline"]
    assert [row[0] for row in schedule[1:]] == ["014", "015", "016", "017", "018"]
    assert schedule[1][1:] == ["Submittal 014: Curtain wall anchors", "Northwall Glazing", "08 44 13", "facade"]
    assert schedule[3][2] == "Keystone Door & Hardware"
    # The template's formatting survives: its table style, bold header row, headings, header and footer.
    table_style, heading_style = document.tables[0].style, document.paragraphs[0].style
    assert table_style is not None
    assert table_style.name == "Table Grid"
    assert all(run.bold for run in document.tables[0].rows[0].cells[0].paragraphs[0].runs)
    assert heading_style is not None
    assert heading_style.name == "Heading 1"
    assert document.sections[0].header.paragraphs[0].text == "Riverside Tower · Submittal review"
    assert document.sections[0].footer.paragraphs[0].text.startswith(f"Prepared {today.strftime('%d %B %Y')}")
    assert document.core_properties.title == "Submittal review: Riverside Tower"

    # And it opens in LibreOffice: converted to PDF, the filled values and rows are on the page.
    (tmp_path / "filled.docx").write_bytes(data)
    converted = subprocess.run(
        [
            "libreoffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "filled.docx"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert converted.returncode == 0, converted.stderr
    # Words only: a narrow table column wraps "Northwall Glazing" onto two lines.
    page_text = " ".join(" ".join(page.extract_text() for page in PdfReader(tmp_path / "filled.pdf").pages).split())
    for value in ("Riverside Tower", "Northwall Glazing", "Ironline Fabricators", "05 12 00", "Curtain wall anchors"):
        assert value in page_text


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_vault_text_with_markup_characters_comes_out_literally(client: TestClient, caller: Caller) -> None:
    text = 'Fasteners & anchors <galvanized> "hot-dip" at 5 > 3 & 2 < 4; </w:t><w:t>no injection'
    project_id = project_with(client, caller, "Tower", {"note.txt": (text.encode(), "{}")})
    finished = fill(
        client,
        caller,
        template(
            ["{{ documents[0].text }}"],
            table=[["{{ documents[0].title }} & {{ project.name }}"]],
            footer="{{ documents[0].text }}",
        ),
        project_id=project_id,
    )
    document = filled_document(client, finished)
    assert texts(document)[0] == text
    assert rows(document) == [["note & Tower"]]
    assert document.sections[0].footer.paragraphs[0].text == text


@pytest.mark.parametrize(
    ("where", "payload", "code"),
    [
        ("body", "{{ ask.__globals__['os'].system('touch MARKER') }}", "template_forbidden"),
        ("body", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "template_forbidden"),
        ("footer", "{{ search.__globals__.os.popen('touch MARKER').read() }}", "template_forbidden"),
        ("title", "{{ self.__init__.__globals__.__builtins__.open('MARKER', 'w') }}", "template_forbidden"),
        # The vault's objects are data: a key, never a method such as dict.update.
        ("body", "{{ project.update({'name': 'rewritten'}) }}", "template_undefined"),
        # Jinja's usual gadgets are not there at all.
        ("footer", "{{ lipsum.__globals__.os.popen('touch MARKER').read() }}", "template_undefined"),
        ("body", "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}", "template_forbidden"),
    ],
)
def test_template_injection_is_refused_by_the_sandbox(
    client: TestClient, caller: Caller, tmp_path: Path, where: str, payload: str, code: str
) -> None:
    marker = tmp_path / "pwned"
    payload = payload.replace("MARKER", str(marker))
    project_id = project_with(client, caller, "Tower", {})
    hostile = {
        "body": template([payload]),
        "footer": template(["fine"], footer=payload),
        "title": template(["fine"], title=payload),
    }[where]
    finished = fill(client, caller, hostile, project_id=project_id)
    assert (finished["status"], finished["error_code"]) == ("failed", code)
    label = {"body": "the document body, paragraph 1", "footer": "a footer", "title": "'title' property"}[where]
    assert label in finished["error_message"]
    assert not marker.exists()
    assert client.get("/api/v2/health").status_code == 200


@pytest.mark.parametrize(
    ("paragraph", "code", "message"),
    [
        (
            "{% autoescape false %}{{ documents[0].text }}{% endautoescape %}",
            "template_forbidden",
            "autoescape blocks are not allowed",
        ),
        ("{{ documents[0].text | e }}", "template_syntax_error", "No filter named 'e'"),
        ("{{ documents[0].text | safe }}", "template_syntax_error", "No filter named 'safe'"),
        ("{{ search('steel ' * 200) }}", "template_error", "search() takes at most 500 characters, not 1200"),
    ],
    ids=["autoescape_block", "escape_filter", "safe_filter", "long_query"],
)
def test_escaping_cannot_be_turned_off_and_calls_are_bounded(
    client: TestClient, caller: Caller, paragraph: str, code: str, message: str
) -> None:
    project_id = project_with(
        client, caller, "Tower", {"raw.txt": (b'<w:p/><w:fldSimple w:instr="INCLUDEPICTURE x"/>', "{}")}
    )
    finished = fill(client, caller, template([paragraph]), project_id=project_id)
    assert (finished["status"], finished["error_code"]) == ("failed", code)
    assert message in finished["error_message"]


def test_footnotes_are_filled_once_and_vault_text_in_them_stays_text(client: TestClient, caller: Caller) -> None:
    text = "{{ 7 * 7 }} & <b>bold</b>"
    project_id = project_with(client, caller, "Tower", {"note.txt": (text.encode(), "{}")})
    finished = fill(
        client, caller, samples.two_sections_with_footnote("{{ documents[0].text }}"), project_id=project_id
    )
    data = download(client, finished["filled_download_url"])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        footnotes = archive.read("word/footnotes.xml").decode()
    assert "{{ 7 * 7 }} &amp; &lt;b&gt;bold&lt;/b&gt;" in footnotes
    assert "49" not in footnotes


@pytest.mark.parametrize(
    ("payload", "code", "message"),
    [
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{{ a * b }}{% endfor %}{% endfor %}",
            "render_timeout",
            "stopped after 4 s",
        ),
        ("{{ 'x' * 4000000000 }}", "render_resource_limit", "needed more than 768 MiB"),
        (
            "{% set rows = [] %}{% for i in range(100000) %}{{ rows.append(i) }}{% endfor %}",
            "template_forbidden",
            "append",
        ),
    ],
    ids=["cpu_bomb", "memory_bomb", "mutation"],
)
def test_a_runaway_template_fails_its_fill_and_the_server_carries_on(
    client: TestClient, caller: Caller, payload: str, code: str, message: str
) -> None:
    project_id = project_with(client, caller, "Tower", {})
    finished = fill(client, caller, template(["Before", payload]), project_id=project_id)
    assert (finished["status"], finished["error_code"]) == ("failed", code)
    assert message in finished["error_message"]
    # The worker that ran it takes the next fill as if nothing happened.
    assert client.get("/api/v2/health").status_code == 200
    assert texts(
        filled_document(client, fill(client, caller, template(["{{ project.name }}"]), project_id=project_id))
    ) == ["Tower"]


@pytest.mark.parametrize(
    ("paragraphs", "code", "message"),
    [
        (
            ["Intro", "Dear {{ project.name ", "Regards"],
            "template_syntax_error",
            'Template syntax error in the document body, paragraph 2 ("Dear {{ project.name',
        ),
        (
            ["Intro", "Reviewer: {{ reviewer.name }}"],
            "template_undefined",
            "the document body, paragraph 2 (\"Reviewer: {{ reviewer.name }}\"): 'reviewer' is undefined",
        ),
        (
            ["{% for d in documents | required('Submittal schedule') %}{{ d.title }}{% endfor %}"],
            "table_fill_failed",
            "Unable to match any source document to the 'Submittal schedule' table.",
        ),
    ],
    ids=["syntax", "undefined", "required_table"],
)
def test_a_template_error_names_where_it_is(
    client: TestClient, caller: Caller, paragraphs: list[str], code: str, message: str
) -> None:
    project_id = project_with(client, caller, "Tower", {})
    finished = fill(client, caller, template(paragraphs), project_id=project_id)
    assert (finished["status"], finished["error_code"]) == ("failed", code)
    assert message in finished["error_message"]
    assert finished["filled_document_id"] is None
    assert finished["filled_download_url"] is None


def test_a_required_table_matching_nothing_fails_while_filling_tables(client: TestClient, caller: Caller) -> None:
    project_id = project_with(client, caller, "Tower", {"notes.txt": (b"Meeting notes.", '{"type": "meeting_notes"}')})
    schedule = [
        ["No.", "Title"],
        [
            "{%tr for d in documents | selectattr('metadata.type', 'equalto', 'submittal') | required('Submittal schedule') %}",
            "",
        ],
        ["{{ d.metadata.number }}", "{{ d.title }}"],
        ["{%tr endfor %}", ""],
    ]
    finished = fill(client, caller, template(["Review of {{ project.name }}"], table=schedule), project_id=project_id)
    assert finished["status"] == "failed"
    assert finished["error_code"] == "table_fill_failed"
    assert finished["error_message"] == "Unable to match any source document to the 'Submittal schedule' table."
    assert (finished["progress"], finished["progress_stage"]) == (60, "Filling tables")


def test_search_and_ask_see_only_the_fills_scope(client: TestClient, caller: Caller, tenants: Tenants) -> None:
    tower = project_with(
        client, caller, "Tower", {"steel.txt": (b"The steel is ASTM A992. The welds are inspected.", "{}")}
    )
    annex = project_with(
        client, caller, "Annex", {"roof.txt": (b"The roof membrane is TPO with a VOC content of 310 g/L.", "{}")}
    )
    stranger = tenants.caller()
    project_with(client, stranger, "Elsewhere", {"secret.txt": (b"The secret VOC content is 999 g/L.", "{}")})
    body = [
        "{{ ask('What grade is the steel?') }}",
        "{{ ask('What is the VOC content?') }}",
        "{{ ask('What grade is the steel?').citations[0].title }} p{{ ask('What grade is the steel?').citations[0].location.number }}",
        "{{ search('membrane') | length }} {{ search('steel', 1)[0].title }}",
    ]
    document = filled_document(client, fill(client, caller, template(body), project_id=tower))
    assert texts(document) == [
        "The steel is ASTM A992.",
        "The documents in scope do not answer this question.",
        "steel p1",
        "0 steel",
    ]
    # Naming documents narrows the scope further, within the same organization.
    annex_doc = client.get("/api/v2/vault/documents", params={"project_id": annex}, headers=caller.headers).json()
    narrowed = fill(
        client, caller, template(["{{ ask('What is the VOC content?') }}"]), document_ids=annex_doc["data"][0]["id"]
    )
    assert texts(filled_document(client, narrowed)) == ["The roof membrane is TPO with a VOC content of 310 g/L."]


def test_a_filled_documents_link_is_only_for_a_key_reading_the_vault(
    client: TestClient, caller: Caller, tenants: Tenants
) -> None:
    finished = fill(client, caller, template(["Hello"]))
    reader = tenants.caller(scopes=["templates:read"], organization_id=caller.organization_id)

    seen = client.get(f"{FILLS}/{finished['job_id']}", headers=reader.headers).json()

    assert seen["status"] == "completed"
    assert seen["filled_document_id"] == finished["filled_document_id"]
    assert seen["filled_download_url"] is None
    assert finished["filled_download_url"] is not None


def test_a_completed_fill_signs_a_fresh_link_on_every_call(client: TestClient, caller: Caller) -> None:
    finished = fill(client, caller, template(["Hello"]))
    first = parse_qs(urlsplit(finished["filled_download_url"]).query)
    time.sleep(1.1)
    again = client.get(f"{FILLS}/{finished['job_id']}", headers=caller.headers).json()
    second = parse_qs(urlsplit(again["filled_download_url"]).query)
    assert int(second["expires"][0]) > int(first["expires"][0])
    assert abs(int(second["expires"][0]) - (time.time() + 3600)) < 5
    assert second["signature"] != first["signature"]
    assert texts(filled_document(client, again)) == ["Hello"]


@pytest.mark.parametrize(
    ("name", "make", "status", "code"),
    [
        ("spec.pdf.docx", lambda: samples.pdf(["A PDF, renamed"]), 415, "unsupported_media_type"),
        ("notes.docx", lambda: b"Just text, named like a Word file.\n", 415, "unsupported_media_type"),
        ("macro.docx", samples.docm_renamed, 415, "unsupported_media_type"),
        ("legacy.doc", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048, 415, "unsupported_media_type"),
        ("bomb.docx", samples.zip_bomb_docx, 422, "unsafe_document"),
        ("xxe.docx", samples.xxe_docx, 422, "unsafe_document"),
        *[
            (f"{hiding}.docx", lambda prolog=prolog: samples.docx_with_hidden_dtd(prolog), 422, "unsafe_document")
            for hiding, prolog in samples.DTD_HIDING_PROLOGS.items()
        ],
        ("decoy.docx", samples.decoy_body_docx, 422, "unsafe_document"),
        (
            "beacon.docx",
            lambda: samples.docx_with_external_relationship("image", "http://tracker.example/p.png"),
            422,
            "unsafe_document",
        ),
        ("huge.docx", lambda: b"PK\x03\x04" + b"\x00" * (3 * 1024 * 1024), 413, "payload_too_large"),
    ],
    ids=[
        "pdf",
        "text",
        "docm",
        "legacy",
        "zip_bomb",
        "xxe",
        *samples.DTD_HIDING_PROLOGS,
        "decoy_body",
        "remote_image",
        "too_large",
    ],
)
def test_a_file_that_is_not_a_safe_docx_is_refused_and_nothing_is_stored(
    client: TestClient, caller: Caller, settings: Settings, name: str, make: Callable[[], bytes], status: int, code: str
) -> None:
    response = start(client, caller, make(), name=name)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["code"] == code
    if status == 415:
        assert problem["errors"] == [{"detail": problem["detail"], "pointer": "/file"}]
    assert client.get(FILLS, headers=caller.headers).json()["data"] == []
    assert not settings.blob_dir.exists() or not any(p.is_file() for p in settings.blob_dir.rglob("*"))
    assert client.get("/api/v2/health").status_code == 200


def test_scope_and_permission_errors(client: TestClient, caller: Caller, tenants: Tenants) -> None:
    ok = template(["{{ documents | length }}"])
    bad = start(client, caller, ok, document_ids=f"{uuid.uuid4()}, not-a-uuid")
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"detail": "'not-a-uuid' is not a UUID", "pointer": "/document_ids"}]

    assert start(client, caller, ok, project_id=str(uuid.uuid4())).json()["code"] == "not_found"
    unknown = start(client, caller, ok, document_ids=str(uuid.uuid4()))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")

    # Another organization's project and documents do not exist for this caller.
    stranger = tenants.caller()
    theirs = project_with(client, stranger, "Theirs", {"a.txt": (b"Their text.", "{}")})
    their_doc = client.get("/api/v2/vault/documents", headers=stranger.headers).json()["data"][0]["id"]
    assert start(client, caller, ok, project_id=theirs).status_code == 404
    assert start(client, caller, ok, document_ids=their_doc).status_code == 404

    mine = project_with(client, caller, "Mine", {"b.txt": (b"My text.", "{}")})
    other = project_with(client, caller, "Other", {"c.txt": (b"Other text.", "{}")})
    other_doc = client.get("/api/v2/vault/documents", params={"project_id": other}, headers=caller.headers).json()
    outside = start(client, caller, ok, project_id=mine, document_ids=other_doc["data"][0]["id"])
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["pointer"] == "/document_ids"

    member = tenants.caller(organization_id=caller.organization_id, role=Role.member, permissions=())
    denied = start(client, member, ok)
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    allowed = tenants.caller(organization_id=caller.organization_id, role=Role.member)
    assert start(client, allowed, ok).status_code == 202
    admin = tenants.caller(organization_id=caller.organization_id, role=Role.admin, permissions=())
    assert start(client, admin, ok).status_code == 202
    # A link someone may click is fine; only content Word would fetch on opening is refused.
    linked = samples.docx_with_external_relationship("hyperlink", "https://example.com/spec")
    assert start(client, caller, linked).status_code == 202
    reader = tenants.caller(scopes=["templates:read"])
    assert start(client, reader, ok).json()["code"] == "insufficient_scope"


def test_the_same_idempotency_key_starts_one_fill(client: TestClient, caller: Caller) -> None:
    headers = {**caller.headers, "Idempotency-Key": "submittal-review-2026-04-08"}
    data = template(["{{ today }}"])
    first = client.post(FILLS, files={"file": ("t.docx", data)}, headers=headers)
    second = client.post(FILLS, files={"file": ("t.docx", data)}, headers=headers)
    assert first.status_code == second.status_code == 202
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    listed = client.get(FILLS, headers=caller.headers).json()["data"]
    assert [f["job_id"] for f in listed] == [first.json()["job_id"]]


def test_another_tenants_fill_is_not_found(client: TestClient, caller: Caller, tenants: Tenants) -> None:
    job_id = start(client, caller, template(["x"])).json()["job_id"]
    for other in (tenants.caller(), tenants.caller(organization_id=caller.organization_id, mode=Mode.live)):
        assert client.get(f"{FILLS}/{job_id}", headers=other.headers).status_code == 404
        assert client.post(f"{FILLS}/{job_id}/cancel", headers=other.headers).status_code == 404
        assert client.get(FILLS, headers=other.headers).json()["data"] == []
    assert client.get(f"{FILLS}/{uuid.uuid4()}", headers=caller.headers).json()["code"] == "not_found"


@pytest.fixture
def idle_client(settings: Settings) -> Iterator[TestClient]:
    """A server with no job workers: fills stay pending."""
    with TestClient(create_app(settings.model_copy(update={"job_workers": 0})), raise_server_exceptions=False) as c:
        yield c


def test_a_pending_fill_is_cancelled_at_once_and_a_finished_one_is_a_conflict(
    idle_client: TestClient, caller: Caller
) -> None:
    job_id = start(idle_client, caller, template(["x"])).json()["job_id"]
    cancelled = idle_client.post(f"{FILLS}/{job_id}/cancel", headers=caller.headers)
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["error_code"]) == ("cancelled", "cancelled")
    again = idle_client.post(f"{FILLS}/{job_id}/cancel", headers=caller.headers)
    assert (again.status_code, again.json()["code"]) == (409, "conflict")


def test_cancelling_a_running_fill_stops_its_render(settings: Settings, caller: Caller) -> None:
    patient = settings.model_copy(update={"render_timeout_seconds": 60.0})
    with TestClient(create_app(patient), raise_server_exceptions=False) as client:
        loop = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
        job_id = start(client, caller, template([loop])).json()["job_id"]
        wait_for(
            lambda: (
                client.get(f"{FILLS}/{job_id}", headers=caller.headers).json()["progress_stage"]
                == "Filling narrative sections"
            )
        )
        asked = time.monotonic()
        assert client.post(f"{FILLS}/{job_id}/cancel", headers=caller.headers).status_code == 200
        finished = settled(client, caller, job_id, timeout=20)
        assert (finished["status"], finished["error_code"]) == ("cancelled", "cancelled")
        assert time.monotonic() - asked < 10


def test_fills_are_listed_newest_first_and_filtered_by_status(idle_client: TestClient, caller: Caller) -> None:
    started = [start(idle_client, caller, template([f"{n}"])).json()["job_id"] for n in range(3)]
    idle_client.post(f"{FILLS}/{started[0]}/cancel", headers=caller.headers)
    page = idle_client.get(FILLS, params={"limit": 2}, headers=caller.headers).json()
    assert [f["job_id"] for f in page["data"]] == started[:0:-1]
    rest = idle_client.get(FILLS, params={"limit": 2, "cursor": page["next_cursor"]}, headers=caller.headers).json()
    assert ([f["job_id"] for f in rest["data"]], rest["has_more"]) == ([started[0]], False)
    cancelled = idle_client.get(FILLS, params={"status": "cancelled"}, headers=caller.headers).json()["data"]
    assert [f["job_id"] for f in cancelled] == [started[0]]


def test_a_fill_whose_stored_template_is_gone_fails_saying_so(settings: Settings, caller: Caller) -> None:
    with TestClient(create_app(settings.model_copy(update={"job_workers": 0})), raise_server_exceptions=False) as idle:
        job_id = start(idle, caller, template(["Hello"])).json()["job_id"]
    with session_scope(settings.database_url) as session:
        key = session.get_one(TemplateFill, uuid.UUID(job_id)).template_blob_key
    blob_store_for(settings).delete(key)

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        finished = settled(client, caller, job_id)

    assert (finished["status"], finished["error_code"]) == ("failed", "file_missing")
    assert finished["error_message"] == "The template's stored file is gone; upload it again."
