"""The job system on its own: pickup, leases, retries, cancellation, sandbox limits."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.failures import Cancelled, Conflict, Failure, Forbidden, Invalid, NotFound, Unsafe, Unsupported
from core.settings import Settings
from jobs import sandbox
from jobs.runtime import JobContext, JobKind
from jobs.sandbox import Channel, LimitExceeded, run_limited
from jobs.worker import WorkerPool
from storage import jobs
from storage.blobs import BlobNotFound
from storage.database import session_scope
from storage.models import TERMINAL_STATUSES, Job, JobStatus, Mode
from storage.tenancy import Tenant
from tests.conftest import ROOT, Tenants, wait_for


class Recorder:
    """Job kinds whose behaviour each test sets, recording every run."""

    def __init__(self) -> None:
        self.runs: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.release = threading.Event()

    def kind(self, name: str, behaviour: str) -> JobKind:
        def run(context: JobContext) -> None:
            with self.lock:
                self.runs[context.payload["label"]] += 1
                attempt = self.runs[context.payload["label"]]
            if behaviour == "crash_once" and attempt == 1:
                raise RuntimeError("transient")
            if behaviour == "crash":
                raise RuntimeError("always")
            if behaviour == "fail":
                raise Failure("bad_input", "The input cannot work.")
            if behaviour == "wait_for_cancel":
                context.checkpoint(10, "Waiting")
                self.release.wait(10)
                context.checkpoint(50, "Carrying on")
            context.complete(lambda _session: None, result={"label": context.payload["label"]})

        return JobKind(name, run)


@pytest.fixture
def tenant(tenants: Tenants) -> Tenant:
    caller = tenants.caller()
    return Tenant(caller.organization_id, Mode.test)


@pytest.fixture
def job_settings(database_url: str, tmp_path: Path) -> Settings:
    # A long lease: idle workers would look for work only every 5 s, so quick pickups prove the wake-up.
    return Settings(database_url=database_url, blob_dir=tmp_path / "blobs", job_lease_seconds=30)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def enqueue(settings: Settings, tenant: Tenant, kind: str, label: str, max_attempts: int = 3) -> uuid.UUID:
    with session_scope(settings.database_url) as session:
        return jobs.enqueue(session, tenant, kind, {"label": label}, max_attempts).id


def job(settings: Settings, job_id: uuid.UUID) -> Job:
    with session_scope(settings.database_url) as session:
        found = session.get_one(Job, job_id)
        session.expunge(found)
        return found


def finished(settings: Settings, job_id: uuid.UUID) -> Job | None:
    current = job(settings, job_id)
    return current if current.status in TERMINAL_STATUSES else None


@pytest.fixture
def pool(job_settings: Settings, recorder: Recorder) -> Iterator[WorkerPool]:
    kinds = {name: recorder.kind(name, name) for name in ("ok", "crash_once", "crash", "fail", "wait_for_cancel")}
    workers = WorkerPool(job_settings, 2, kinds)
    workers.start()
    yield workers
    recorder.release.set()
    workers.stop()


def test_a_queued_job_is_picked_up_on_its_signal_not_the_idle_timer(
    pool: WorkerPool, job_settings: Settings, tenant: Tenant, recorder: Recorder
) -> None:
    time.sleep(0.2)  # both workers are idle, waiting up to 5 s
    started = time.monotonic()
    job_id = enqueue(job_settings, tenant, "ok", "quick")

    done = wait_for(lambda: finished(job_settings, job_id), timeout=10)

    assert done.status is JobStatus.completed
    assert done.result == {"label": "quick"}
    assert done.progress == 100
    assert time.monotonic() - started < pool.idle_seconds / 2
    assert recorder.runs["quick"] == 1


def test_many_jobs_on_two_pools_each_run_exactly_once(
    job_settings: Settings, tenant: Tenant, recorder: Recorder
) -> None:
    kinds = {"ok": recorder.kind("ok", "ok")}
    pools = [WorkerPool(job_settings, 3, kinds), WorkerPool(job_settings, 3, kinds)]
    for workers in pools:
        workers.start()
    try:
        ids = [enqueue(job_settings, tenant, "ok", f"job-{n}") for n in range(40)]
        wait_for(lambda: all(finished(job_settings, job_id) for job_id in ids), timeout=60)
    finally:
        for workers in pools:
            workers.stop()

    assert recorder.runs == Counter({f"job-{n}": 1 for n in range(40)})


def test_a_crash_is_retried_and_a_permanent_failure_is_not(
    job_settings: Settings, tenant: Tenant, recorder: Recorder, pool: WorkerPool
) -> None:
    flaky = enqueue(job_settings, tenant, "crash_once", "flaky")
    broken = enqueue(job_settings, tenant, "fail", "broken")

    assert wait_for(lambda: finished(job_settings, flaky), timeout=20).status is JobStatus.completed
    failed = wait_for(lambda: finished(job_settings, broken), timeout=20)
    assert failed.status is JobStatus.failed
    assert (failed.error_code, failed.error_message) == ("bad_input", "The input cannot work.")
    assert recorder.runs["flaky"] == 2
    assert recorder.runs["broken"] == 1


def test_a_job_that_always_crashes_fails_after_its_last_attempt(
    job_settings: Settings, tenant: Tenant, recorder: Recorder, pool: WorkerPool
) -> None:
    doomed = enqueue(job_settings, tenant, "crash", "doomed", max_attempts=2)

    failed = wait_for(lambda: finished(job_settings, doomed), timeout=30)

    assert failed.status is JobStatus.failed
    assert failed.error_code == "internal_error"
    assert recorder.runs["doomed"] == 2


def test_cancel_is_immediate_when_pending_and_at_the_next_checkpoint_when_running(
    job_settings: Settings, tenant: Tenant, recorder: Recorder, pool: WorkerPool
) -> None:
    waiting = enqueue(job_settings, tenant, "wait_for_cancel", "running")
    wait_for(lambda: job(job_settings, waiting).stage == "Waiting")
    with session_scope(job_settings.database_url) as session:
        jobs.request_cancel(session, session.get_one(Job, waiting))
    assert job(job_settings, waiting).status is JobStatus.running  # not before its checkpoint
    recorder.release.set()

    cancelled = wait_for(lambda: finished(job_settings, waiting))
    assert cancelled.status is JobStatus.cancelled
    assert cancelled.stage == "Waiting"

    pool.stop()
    queued = enqueue(job_settings, tenant, "ok", "never")
    with session_scope(job_settings.database_url) as session:
        jobs.request_cancel(session, session.get_one(Job, queued))
    assert job(job_settings, queued).status is JobStatus.cancelled
    assert recorder.runs["never"] == 0


def _abandon(settings: Settings, tenant: Tenant, kind: str, label: str, attempts: int) -> uuid.UUID:
    """A job claimed by a worker that then vanished: its lease is already over."""
    job_id = enqueue(settings, tenant, kind, label, max_attempts=attempts)
    with session_scope(settings.database_url) as session:
        claim = jobs.claim(session, "ghost", timedelta(seconds=-1), [kind])
    assert claim is not None
    assert claim.id == job_id
    return job_id


def test_an_expired_lease_is_taken_over_and_the_last_one_fails_with_worker_lost(
    job_settings: Settings, tenant: Tenant, recorder: Recorder
) -> None:
    # In this order: an abandoned job with attempts left is claimable again, and would be claimed second.
    exhausted = _abandon(job_settings, tenant, "ok", "exhausted", attempts=1)
    resumable = _abandon(job_settings, tenant, "ok", "resumable", attempts=3)
    workers = WorkerPool(job_settings, 1, {"ok": recorder.kind("ok", "ok")})
    workers.start()
    try:
        taken_over = wait_for(lambda: finished(job_settings, resumable), timeout=15)
        lost = wait_for(lambda: finished(job_settings, exhausted), timeout=15)
    finally:
        workers.stop()

    assert (taken_over.status, taken_over.attempts) == (JobStatus.completed, 2)
    assert (lost.status, lost.error_code) == (JobStatus.failed, "worker_lost")
    assert recorder.runs["exhausted"] == 0


def test_a_worker_that_lost_its_lease_cannot_complete_the_job(job_settings: Settings, tenant: Tenant) -> None:
    job_id = enqueue(job_settings, tenant, "ok", "contested")
    with session_scope(job_settings.database_url) as session:
        stale = jobs.claim(session, "slow", timedelta(seconds=-1), ["ok"])
    with session_scope(job_settings.database_url) as session:
        fresh = jobs.claim(session, "fast", timedelta(seconds=30), ["ok"])
    assert stale is not None
    assert fresh is not None
    assert stale.id == fresh.id == job_id

    with pytest.raises(jobs.LeaseLost), session_scope(job_settings.database_url) as session:
        jobs.finish(session, stale, JobStatus.completed)
    with session_scope(job_settings.database_url) as session:
        jobs.finish(session, fresh, JobStatus.completed)
    assert job(job_settings, job_id).status is JobStatus.completed


def _spin() -> None:
    while True:
        pass


def _hog() -> None:
    hoard = []
    while True:
        hoard.append(bytearray(16 * 1024 * 1024))


def _double(value: int) -> int:
    return value * 2


def _refuse() -> None:
    raise Failure("nope", "refused in the child")


def test_the_sandbox_returns_results_and_stops_runaway_children() -> None:
    assert run_limited(_double, 21, timeout=30, memory_bytes=512 * 1024 * 1024) == 42
    with pytest.raises(Failure, match="refused in the child"):
        run_limited(_refuse, timeout=30, memory_bytes=512 * 1024 * 1024)
    with pytest.raises(LimitExceeded) as spun:
        run_limited(_spin, timeout=1.5, memory_bytes=512 * 1024 * 1024)
    assert spun.value.limit in ("time", "resources")
    with pytest.raises(LimitExceeded) as hogged:
        run_limited(_hog, timeout=30, memory_bytes=256 * 1024 * 1024)
    assert hogged.value.limit in ("memory", "resources")


class _RunsACommand:
    """What a child out of its sandbox could send: unpickling it would run a command in the parent."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def _send_a_command(marker: str) -> _RunsACommand:
    return _RunsACommand(marker)


