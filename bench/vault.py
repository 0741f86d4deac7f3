"""Vault and job-system figures: ingestion time, search latency over 10,000 documents, job pickup latency.

Each figure is printed next to a baseline measured in the same run:
- ingestion through the job system (queue, blob fetch, child process, indexing) against the bare text
  extraction of the same file in this process;
- search through storage against a keyed lookup of one document row;
- job pickup (commit of the enqueue → a worker marks it running) against the enqueue's own commit.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.harness import ROOT, free_port
from core.settings import Settings
from jobs.runtime import JobContext, JobKind
from jobs.worker import WorkerPool
from storage import documents, jobs
from storage.accounts import create_organization, create_user
from storage.blobs import blob_store_for, new_blob_key
from storage.database import normalize_url, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Document, Job, JobStatus, Mode, Role, Tier
from storage.search import search
from storage.tenancy import Tenant
from tests import samples
from vault.extract import extract
from vault.ingest import INGEST_DOCUMENT
from vault.sniff import DOCX, PDF
from vault.uploads import accept_upload

WORDS = [
    "anchor",
    "bracket",
    "curtain",
    "wall",
    "membrane",
    "sealant",
    "riser",
    "clamp",
    "slab",
    "rebar",
    "concrete",
    "steel",
    "beam",
    "column",
    "joist",
    "flashing",
    "gutter",
    "parapet",
    "mullion",
    "glazing",
    "gasket",
    "firestop",
    "damper",
    "duct",
    "conduit",
    "panel",
    "submittal",
    "review",
    "approved",
    "rejected",
    "resubmit",
    "drawing",
    "detail",
    "specification",
    "section",
    "schedule",
    "finish",
    "coating",
    "primer",
]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (scripts/postgres.sh); yields the admin URL."""
    parent = Path(tempfile.mkdtemp(prefix="vaultgate-bench-pg-"))
    parent.chmod(0o755)
    script = str(ROOT / "scripts" / "postgres.sh")
    started = subprocess.run([script, "start", str(parent / "data"), str(free_port())], capture_output=True, text=True)
    started.check_returncode()
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([script, "stop", str(parent / "data")], check=False)
        shutil.rmtree(parent, ignore_errors=True)


_pg_admin: str | None = None


def _fresh_database() -> tuple[str, Path, Tenant, uuid.UUID]:
    directory = Path(tempfile.mkdtemp(prefix="vaultgate-bench-vault-"))
    database_url = f"sqlite:///{directory / 'bench.db'}"
    if _pg_admin is not None:
        name = f"bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(normalize_url(_pg_admin), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        database_url = _pg_admin.rsplit("/", 1)[0] + "/" + name
    upgrade_to_head(database_url)
    with session_scope(database_url) as session:
        organization = create_organization(session, name="Bench", tier=Tier.enterprise)
        user = create_user(
            session, organization=organization, email="b@example.com", name="B", role=Role.admin, permissions=[]
        )
        return database_url, directory, Tenant(organization.id, Mode.test), user.id


def _sentence(n: int) -> str:
    return " ".join(WORDS[(n * 7 + i * 13) % len(WORDS)] for i in range(18)) + f" item {n}."


def ingestion() -> None:
    database_url, directory, tenant, user_id = _fresh_database()
    settings = Settings(database_url=database_url, blob_dir=directory / "blobs")
    pages = [" ".join(_sentence(p * 20 + s) for s in range(20)) for p in range(50)]
    files = {
        "PDF, 50 pages": (samples.pdf(pages), PDF),
        "DOCX, 50 pages of text": (samples.docx([p for page in pages for p in page.split(". ")]), DOCX),
    }
    pool = WorkerPool(settings, 1, {INGEST_DOCUMENT.name: INGEST_DOCUMENT})
    pool.start()
    print("\n== Ingestion: upload accepted → document ready (1 worker) vs bare extraction in-process ==")
    try:
        for label, (data, content_type) in files.items():
            path = directory / "sample"
            path.write_bytes(data)
            bare, full = [], []
            for _ in range(3):
                started = time.perf_counter()
                extract(str(path), content_type)
                bare.append(time.perf_counter() - started)
                started = time.perf_counter()
                with session_scope(database_url) as session, path.open("rb") as source:
                    document_id = accept_upload(
                        session,
                        blob_store_for(settings),
                        tenant,
                        user_id=user_id,
                        source=source,
                        filename="sample.pdf" if content_type == PDF else "sample.docx",
                        project_id=None,
                        metadata={},
                        max_attempts=1,
                    ).id
                while True:
                    with session_scope(database_url) as session:
                        status = session.get_one(Document, document_id).status.value
                    if status in ("ready", "failed"):
                        break
                    time.sleep(0.005)
                assert status == "ready", status
                full.append(time.perf_counter() - started)
            b, f = statistics.median(bare), statistics.median(full)
            print(f"  {label:<24} extraction {b * 1000:7.0f} ms   ingestion {f * 1000:7.0f} ms   ({f / b:.1f}x)")
    finally:
        pool.stop()


