"""What a sandboxed child can reach: its descriptors, its limits, the network, processes and programs.

Each isolation is asserted where this system offers it: a fresh process here tries the same namespaces, so a
sandbox that stopped asking for them fails these tests rather than passing quietly.
"""

from __future__ import annotations

import errno
import logging
import os
import platform
import resource
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest

from jobs import sandbox
from jobs.confinement import CHILD_OPEN_FILES, UNCONFINED
from jobs.sandbox import Channel, run_limited

# Not imported from tests.conftest: each child imports this module, and would import the whole gateway with it.
ROOT = Path(__file__).resolve().parent.parent
MEMORY = 512 * 1024 * 1024
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000


@cache
def _system_allows(namespaces: int) -> bool:
    """Whether a fresh, unprivileged-or-not process here may unshare these namespaces."""
    probe = f"import ctypes, sys; sys.exit(ctypes.CDLL(None, use_errno=True).unshare({namespaces}) != 0)"
    return subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


def _network_namespaces() -> bool:
    return _system_allows(CLONE_NEWUSER | CLONE_NEWNET) or _system_allows(CLONE_NEWNET)


def _seccomp() -> bool:
    status = Path("/proc/self/status")
    return (
        platform.machine() in ("x86_64", "aarch64")
        and sys.maxsize > 2**32
        and status.exists()
        and "Seccomp:" in status.read_text()
    )


def require_isolation(available: bool, missing: str) -> None:
    """The isolation the README promises on Linux (namespaces, seccomp), which CI's machines provide: a machine
    without it fails here naming what is missing, rather than passing these tests by skipping them."""
    if not available:
        pytest.fail(f"this machine cannot confine a child as the README promises: {missing}")


def _error_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, str(exc))


# Run in the child.


def _descriptors(channel: Channel) -> tuple[int, dict[int, str]]:
    listed = [int(name) for name in os.listdir("/proc/self/fd")]
    still_open = [fd for fd in listed if _is_open(fd)]  # the listing's own descriptor is closed by now
    return channel._connection.fileno(), {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in still_open}


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _limits(_unused: None) -> dict[str, tuple[int, int]]:
    names = ("RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_AS")
    return {name: resource.getrlimit(getattr(resource, name)) for name in names}


def _open_until_refused(_unused: None) -> tuple[int, str]:
    opened: list[int] = []
    try:
        while len(opened) < 10 * CHILD_OPEN_FILES:
            opened.append(os.open(os.devnull, os.O_RDONLY))
    except OSError as exc:
        return len(opened), _error_name(exc)
    return len(opened), "never refused"


def _write(path: str, size: int) -> str:
    try:
        with open(path, "wb") as target:
            target.write(b"x" * size)
    except OSError as exc:
        return _error_name(exc)
    return "written"


def _connect(port: int) -> tuple[str, str]:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            client.settimeout(5)
            client.connect(("127.0.0.1", port))
        outcome = "connected"
    except OSError as exc:
        outcome = _error_name(exc)
    return outcome, os.readlink("/proc/self/ns/net")


def _connect_by_path(path: str) -> str:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
    except OSError as exc:
        return _error_name(exc)
    return "connected"


def _start_a_process(_unused: None) -> dict[str, str]:
    outcomes = {}
    try:
        pid = os.fork()
    except OSError as exc:
        outcomes["fork"] = _error_name(exc)
    else:
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        outcomes["fork"] = "forked"
    try:
        subprocess.run(["true"], check=False)
        outcomes["subprocess"] = "ran"
    except OSError as exc:
        outcomes["subprocess"] = _error_name(exc)
    try:
        # Succeeding, the child becomes `true`: its parent then sees it end without an answer.
        os.execv("/bin/true", ["true"])
    except OSError as exc:
        outcomes["exec"] = _error_name(exc)
    return outcomes


def _reach_other_processes(pid: int) -> dict[str, str]:
    outcomes = {}
    reaches: list[tuple[str, Callable[[], object]]] = [
        ("signal itself", lambda: os.kill(os.getpid(), 0)),
        ("limit itself", lambda: resource.prlimit(0, resource.RLIMIT_CORE, (0, 0))),
        ("signal another", lambda: os.kill(pid, 0)),
        ("limit another", lambda: resource.prlimit(pid, resource.RLIMIT_CORE)),
    ]
    for name, reach in reaches:
        try:
            reach()
            outcomes[name] = "done"
        except OSError as exc:
            outcomes[name] = _error_name(exc)
    return outcomes