def _ask_parent(channel: Channel, question: str) -> str:
    answer: str = channel.call("ask", question)
    return answer.upper()


def test_a_child_can_send_only_data_and_ask_only_what_its_parent_serves(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(pickle.UnpicklingError, match=r"may not send posix\.system"):
        run_limited(_send_a_command, str(marker), timeout=30, memory_bytes=512 * 1024 * 1024)
    assert not marker.exists()

    asked: list[tuple[str, tuple[object, ...]]] = []

    def serve(name: str, args: tuple[object, ...]) -> str:
        asked.append((name, args))
        return f"{args[0]} answered"

    result = run_limited(_ask_parent, "why", timeout=30, memory_bytes=512 * 1024 * 1024, serve=serve)
    assert (result, asked) == ("WHY ANSWERED", [("ask", ("why",))])


def test_a_sandboxed_child_does_not_run_the_main_script_again(tmp_path: Path) -> None:
    # `vaultgate serve` is a console script: each child re-running it imported the whole gateway (~1 s).
    runs = tmp_path / "runs"
    script = tmp_path / "main_script.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        f"with open({str(runs)!r}, 'a') as log:\n    log.write('ran\\n')\n"
        "from jobs.sandbox import run_limited\n"
        "if __name__ == '__main__':\n"
        "    assert run_limited(len, [1, 2], timeout=30, memory_bytes=512 * 1024 * 1024) == 2\n"
        "    assert run_limited(len, [1, 2, 3], timeout=30, memory_bytes=512 * 1024 * 1024) == 3\n"
    )
    finished = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert runs.read_text() == "ran\n"


