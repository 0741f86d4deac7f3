"""Real processes: a standalone `vaultgate worker` killed with SIGKILL mid-job loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import select

from storage.database import session_scope
from storage.models import Document, Job, JobStatus, Mode, Workflow, WorkflowRun, WorkflowRunStep
from storage.tenancy import Tenant
from storage.workflows import NewRun, start_run
from tests import samples
from tests.conftest import ROOT, Tenants, free_port, start_server, wait_for
from tests.test_workflows import import_source, long_workflow
from workflows.ids import parse_workflow_id


def start_worker(database_url: str, directory: Path, name: str, lease_seconds: int = 2) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VAULTGATE_DATABASE_URL": database_url,
        "VAULTGATE_BLOB_DIR": str(directory / "blobs"),
        "VAULTGATE_JOB_LEASE_SECONDS": str(lease_seconds),
    }
    with (directory / f"{name}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", "worker", "--threads", "1"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def job_of(database_url: str, document_id: str) -> Job:
    with session_scope(database_url) as session:
        document = session.get_one(Document, uuid.UUID(document_id))
        job = session.get_one(Job, document.job_id)
        session.expunge(job)
        return job


def test_a_worker_killed_mid_ingestion_is_taken_over_and_the_document_becomes_ready(
    database_url: str, tmp_path: Path, tenants: Tenants
) -> None:
    caller = tenants.caller()
    port = free_port()
    server = start_server(database_url, port, tmp_path / "server.log", {"VAULTGATE_JOB_WORKERS": "0"})
    # A short lease, so the takeover happens within the test's patience.
    victim = start_worker(database_url, tmp_path, "victim")
    rescuer: subprocess.Popen[bytes] | None = None
    try:
        pages = [f"Page {n}: the riser clamps on level {n} are installed per detail 7." for n in range(1, 601)]
        uploaded = httpx.post(
            f"http://127.0.0.1:{port}/api/v2/vault/documents",
            files={"file": ("long.pdf", samples.pdf(pages))},
            headers=caller.headers,
            timeout=60,
        )
        assert uploaded.status_code == 202, uploaded.text
        document_id = uploaded.json()["id"]

        running = wait_for(
            lambda: (
                (j := job_of(database_url, document_id)).status is JobStatus.running and j.stage == "Extracting text"
            ),
            timeout=60,
            interval=0.02,
        )
        assert running
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        assert job_of(database_url, document_id).status is JobStatus.running  # left behind mid-job

        rescuer = start_worker(database_url, tmp_path, "rescuer")

        def settled() -> dict[str, object] | None:
            body = httpx.get(
                f"http://127.0.0.1:{port}/api/v2/vault/documents/{document_id}", headers=caller.headers
            ).json()
            return body if body["status"] in ("ready", "failed") else None

        document = wait_for(settled, timeout=120)
    finally:
        for process in (victim, rescuer, server):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)

    assert document["status"] == "ready", document
    assert document["page_count"] == 600
    job = job_of(database_url, document_id)
    assert (job.status, job.attempts) == (JobStatus.completed, 2)


def test_a_worker_in_another_process_wakes_on_the_enqueue_not_its_idle_timer(
    database_url: str, tmp_path: Path, tenants: Tenants
) -> None:
    caller = tenants.caller()
    port = free_port()
    server = start_server(database_url, port, tmp_path / "server.log", {"VAULTGATE_JOB_WORKERS": "0"})
    # Lease 30 s: idle, this worker would look for work only every 5 s.
    worker = start_worker(database_url, tmp_path, "worker", lease_seconds=30)
    base = f"http://127.0.0.1:{port}/api/v2/vault/documents"
    try:
        wait_for(lambda: "1 threads" in (tmp_path / "worker.log").read_text(), timeout=30)
        time.sleep(1)  # let it settle into its idle wait
        uploaded = httpx.post(base, files={"file": ("n.txt", b"wake up")}, headers=caller.headers)
        queued_at = time.monotonic()
        assert uploaded.status_code == 202

        def picked_up() -> bool:
            status: str = httpx.get(f"{base}/{uploaded.json()['id']}", headers=caller.headers).json()["status"]
            return status != "pending"

        wait_for(picked_up, timeout=30, interval=0.02)
        waited = time.monotonic() - queued_at
    finally:
        for process in (worker, server):
            process.terminate()
            process.wait(timeout=30)

    # LISTEN/NOTIFY (PostgreSQL) or PRAGMA data_version (SQLite) woke it, well before its 5 s idle timer.
    assert waited < 2.5


def test_a_workflow_run_whose_worker_is_killed_resumes_after_its_last_finished_step(
    database_url: str, tmp_path: Path, tenants: Tenants
) -> None:
    caller = tenants.caller()
    tenant = Tenant(caller.organization_id, Mode.test)
    source = long_workflow("Resumable", 12, busy=True)
    workflow_id = parse_workflow_id(import_source(database_url, caller, source))
    with session_scope(database_url) as session:
        workflow = session.get_one(Workflow, workflow_id)
        run_id = start_run(session, tenant, workflow, 900, NewRun(caller.user_id, {}, None, max_attempts=3)).id

    def finished_steps() -> dict[int, tuple[int, object]]:
        with session_scope(database_url) as session:
            steps = session.scalars(select(WorkflowRunStep).where(WorkflowRunStep.run_id == run_id))
            return {step.position: (step.attempt, step.finished_at) for step in steps}

    victim = start_worker(database_url, tmp_path, "victim")
    rescuer: subprocess.Popen[bytes] | None = None
    try:
        wait_for(lambda: len(finished_steps()) >= 3, timeout=60, interval=0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        before = finished_steps()
        assert 3 <= len(before) < 12  # killed mid-run
        rescuer = start_worker(database_url, tmp_path, "rescuer")

        def completed() -> WorkflowRun | None:
            with session_scope(database_url) as session:
                run = session.get_one(WorkflowRun, run_id)
                return run if run.job.status in (JobStatus.completed, JobStatus.failed) else None

        run = wait_for(completed, timeout=120)
    finally:
        for process in (victim, rescuer):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)

    assert (run.job.status, run.job.attempts, run.outputs) == (JobStatus.completed, 2, {"done": 12})
    after = finished_steps()
    # The steps finished before the kill were kept as they were, not run again; the rest ran on attempt 2.
    assert {position: after[position] for position in before} == before
    assert {attempt for position, (attempt, _) in after.items() if position not in before} == {2}
    assert sorted(after) == list(range(12))