def search_latency(total: int = 10_000) -> None:
    database_url, _directory, tenant, user_id = _fresh_database()
    print(f"\n== Search over {total:,} ready documents (5 paragraphs each), {_backend()} ==")
    started = time.perf_counter()
    ids = []
    with session_scope(database_url) as session:
        for n in range(total):
            document = documents.create_document(
                session,
                tenant,
                documents.NewDocument(
                    None, user_id, f"Doc {n}", f"doc-{n}.txt", "text/plain", 100, "0" * 64, new_blob_key(tenant), {}
                ),
            )
            segments = [documents.TextSegment("paragraph", p + 1, _sentence(n * 5 + p)) for p in range(5)]
            documents.store_extraction(session, document.id, title=None, page_count=None, segments=segments)
            ids.append(document.id)
            if n % 1000 == 999:
                session.flush()
    print(f"  seeded in {time.perf_counter() - started:.0f} s")
    queries = ["curtain wall", "sealant rejected", '"firestop damper"', "item 4242", "mullion gasket glazing"]

    def measure(call: object) -> list[float]:
        timings = []
        for round_ in range(40):
            for q in queries:
                t = time.perf_counter()
                call(q, round_)  # type: ignore[operator]
                timings.append(time.perf_counter() - t)
        return timings

    with session_scope(database_url) as session:

        def lookup(_q: str, round_: int) -> None:
            session.get(Document, ids[round_ * 97 % total], populate_existing=True)

        def query(q: str, _round: int) -> None:
            search(session, tenant, q, limit=10)

        base = measure(lookup)
        hits = measure(query)
    for label, values in (("row lookup (baseline)", base), ("vault.search, limit 10", hits)):
        print(
            f"  {label:<24} p50 {_percentile(values, 0.5) * 1000:7.2f} ms   p95 {_percentile(values, 0.95) * 1000:7.2f} ms"
        )
    print(f"  ratio p50 {_percentile(hits, 0.5) / _percentile(base, 0.5):.0f}x")


def pickup_latency(jobs_count: int = 200) -> None:
    database_url, directory, tenant, _user = _fresh_database()
    settings = Settings(database_url=database_url, blob_dir=directory / "blobs", job_lease_seconds=30)

    def noop(context: JobContext) -> None:
        context.complete(lambda _session: None)

    pool = WorkerPool(settings, 2, {"noop": JobKind("noop", noop)})
    pool.start()
    commits, pickups = [], []
    try:
        for _ in range(jobs_count):
            time.sleep(0.02)  # workers idle between jobs, as they would be
            started = time.perf_counter()
            with session_scope(database_url) as session:
                job_id = jobs.enqueue(session, tenant, "noop", {}, 1).id
            committed = time.perf_counter()
            commits.append(committed - started)
            while True:
                with session_scope(database_url) as session:
                    job = session.get_one(Job, job_id)
                    if job.status is not JobStatus.pending:
                        created, begun = job.created_at, job.started_at
                        break
            assert begun is not None
            pickups.append((begun - created).total_seconds())
    finally:
        pool.stop()
    print(f"\n== Job pickup, {_backend()}, 2 in-process workers idle ({jobs_count} jobs) ==")
    for label, values in (("enqueue commit (baseline)", commits), ("queued → running", pickups)):
        print(
            f"  {label:<26} p50 {_percentile(values, 0.5) * 1000:6.1f} ms   p95 {_percentile(values, 0.95) * 1000:6.1f} ms"
        )
    print(
        f"  ratio p50 {_percentile(pickups, 0.5) / _percentile(commits, 0.5):.1f}x  (idle timer would be {pool.idle_seconds:.0f} s)"
    )


def _backend() -> str:
    return "PostgreSQL" if _pg_admin is not None else "SQLite"


def run() -> None:
    global _pg_admin
    print("\n#### SQLite")
    ingestion()
    pickup_latency()
    search_latency()
    with postgres() as admin_url:
        _pg_admin = admin_url
        try:
            print("\n#### PostgreSQL")
            pickup_latency()
            search_latency()
        finally:
            _pg_admin = None