def test_a_child_started_by_a_worker_pool_never_sees_the_gateways_secrets(tmp_path: Path) -> None:
    (tmp_path / "env_probe.py").write_text(
        "import os\n"
        "def read(_unused):\n"
        "    with open('/proc/self/environ', 'rb') as source:\n"
        "        own = source.read().decode(errors='replace')\n"
        "    return os.environ.get('VAULTGATE_FAKE_SECRET', '') + '\\n' + own, os.getppid()\n"
    )
    # The fork server's environment is read here: a child in a user namespace may not read it.
    script = tmp_path / "pool_process.py"
    script.write_text(
        f"import os, sys\nsys.path[:0] = [{str(ROOT)!r}, {str(tmp_path)!r}]\n"
        "os.environ['VAULTGATE_FAKE_SECRET'] = 'hunter2'\n"
        "import env_probe\n"
        "from jobs.sandbox import run_limited, start_fork_server\n"
        "if __name__ == '__main__':\n"
        "    start_fork_server()\n"
        "    assert os.environ['VAULTGATE_FAKE_SECRET'] == 'hunter2'\n"
        "    seen, server = run_limited(env_probe.read, None, timeout=30, memory_bytes=512 * 1024 * 1024)\n"
        "    with open(f'/proc/{server}/environ', 'rb') as source:\n"
        "        print(seen, source.read().decode(errors='replace'), sep='\\n')\n"
    )
    finished = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.count("PATH=") >= 2  # it did read both environments
    assert "hunter2" not in finished.stdout


