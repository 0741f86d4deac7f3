"""Fixtures: a fresh database per test (SQLite and PostgreSQL), an app, a client, tenants, a live server."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import sqlalchemy
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.app import create_app
from gateway.contract import load_contract
from storage import api_keys, documents
from storage.accounts import create_organization, create_user
from storage.blobs import LocalBlobStore, new_blob_key
from storage.database import dispose_engine, session_scope
from storage.migrate import upgrade_to_head
from storage.models import (
    Document,
    Job,
    JobStatus,
    Mode,
    Project,
    Role,
    TemplateFill,
    Tier,
    Workflow,
    WorkflowRun,
    WorkflowVersion,
    utcnow,
)
from storage.template_fills import FILL_KIND
from storage.tenancy import Tenant
from storage.workflows import NewRun, start_run
from tests import samples
from workflows.definition import digest, parse
from workflows.ids import parse_run_id, parse_workflow_id

T = TypeVar("T")
# The instance key of every app and server the tests start (subprocesses inherit it); the spec's
# `vault.get_document_content` example is signed with the download key derived from it.
EXAMPLES_INSTANCE_KEY = "vaultgate contract examples: not a production key"
os.environ["VAULTGATE_SECRET_KEY"] = EXAMPLES_INSTANCE_KEY
ROOT = Path(__file__).resolve().parent.parent
ALL_SCOPES = [
    "meta:read",
    "keys:admin",
    "vault:read",
    "vault:write",
    "workflows:read",
    "workflows:write",
    "templates:read",
    "templates:write",
]


def wait_for(predicate: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.05) -> T:
    """Poll `predicate` until it answers something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (installed from Debian packages if missing)."""
    # Not under pytest's 0700 tmp dir: the server runs as the postgres user.
    parent = Path(tempfile.mkdtemp(prefix="vaultgate-pg-"))
    parent.chmod(0o755)
    data = parent / "data"
    script = str(ROOT / "scripts" / "postgres.sh")
    started = subprocess.run([script, "start", str(data), str(free_port())], capture_output=True, text=True)
    if started.returncode != 0:
        raise RuntimeError(f"could not start PostgreSQL: {started.stderr}")
    url = started.stdout.strip()
    admin = sqlalchemy.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text("CREATE DATABASE vaultgate_template"))
    upgrade_to_head(url.rsplit("/", 1)[0] + "/vaultgate_template")
    dispose_engine(url.rsplit("/", 1)[0] + "/vaultgate_template")
    yield url
    admin.dispose()
    subprocess.run([script, "stop", str(data)], check=False)
    shutil.rmtree(parent, ignore_errors=True)


@contextmanager
def throwaway_server(script_name: str, directory: Path) -> Iterator[str]:
    """A server one of scripts/*.sh starts in `directory` (installing it if missing); yields its URL."""
    script = str(ROOT / "scripts" / script_name)
    started = subprocess.run([script, "start", str(directory), str(free_port())], capture_output=True, text=True)
    if started.returncode != 0:
        raise RuntimeError(f"{script_name} could not start its server: {started.stderr}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([script, "stop", str(directory)], check=False)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway Redis server (installed from Debian packages if missing)."""
    with throwaway_server("redis.sh", tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway S3-compatible server (moto's server mode)."""
    with throwaway_server("s3.sh", tmp_path_factory.mktemp("s3")) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade_to_head(f"sqlite:///{path}")
    dispose_engine(f"sqlite:///{path}")
    return path


def fresh_database(request: pytest.FixtureRequest, kind: str, directory: Path, sqlite_template: Path) -> str:
    """A freshly migrated, empty database of `kind` ("sqlite" in `directory`, or "postgresql")."""
    if kind == "sqlite":
        path = directory / "vaultgate.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = sqlalchemy.create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name} TEMPLATE vaultgate_template"))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A freshly migrated, empty database of each supported kind."""
    url = fresh_database(request, request.param, tmp_path, sqlite_template)
    yield url
    dispose_engine(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, validate_responses=True, blob_dir=tmp_path / "blobs")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


PROBE_SPEC = Path(__file__).parent / "probe" / "openapi.yaml"


@pytest.fixture
def probe(settings: Settings) -> Iterator[TestClient]:
    """A client of the probe contract (tests/probe), which reaches the gateway's every error path."""
    app = create_app(settings, spec_path=PROBE_SPEC, handler_package="tests.probe")
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class Caller:
    """A user's API key, ready to put in a header."""

    key: str
    key_id: uuid.UUID
    organization_id: uuid.UUID
    user_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


class Tenants:
    """Creates organizations, users and keys directly in storage."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def caller(
        self,
        *,
        mode: Mode = Mode.test,
        scopes: list[str] | None = None,
        tier: Tier = Tier.pro,
        role: Role = Role.admin,
        organization_id: uuid.UUID | None = None,
        permissions: tuple[str, ...] = ("template_fill",),
    ) -> Caller:
        with session_scope(self.database_url) as session:
            from storage.accounts import get_organization

            organization = (
                get_organization(session, organization_id)
                if organization_id
                else create_organization(session, name="Acme", tier=tier)
            )
            user = create_user(
                session,
                organization=organization,
                email=f"{uuid.uuid4().hex}@example.com",
                name="Ada",
                role=role,
                permissions=list(permissions),
            )
            issued = api_keys.create_key(
                session, user=user, mode=mode, name="test key", scopes=ALL_SCOPES if scopes is None else scopes
            )
            return Caller(issued.secret, issued.record.id, organization.id, user.id)


@pytest.fixture
def tenants(database_url: str) -> Tenants:
    return Tenants(database_url)


@pytest.fixture
def caller(tenants: Tenants) -> Caller:
    return tenants.caller()


def seed_spec_examples(database_url: str, blob_dir: Path, caller: Caller) -> None:
    """The project and documents the spec's examples name, so the contract run's example calls reach real objects."""
    tenant = Tenant(caller.organization_id, Mode.test)
    examples = load_contract().document["components"]["examples"]
    with session_scope(database_url) as session:
        project = Project(
            id=uuid.UUID("0c6f2f7e-5b1a-4d8e-9f3c-2a1b4c5d6e7f"),
            organization_id=tenant.organization_id,
            mode=tenant.mode,
            name="Riverside Tower",
            description=None,
        )
        session.add(project)
        for example in ("ready_document", "failed_document"):
            value = examples[example]["value"]
            document = documents.create_document(
                session,
                tenant,
                documents.NewDocument(
                    project_id=project.id,
                    created_by=caller.user_id,
                    title=value["title"],
                    filename=value["filename"],
                    content_type=value["content_type"],
                    size_bytes=value["size_bytes"],
                    sha256=value["sha256"],
                    blob_key=new_blob_key(tenant),
                    metadata=value["metadata"],
                ),
            )
            session.flush()
            session.execute(
                sqlalchemy.update(Document).where(Document.id == document.id).values(id=uuid.UUID(value["id"]))
            )
            session.flush()
            content = samples.pdf(["The anchors comply with ASTM A123."])
            LocalBlobStore(blob_dir).put(document.blob_key, io.BytesIO(content))
            document.size_bytes = len(content)
            segments = [documents.TextSegment("paragraph", 1, "The anchors comply with ASTM A123.")]
            documents.store_extraction(session, uuid.UUID(value["id"]), title=None, page_count=1, segments=segments)
        seed_example_workflow(session, tenant, caller)
        seed_example_fills(session, tenant, caller, LocalBlobStore(blob_dir), project.id)


def seed_example_workflow(session: Session, tenant: Tenant, caller: Caller) -> None:
    """The workflow and the (completed) run the spec's examples name."""
    source = (ROOT / "examples" / "workflows" / "weekly-submittal-review.yaml").read_text()
    definition = parse(source)
    run_example = load_contract().document["components"]["examples"]["completed_run"]["value"]
    workflow = Workflow(
        id=parse_workflow_id(run_example["workflow_id"]),
        organization_id=tenant.organization_id,
        mode=tenant.mode,
        name=definition["name"],
        description=definition["description"],
        enabled=True,
        trigger_type="manual",
        version=1,
    )
    session.add(workflow)
    session.add(
        WorkflowVersion(
            workflow_id=workflow.id, version=1, definition=definition, source=source, digest=digest(definition)
        )
    )
    session.flush()
    new_run = NewRun(caller.user_id, run_example["inputs"], uuid.UUID(run_example["project_id"]), max_attempts=1)
    completed = start_run(session, tenant, workflow, 600, new_run)
    completed.job.status = JobStatus.completed
    completed.job.progress, completed.job.stage = 100, "done"
    completed.job.started_at = completed.job.finished_at = utcnow()
    completed.outputs = run_example["outputs"]
    # The run `workflows.cancel_run`'s example cancels: running, leased to a worker that never comes back.
    running = start_run(session, tenant, workflow, 600, new_run)
    running.job.status = JobStatus.running
    running.job.progress, running.job.stage = 42, "Analysing submittals"
    running.job.started_at = utcnow()
    running.job.lease_owner, running.job.lease_expires_at = "contract-examples", utcnow() + timedelta(days=1)
    session.flush()
    cancel_example = load_contract().document_operation("workflows.cancel_run")["parameters"][0]["example"]
    for run, public_id in ((completed, run_example["run_id"]), (running, cancel_example)):
        session.execute(
            sqlalchemy.update(WorkflowRun).where(WorkflowRun.id == run.id).values(id=parse_run_id(public_id))
        )


def seed_example_fills(
    session: Session, tenant: Tenant, caller: Caller, store: LocalBlobStore, project_id: uuid.UUID
) -> None:
    """The completed fill (and the document it made) and the running fill the spec's examples name."""
    examples = load_contract().document["components"]["examples"]
    completed, running = examples["completed_fill"]["value"], examples["running_fill"]["value"]
    filled = samples.docx(["Submittal review: Riverside Tower"], title="Submittal review: Riverside Tower")
    filled_key = new_blob_key(tenant)
    store.put(filled_key, io.BytesIO(filled))
    document = documents.create_document(
        session,
        tenant,
        documents.NewDocument(
            project_id=project_id,
            created_by=caller.user_id,
            title="Submittal review: Riverside Tower",
            filename="Submittal_Review_Template-filled.docx",
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            size_bytes=len(filled),
            sha256=hashlib.sha256(filled).hexdigest(),
            blob_key=filled_key,
            metadata={"template_fill_id": completed["job_id"]},
        ),
    )
    session.flush()
    session.execute(
        sqlalchemy.update(Document)
        .where(Document.id == document.id)
        .values(id=uuid.UUID(completed["filled_document_id"]))
    )
    segments = [documents.TextSegment("paragraph", 1, "Submittal review: Riverside Tower")]
    documents.store_extraction(
        session, uuid.UUID(completed["filled_document_id"]), title=None, page_count=None, segments=segments
    )
    for example, status in ((completed, JobStatus.completed), (running, JobStatus.running)):
        template_key = new_blob_key(tenant)
        store.put(template_key, io.BytesIO(samples.docx(["Submittal review: {{ project.name }}"])))
        fill_id = uuid.UUID(example["job_id"])
        job = Job(
            id=fill_id,
            organization_id=tenant.organization_id,
            mode=tenant.mode,
            job_kind=FILL_KIND,
            payload={"fill_id": str(fill_id)},
            status=status,
            progress=example["progress"],
            stage=example["progress_stage"],
            max_attempts=1,
            started_at=utcnow(),
            finished_at=utcnow() if status is JobStatus.completed else None,
            # Running: leased to a worker that never comes back, so `templates.cancel_fill`'s example finds it running.
            lease_owner=None if status is JobStatus.completed else "contract-examples",
            lease_expires_at=None if status is JobStatus.completed else utcnow() + timedelta(days=1),
        )
        session.add(job)
        session.add(
            TemplateFill(
                id=fill_id,
                organization_id=tenant.organization_id,
                mode=tenant.mode,
                created_by=caller.user_id,
                project_id=project_id,
                document_ids=[],
                template_filename="Submittal_Review_Template.docx",
                template_blob_key=template_key,
                filled_document_id=uuid.UUID(completed["filled_document_id"])
                if status is JobStatus.completed
                else None,
                job_id=fill_id,
                job=job,
            )
        )
    session.flush()


@dataclass(frozen=True)
class LiveServer:
    url: str
    api_key: str
    database_url: str
    pid: int


def start_server(
    database_url: str, port: int, log_path: Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VAULTGATE_DATABASE_URL": database_url,
        "VAULTGATE_PORT": str(port),
        "VAULTGATE_BLOB_DIR": str(log_path.parent / "blobs"),
        **(extra_env or {}),
    }
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")


@contextmanager
def running_server(
    directory: Path, *, seed_examples: bool = True, extra_env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """A real `vaultgate serve` process on a fresh SQLite database in `directory`, with one seeded key (every
    scope; enterprise, so a run exercises the operations rather than the rate limiter)."""
    database_url = f"sqlite:///{directory / 'vaultgate.db'}"
    upgrade_to_head(database_url)
    caller = Tenants(database_url).caller(scopes=load_contract().scopes, tier=Tier.enterprise)
    if seed_examples:
        seed_spec_examples(database_url, directory / "blobs", caller)
    dispose_engine(database_url)
    port = free_port()
    process = start_server(database_url, port, directory / "server.log", extra_env)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", caller.key, database_url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server shared by the whole run (the contract run's, among others), rate limits off.

    The contract run fuzzes operations, not the limiter (tests/test_rate_limits.py does that): thousands of
    calls a minute drain even an enterprise bucket, and the costliest operations then answer mostly 429, which
    the run rightly fails on (untested logic) — the faster the machine, the sooner.
    """
    with running_server(
        tmp_path_factory.mktemp("live"), extra_env={"VAULTGATE_RATE_LIMITS_ENABLED": "false"}
    ) as server:
        yield server
