"""Workflow figures: runs per minute of the example workflow, and the time from `workflows.run` to `running`.

Each figure is printed next to a baseline measured in the same run:
- throughput through the job system (2 worker threads: queue, lease, checkpoints, a sandboxed child per
  expression evaluation, each step's result kept) against the same steps done in a plain loop in this
  process (actions called directly, expressions evaluated in-process);
- `workflows.run` → `running`, over HTTP against a real `vaultgate serve` with 2 idle workers, against the
  round trip of the `workflows.run` request itself.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import vault as vault_bench
from bench.harness import ROOT, vaultgate_client
from core.settings import Settings
from gateway.contract import load_contract
from jobs.worker import WorkerPool
from storage import api_keys, documents
from storage.blobs import new_blob_key
from storage.database import dispose_engine, session_scope
from storage.models import JobStatus, Mode, User, Workflow, WorkflowRun
from storage.projects import create_project
from storage.tenancy import Tenant
from storage.workflows import NewRun, import_definition, start_run
from workflows import expressions
from workflows.actions import ACTIONS, Scope
from workflows.definition import Definition, digest, parse
from workflows.ids import workflow_public_id
from workflows.runner import WORKFLOW_RUN

EXAMPLE = ROOT / "examples" / "workflows" / "weekly-submittal-review.yaml"
DEMO = ROOT / "examples" / "demo"


def _seed() -> tuple[str, Path, Tenant, uuid.UUID, uuid.UUID, uuid.UUID]:
    """A fresh database with the demo documents (ready) in a project and the example workflow imported."""
    database_url, directory, tenant, user_id = vault_bench._fresh_database()
    source = EXAMPLE.read_text()
    document = parse(source)
    metadata = json.loads((DEMO / "metadata.json").read_text())
    with session_scope(database_url) as session:
        project = create_project(session, tenant, "Riverside Tower", None)
        for name, fields in metadata.items():
            created = documents.create_document(
                session,
                tenant,
                documents.NewDocument(
                    project.id, user_id, name, name, "text/markdown", 1, "0" * 64, new_blob_key(tenant), fields
                ),
            )
            paragraphs = [p.strip() for p in (DEMO / name).read_text().split("\n\n") if p.strip()]
            segments = [documents.TextSegment("paragraph", n, p) for n, p in enumerate(paragraphs, 1)]
            documents.store_extraction(session, created.id, title=None, page_count=None, segments=segments)
        workflow = import_definition(session, tenant, document, source, digest(document)).workflow
        return database_url, directory, tenant, user_id, project.id, workflow.id


def bench_key(database_url: str, user_id: uuid.UUID) -> str:
    """A test-mode key of `user_id` holding every scope, for a benchmark's requests."""
    with session_scope(database_url) as session:
        user = session.get_one(User, user_id)
        return api_keys.create_key(
            session, user=user, mode=Mode.test, name="bench", scopes=load_contract().scopes
        ).secret


def _inputs() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"start_date": str(today - timedelta(days=7)), "end_date": str(today)}


def _bare_run(scope: Scope, definition: Definition, inputs: dict[str, str]) -> dict[str, object]:
    values: dict[str, object] = {"inputs": inputs, "project_id": str(scope.project_id), "steps": {}}
    steps: dict[str, object] = {}
    for position, step in enumerate(definition.steps):
        values["steps"] = steps
        arguments = expressions.evaluate(step.arguments, values, f"/steps/{position}/with")
        steps[step.id] = ACTIONS[step.action](scope, arguments)
    outputs: dict[str, object] = expressions.evaluate(definition.outputs, {**values, "steps": steps}, "/outputs")
    return outputs


def throughput(runs: int = 60) -> None:
    database_url, directory, tenant, user_id, project_id, workflow_id = _seed()
    settings = Settings(database_url=database_url, blob_dir=directory / "blobs", job_lease_seconds=30)
    definition = Definition.from_document(parse(EXAMPLE.read_text()))
    scope = Scope(tenant, project_id, lambda: session_scope(database_url))

    started = time.perf_counter()
    for _ in range(runs):
        outputs = _bare_run(scope, definition, _inputs())
    bare = time.perf_counter() - started
    assert outputs["summary"] == "5 submittals reviewed, 2 flagged for non-compliance.", outputs

    with session_scope(database_url) as session:
        workflow = session.get_one(Workflow, workflow_id)
        run_ids = [
            start_run(session, tenant, workflow, 600, NewRun(user_id, _inputs(), project_id, max_attempts=1)).id
            for _ in range(runs)
        ]
    pool = WorkerPool(settings, 2, {WORKFLOW_RUN.name: WORKFLOW_RUN})
    started = time.perf_counter()
    pool.start()
    try:
        while True:
            with session_scope(database_url) as session:
                states = [session.get_one(WorkflowRun, run_id).job.status for run_id in run_ids]
            if all(state is JobStatus.completed for state in states):
                break
            assert JobStatus.failed not in states, "a benchmark run failed"
            time.sleep(0.02)
        full = time.perf_counter() - started
    finally:
        pool.stop()
    print(f"\n== Weekly submittal review, {runs} runs, {vault_bench._backend()} ==")
    print(f"  {'plain loop, 1 thread (baseline)':<40} {runs / bare * 60:8.0f} runs/min")
    print(f"  {'job system, 2 worker threads':<40} {runs / full * 60:8.0f} runs/min   ({bare / full:.2f}x)")


def run_to_running(samples: int = 40) -> None:
    database_url, directory, _tenant, user_id, project_id, workflow_id = _seed()
    key = bench_key(database_url, user_id)
    dispose_engine(database_url)
    requests, pickups = [], []
    with vaultgate_client(database_url, directory / "blobs", key) as client:
        body = {"inputs": _inputs(), "project_id": str(project_id)}
        for _ in range(samples):
            time.sleep(0.3)  # workers idle between runs, as they would be
            sent = datetime.now(UTC)
            response = client.post(f"/workflows/{workflow_public_id(workflow_id)}/runs", json=body)
            answered = datetime.now(UTC)
            assert response.status_code == 202, response.text
            run_id = response.json()["run_id"]
            while (run := client.get(f"/workflows/runs/{run_id}").json())["started_at"] is None:
                time.sleep(0.005)
            requests.append((answered - sent).total_seconds())
            pickups.append((datetime.fromisoformat(run["started_at"]) - sent).total_seconds())
    print(f"\n== workflows.run → running, over HTTP, 1 server process with 2 idle workers, {vault_bench._backend()} ==")
    for label, values in (("workflows.run round trip (baseline)", requests), ("workflows.run → running", pickups)):
        print(f"  {label:<40} median {statistics.median(values) * 1000:6.1f} ms")
    print(f"  ratio {statistics.median(pickups) / statistics.median(requests):.2f}x")


def run() -> None:
    print("\n#### SQLite")
    throughput()
    run_to_running()
    with vault_bench.postgres() as admin_url:
        vault_bench._pg_admin = admin_url
        try:
            print("\n#### PostgreSQL")
            throughput()
            run_to_running()
        finally:
            vault_bench._pg_admin = None