def _text(value: str) -> bytes:
    encoded = value.encode()
    return pickle.SHORT_BINUNICODE + bytes([len(encoded)]) + encoded


def _global(module: str, name: str) -> bytes:
    return _text(module) + _text(name) + pickle.STACK_GLOBAL


def _send_crafted(channel: Channel, marker: str) -> str:
    """A child out of its sandbox writing its own pickle: `attrgetter`, reached through a dotted name in one
    of our modules, and `itemgetter` walk Channel.__init__.__globals__ to os.system, then call it."""
    apply = pickle.TUPLE1 + pickle.REDUCE
    getter = _global("workflows.expressions", "nodes.operator.attrgetter")
    payload = (
        pickle.PROTO
        + b"\x04"
        + getter + _text("system") + apply
        + _global("collections", "_itemgetter") + _text("os") + apply
        + getter + _text("__init__.__globals__") + apply
        + _global("jobs.sandbox", "Channel") + apply
        + apply
        + apply
        + _text(f"touch {marker}") + apply
        + pickle.STOP
    )  # fmt: skip
    channel._connection.send_bytes(payload)
    return "sent"


def test_a_child_cannot_reach_a_callable_through_a_dotted_name(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(pickle.UnpicklingError, match=r"nodes\.operator\.attrgetter"):
        run_limited(_send_crafted, str(marker), timeout=30, memory_bytes=512 * 1024 * 1024, serve=lambda *_: None)
    assert not marker.exists()


@pytest.mark.parametrize(
    "failure",
    [
        Failure("pdf_encrypted", "The PDF is encrypted."),
        Cancelled(),
        Cancelled("timeout", "The run passed its timeout."),
        NotFound("document", "6e1d7c2a-3b4f-4a5e-8d9c-0b1a2c3d4e5f"),
        Conflict("not ready"),
        Forbidden("no"),
        Invalid.at("/document_ids", "at most 100 documents"),
        Unsupported("not a DOCX"),
        Unsafe("a DTD"),
        BlobNotFound("tenant/test/3e2d57a70fd544ac98142ed731b7b36a"),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_every_failure_crosses_back_from_a_sandboxed_child_as_it_was(failure: Failure) -> None:
    # A child's exception reaches the parent through the sandbox's allowlisting unpickler.
    crossed = sandbox._Unpickler(io.BytesIO(pickle.dumps(failure))).load()

    assert type(crossed) is type(failure)
    assert (crossed.code, crossed.message, crossed.errors) == (failure.code, failure.message, failure.errors)
