"""Template fill figures: a 50-placeholder template with a 500-row table, from `templates.start_fill` to completed.

Each figure is printed next to the baseline measured in the same run, docxtpl's own render of the same
template and data in this process (no sandbox, no child). Beside it:
- `render_fill` in this process (the sandboxed, autoescaping environment and the located errors);
- the child-process overhead on its own: `run_limited` of `len` over the same data
  (fork from the fork server, the data pickled across, the outcome sent back);
- `render_fill` in a bounded child, as the job runs it;
- `templates.start_fill` → `completed` over HTTP against a real `vaultgate serve` (the console script) with
  2 idle workers:
  upload, checklist, queue, lease, the syntax check and the render (two children), storing the result.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from docx import Document as WordDocument
from docxtpl import DocxTemplate
from jinja2 import Environment

from bench import vault as vault_bench
from bench.harness import vaultgate_client
from fills.render import render_fill
from gateway.contract import load_contract
from jobs.sandbox import run_limited
from storage import api_keys, documents
from storage.blobs import new_blob_key
from storage.database import dispose_engine, session_scope
from storage.models import Mode, User
from storage.projects import create_project

ROWS = 500
PLACEHOLDERS = 50
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def _template() -> bytes:
    """50 placeholders in the narrative (and 3 per row), and a table loop over the 500 documents."""
    document = WordDocument()
    document.add_heading("Review of {{ project.name }}", level=1)
    document.add_paragraph("Prepared {{ today }} over {{ documents | length }} documents.")
    for n in range(PLACEHOLDERS - 3):
        document.add_paragraph(f"Item {n}: {{{{ documents[{n}].title }}}}")
    table = document.add_table(rows=4, cols=3)
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, ("No.", "Title", "Discipline"), strict=True):
        cell.text = title
    table.rows[1].cells[0].text = "{%tr for d in documents %}"
    for cell, value in zip(
        table.rows[2].cells, ("{{ d.metadata.number }}", "{{ d.title }}", "{{ d.metadata.discipline }}"), strict=True
    ):
        cell.text = value
    table.rows[3].cells[0].text = "{%tr endfor %}"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _vault() -> dict[str, Any]:
    views = [
        {
            "id": f"{n:08d}-0000-4000-8000-000000000000",
            "title": f"Submittal {n:03d} & shop drawings",
            "metadata": {"number": f"{n:03d}", "discipline": "structure"},
            "text": f"Submittal {n}. Submitted by Ironline Fabricators.",
            "fields": {},
        }
        for n in range(ROWS)
    ]
    return {"project": {"id": "p", "name": "Riverside Tower", "description": None}, "documents": views}


class _NoCalls:
    def call(self, name: str, *args: Any) -> None:
        return None


def _bare(template_path: str, output_path: str, vault: dict[str, Any], today: date) -> None:
    template = DocxTemplate(template_path)
    context = {"project": vault["project"], "documents": vault["documents"], "today": today}
    template.render(context, Environment(autoescape=True), autoescape=True)
    template.save(output_path)


def _median_ms(function: Callable[[], object], rounds: int = ROUNDS) -> float:
    function()  # warm-up: imports, the fork server's first start
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _no_calls(_name: str, _args: tuple[Any, ...]) -> None:
    return None


def render_costs(work: Path) -> dict[str, float]:
    template_path, output = str(work / "template.docx"), str(work / "out.docx")
    (work / "template.docx").write_bytes(_template())
    vault, today = _vault(), date.today()
    figures = {
        "docxtpl render in-process (baseline)": _median_ms(lambda: _bare(template_path, output, vault, today)),
        "render_fill in-process": _median_ms(lambda: render_fill(_NoCalls(), template_path, output, vault, today)),
        # `len`: a builtin, so the child imports nothing (a function of this module would be imported in every
        # child, as the fork server preloads no bench code); the same data crosses to the child as for a render.
        "child overhead alone (no-op child, same data)": _median_ms(
            lambda: run_limited(len, vault, timeout=60.0, memory_bytes=1024**3)
        ),
        "render_fill in a bounded child": _median_ms(
            lambda: run_limited(
                render_fill, template_path, output, vault, today, serve=_no_calls, timeout=60.0, memory_bytes=1024**3
            )
        ),
    }
    rendered = WordDocument(output)
    assert len(rendered.tables[0].rows) == ROWS + 1, "the table did not get its 500 rows"
    return figures


def _seed() -> tuple[str, str, str]:
    database_url, _directory, tenant, user_id = vault_bench._fresh_database()
    with session_scope(database_url) as session:
        project = create_project(session, tenant, "Riverside Tower", None)
        for view in _vault()["documents"]:
            created = documents.create_document(
                session,
                tenant,
                documents.NewDocument(
                    project.id,
                    user_id,
                    view["title"],
                    "s.md",
                    "text/markdown",
                    1,
                    "0" * 64,
                    new_blob_key(tenant),
                    view["metadata"],
                ),
            )
            segments = [documents.TextSegment("paragraph", 1, view["text"])]
            documents.store_extraction(session, created.id, title=None, page_count=None, segments=segments)
        user = session.get_one(User, user_id)
        key = api_keys.create_key(session, user=user, mode=Mode.test, name="b", scopes=load_contract().scopes).secret
        project_id = str(project.id)
    dispose_engine(database_url)
    return database_url, key, project_id


def end_to_end(work: Path) -> float:
    database_url, key, project_id = _seed()
    durations = []
    with vaultgate_client(database_url, work / "blobs", key) as client:
        data = _template()
        for round_number in range(ROUNDS + 1):
            time.sleep(0.3)  # workers idle between fills, as they would be
            sent = datetime.now(UTC)
            response = client.post("/templates/fill", files={"file": ("t.docx", data)}, data={"project_id": project_id})
            assert response.status_code == 202, response.text
            while (fill := client.get(f"/templates/fill/{response.json()['job_id']}").json())["status"] != "completed":
                assert fill["status"] in ("pending", "running"), fill
                time.sleep(0.01)
            if round_number:  # the first fill starts the server's fork server
                durations.append((datetime.fromisoformat(fill["completed_at"]) - sent).total_seconds())
            # The filled document joins the project: remove it, so every round fills the same 500 rows.
            deleted = client.delete(f"/vault/documents/{fill['filled_document_id']}")
            assert deleted.status_code == 204, deleted.text
    return statistics.median(durations) * 1000


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="vaultgate-bench-fill-") as directory:
        work = Path(directory)
        figures = render_costs(work)
        figures["templates.start_fill → completed, over HTTP, SQLite"] = end_to_end(work)
        with vault_bench.postgres() as admin_url:
            vault_bench._pg_admin = admin_url
            try:
                figures["templates.start_fill → completed, over HTTP, PostgreSQL"] = end_to_end(work)
            finally:
                vault_bench._pg_admin = None
    base = figures["docxtpl render in-process (baseline)"]
    print(f"\n== Template fill: {PLACEHOLDERS} placeholders, a {ROWS}-row table, median of {ROUNDS} ==")
    for label, value in figures.items():
        print(f"  {label:<62} {value:8.1f} ms  {value / base:5.2f}x")