def _read_environment(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/environ", "rb") as source:
            source.read()
    except OSError as exc:
        return _error_name(exc)
    return "read"


# The tests.


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        yield server


def test_a_child_holds_only_its_channel_with_standard_streams_on_dev_null(
    listener: socket.socket, tmp_path: Path
) -> None:
    # This process holds a listening socket and a file as the gateway would; the fork server holds pipes of its own.
    with (tmp_path / "held").open("w"):
        channel, descriptors = run_limited(_descriptors, timeout=30, memory_bytes=MEMORY, serve=lambda *_: None)
    assert sorted(descriptors) == [0, 1, 2, channel]
    assert [descriptors[fd] for fd in (0, 1, 2)] == [os.devnull] * 3
    assert descriptors[channel].startswith("socket:")


def test_a_child_runs_with_lowered_limits() -> None:
    limits = run_limited(_limits, None, timeout=30, memory_bytes=MEMORY)
    assert limits == {
        "RLIMIT_NOFILE": (CHILD_OPEN_FILES, CHILD_OPEN_FILES),
        "RLIMIT_NPROC": (0, 0),
        # What a child writes it has built in memory first: by default no file grows past its memory.
        "RLIMIT_FSIZE": (MEMORY, MEMORY),
        "RLIMIT_AS": (MEMORY, MEMORY),
    }
    told = run_limited(_limits, None, timeout=30, memory_bytes=MEMORY, file_bytes=0)
    assert told["RLIMIT_FSIZE"] == (0, 0)


def test_a_child_opening_files_without_end_is_refused_at_its_limit() -> None:
    opened, refusal = run_limited(_open_until_refused, None, timeout=30, memory_bytes=MEMORY)
    # Besides stdin, stdout, stderr and the channel.
    assert (opened, refusal) == (CHILD_OPEN_FILES - 4, "EMFILE")


def test_a_child_cannot_write_a_file_past_its_size_limit(tmp_path: Path) -> None:
    limit = 1024 * 1024
    at_limit, past_limit = tmp_path / "at_limit", tmp_path / "past_limit"
    assert run_limited(_write, str(at_limit), limit, timeout=30, memory_bytes=MEMORY, file_bytes=limit) == "written"
    refused = run_limited(_write, str(past_limit), limit + 1, timeout=30, memory_bytes=MEMORY, file_bytes=limit)
    assert refused == "EFBIG"
    assert (at_limit.stat().st_size, past_limit.stat().st_size) == (limit, limit)


def test_a_child_reaches_no_network(listener: socket.socket) -> None:
    require_isolation(
        _network_namespaces() or _seccomp(),
        "this system offers a child no network isolation (no namespace, no seccomp)",
    )
    outcome, namespace = run_limited(_connect, listener.getsockname()[1], timeout=30, memory_bytes=MEMORY)
    assert outcome != "connected"
    with pytest.raises(BlockingIOError):
        listener.accept()
    if _network_namespaces():
        assert namespace != os.readlink("/proc/self/ns/net")
    if _seccomp():
        assert outcome == "EPERM"  # no socket at all: a Unix one reached by its path ignores namespaces


def test_a_child_cannot_reach_a_unix_socket_by_its_path(tmp_path: Path) -> None:
    # A database's local socket, say: no network namespace hides a path.
    require_isolation(_seccomp(), "without seccomp a child reaches any Unix socket its user may open")
    path = str(tmp_path / "db.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        server.setblocking(False)
        assert run_limited(_connect_by_path, path, timeout=30, memory_bytes=MEMORY) == "EPERM"
        with pytest.raises(BlockingIOError):
            server.accept()


def test_a_child_starts_no_process_and_no_program() -> None:
    require_isolation(
        _seccomp() or os.geteuid() != 0,
        "without seccomp nothing stops root forking: the kernel ignores RLIMIT_NPROC for root",
    )
    outcomes = run_limited(_start_a_process, None, timeout=30, memory_bytes=MEMORY)
    assert outcomes["fork"] in ("EPERM", "EAGAIN")
    assert outcomes["subprocess"] in ("EPERM", "EAGAIN")
    if _seccomp():
        assert outcomes == {"fork": "EPERM", "subprocess": "EPERM", "exec": "EPERM"}


def test_a_child_signals_and_limits_only_itself() -> None:
    # Its user's other processes would answer: `kill(-1, SIGKILL)` from a child would end the gateway.
    require_isolation(_seccomp(), "without seccomp a child may signal every process of its user")
    outcomes = run_limited(_reach_other_processes, os.getpid(), timeout=30, memory_bytes=MEMORY)
    assert outcomes == {
        "signal itself": "done",
        "limit itself": "done",
        "signal another": "EPERM",
        "limit another": "EPERM",
    }


def test_a_child_in_a_user_namespace_cannot_read_its_gateways_environment() -> None:
    require_isolation(
        _system_allows(CLONE_NEWUSER | CLONE_NEWNET),
        "no user namespace here: a child may read the environment of its user's processes",
    )
    assert _read_environment(os.getpid()) == "read"
    assert run_limited(_read_environment, os.getpid(), timeout=30, memory_bytes=MEMORY) == "EACCES"


# A system refusing namespaces and seccomp filters (as a container's default profile may): emulated by a filter
# on the gateway process itself, which its fork server and children inherit.
RESTRICTED_GATEWAY = """
import ctypes, logging, os, sys
sys.path.insert(0, {root!r})
from jobs import confinement
from jobs.sandbox import run_limited

logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
architecture, calls = confinement._SYSTEM_CALLS[os.uname().machine]
prctl = {{"x86_64": 157, "aarch64": 167}}[os.uname().machine]
steps = [
    ("load", 4, None, None), ("equal", architecture, None, "allow"), ("load", 0, None, None),
    ("equal", calls["unshare"], "refuse", None), ("equal", prctl, "refuse", None),
    "allow", ("return", confinement._ALLOW, None, None), "refuse", ("return", confinement._REFUSE, None, None),
]
filters = [confinement._SockFilter(*step) for step in confinement._assemble(steps)]
program = confinement._SockFprog(len(filters), (confinement._SockFilter * len(filters))(*filters))
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0 and libc.prctl(22, 2, ctypes.byref(program), 0, 0) == 0
if __name__ == "__main__":
    for _ in range(2):
        print(run_limited(len, [1, 2], timeout=30, memory_bytes=512 * 1024 * 1024))
"""


def test_what_a_system_cannot_isolate_is_logged_once_and_the_child_still_runs(tmp_path: Path) -> None:
    require_isolation(_seccomp(), "a restricted system is emulated with a seccomp filter")
    script = tmp_path / "restricted_gateway.py"
    script.write_text(RESTRICTED_GATEWAY.format(root=str(ROOT)))
    finished = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines() == [UNCONFINED["network"], UNCONFINED["system calls"], "2", "2"]


def _report_unconfined(channel: Channel, names: tuple[str, ...]) -> str:
    channel._connection.send(("unconfined", names))
    return "reported"


def test_a_child_reports_only_what_its_parent_knows_to_log(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "_UNCONFINED_LOGGED", set())
    # A child out of its sandbox sends what it likes: only names the parent knows are logged, each once.
    names = ("\n" * 1000, "network", "network")
    with caplog.at_level(logging.WARNING, logger="vaultgate.jobs"):
        for _ in range(2):
            assert run_limited(_report_unconfined, names, timeout=30, memory_bytes=MEMORY, serve=print) == "reported"
    assert [record.getMessage() for record in caplog.records] == [UNCONFINED["network"]]


def test_a_process_that_runs_jobs_hides_its_memory_and_environment() -> None:
    # Non-dumpable: a process of the same user (a child out of its sandbox where no user namespace isolates
    # it) can neither read this process's /proc/<pid>/environ, where the instance key is, nor attach to it.
    script = (
        "import ctypes\n"
        "from core.settings import Settings\n"
        "from jobs.worker import WorkerPool\n"
        "libc = ctypes.CDLL(None)\n"
        "before = libc.prctl(3, 0, 0, 0, 0)\n"
        "pool = WorkerPool(Settings(), 1, {})\n"
        "pool.start()\n"
        "print(before, libc.prctl(3, 0, 0, 0, 0))\n"
        "pool.stop()\n"
    )
    env = {**os.environ, "VAULTGATE_DATABASE_URL": "sqlite://", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert done.stdout.split() == ["1", "0"], done.stderr
