"""Run a function in a child process bounded in wall time, CPU and memory.

Parsing an untrusted file (or rendering an untrusted template) can loop or
allocate without bound; a child process is the only boundary the interpreter
cannot cross. A runaway child is killed and its worker carries on.

A child that needs data only its parent may reach (the database, say) asks
for it over a `Channel`: the parent answers each call with `serve`, so the
child itself never holds a connection or a credential.

Before it runs the function, a child confines itself (`jobs.confinement`):
only its channel open, lowered limits, no network, no new process or
program; what a system cannot give is logged once here. Its environment
loses the gateway's secrets.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import multiprocessing
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing import forkserver, process
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from jobs.confinement import UNCONFINED, confine

Result = TypeVar("Result")
# The parent's answer to a child's call: `serve(name, args)`.
Serve = Callable[[str, tuple[Any, ...]], Any]

# The fork server starts once per process with the parsers, Jinja, docxtpl and this module (ctypes with it)
# already imported, so a child only forks (~10 ms); `jobs.forkserver` keeps each child from running the main
# script again (~1 s).
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(
    ["jobs.forkserver", "jobs.sandbox", "vault.extract", "workflows.expressions", "fills.render"]
)


# Read by `jobs.forkserver` in the fork server.
MAIN_SCRIPT_VARIABLE = "VAULTGATE_SANDBOX_MAIN_SCRIPT"


def _name_main_script() -> None:
    """Tell the fork server (through its environment, read when it starts) which script is the main one."""
    script = getattr(sys.modules["__main__"], "__file__", None)
    if script and getattr(sys.modules["__main__"], "__spec__", None) is None:
        # As multiprocessing names it in what it sends each child (spawn.get_preparation_data).
        directory = getattr(process, "ORIGINAL_DIR", None) or os.getcwd()
        os.environ[MAIN_SCRIPT_VARIABLE] = os.path.normpath(os.path.join(directory, script))
    else:
        os.environ.pop(MAIN_SCRIPT_VARIABLE, None)


_name_main_script()


class LimitExceeded(Exception):
    """The child ran out of wall time, CPU or memory and was stopped."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


# What a child may send: plain data (pickled as opcodes, never looked up), exceptions, and plain records
# (dataclasses) of our own packages. Anything else (a callable such as os.system, one reached through a
# dotted name such as `module.operator.attrgetter`, even `bytes` called with a huge size) is refused, so
# even a child whose sandbox was escaped cannot make its parent run code by what it sends.
_OUR_PACKAGES = ("core.failures", "fills.", "jobs.", "storage.", "vault.", "workflows.")
# The child's environment loses these: it needs no database URL, bucket key or other secret of the gateway.
_SECRET_PREFIXES = ("VAULTGATE_", "AWS_", "PG", "DATABASE_URL", "REDIS_URL")


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        # Decided by name before anything is imported: a message cannot make the parent import a module.
        if "." not in name and (module == "builtins" or module.startswith(_OUR_PACKAGES)):
            found = super().find_class(module, name)
            # Exception, not BaseException: a SystemExit or KeyboardInterrupt would end the worker thread.
            if isinstance(found, type) and (issubclass(found, Exception) or _is_record(module, found)):
                return found
        raise pickle.UnpicklingError(f"a sandboxed child may not send {module}.{name}")


def _is_record(module: str, found: type) -> bool:
    return module != "builtins" and dataclasses.is_dataclass(found) and found.__module__ == module


def _receive(connection: Connection) -> Any:
    return _Unpickler(io.BytesIO(connection.recv_bytes())).load()


class Channel:
    """The child's end: `call` blocks until the parent has served the call."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def call(self, name: str, *args: Any) -> Any:
        self._connection.send(("call", name, args))
        return self._connection.recv()


def _is_secret(name: str) -> bool:
    return name.startswith(_SECRET_PREFIXES) and name != MAIN_SCRIPT_VARIABLE


logger = logging.getLogger("vaultgate.jobs")

_UNCONFINED_LOGGED: set[str] = set()
_UNCONFINED_LOCK = threading.Lock()


def _log_unconfined(unconfined: object) -> None:
    """Log, once per process, each isolation a child reported missing (only names this module knows)."""
    names = unconfined if isinstance(unconfined, tuple) else ()
    with _UNCONFINED_LOCK:
        for name in names:
            if name in UNCONFINED and name not in _UNCONFINED_LOGGED:
                _UNCONFINED_LOGGED.add(name)
                logger.warning(UNCONFINED[name])


_FORK_SERVER_LOCK = threading.Lock()


def start_fork_server() -> None:
    """Start the fork server now, without the gateway's secrets in the environment every child inherits.

    For a process about to start its worker threads: `os.environ` is changed for the moment the server starts.
    Without this call the fork server starts with the first child, inheriting the environment as it is.
    """
    with _FORK_SERVER_LOCK:
        secrets = {name: os.environ.pop(name) for name in list(os.environ) if _is_secret(name)}
        try:
            forkserver.ensure_running()
        finally:
            os.environ.update(secrets)


def _child(
    connection: Connection,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    limits: tuple[int, int, int],
    channel: bool,
) -> None:
    for name in [key for key in os.environ if _is_secret(key)]:
        del os.environ[name]
    try:
        unconfined = confine(connection.fileno(), *limits)
        if unconfined:
            connection.send(("unconfined", unconfined))
        call_args = (Channel(connection), *args) if channel else args
        outcome: tuple[str, Any] = ("ok", function(*call_args))
    except MemoryError:
        outcome = ("memory", None)
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which re-raises it
        outcome = ("error", exc)
    try:
        connection.send(outcome)
    except Exception as exc:  # noqa: BLE001 - an unpicklable exception still reaches the parent as text
        connection.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    connection.close()


def _outcome(
    receiver: Connection,
    deadline: float,
    serve: Serve | None,
    idle: Callable[[], None] | None,
    idle_seconds: float,
    timeout: float,
) -> tuple[str, Any]:
    """Answer the child's calls until it sends its outcome; `idle` runs every `idle_seconds`, busy or not."""
    next_idle = time.monotonic() + idle_seconds
    while True:
        now = time.monotonic()
        if now >= deadline:
            raise LimitExceeded("time", f"stopped after {timeout:g} s")
        if idle is not None and now >= next_idle:
            idle()
            next_idle = now + idle_seconds
        wait = min(deadline, next_idle) - now if idle is not None else deadline - now
        if not receiver.poll(max(wait, 0)):
            continue
        try:
            message = _receive(receiver)
        except EOFError:
            # Killed by the kernel: SIGXCPU past the CPU limit, or an allocation failure outside Python.
            raise LimitExceeded("resources", "stopped by its CPU or memory limit") from None
        if message[0] == "unconfined":
            _log_unconfined(message[1])
            continue
        if message[0] != "call":
            return message[0], message[1]
        if serve is None:
            raise RuntimeError("the child called its parent, which serves no calls")
        receiver.send(serve(message[1], message[2]))


def run_limited(
    function: Callable[..., Result],
    *args: Any,
    timeout: float,
    memory_bytes: int,
    cpu_seconds: int | None = None,
    file_bytes: int | None = None,
    serve: Serve | None = None,
    idle: Callable[[], None] | None = None,
    idle_seconds: float = 1.0,
) -> Result:
    """`function(*args)` in a child; its exceptions re-raised here, LimitExceeded if a bound was hit.

    What the child sends back is unpickled with an allowlist (data, exceptions, our own types), and the
    child runs confined (`jobs.confinement`); no file it writes grows past `file_bytes` (by default
    `memory_bytes`: what it writes, a filled document say, it has built in memory first).

    With `serve`, the child is called as `function(channel, *args)` and each `channel.call(name, *args)` is
    answered by `serve(name, args)` here; whatever `serve` or `idle` raise stops the child and propagates.
    """
    if getattr(function, "__module__", None) == "__main__":
        # A child never runs the main script again (see jobs.forkserver), so it could not find the function.
        raise ValueError(f"{function.__qualname__} must live in an importable module to run in a child")
    receiver, sender = _CONTEXT.Pipe(duplex=serve is not None)
    cpu = cpu_seconds if cpu_seconds is not None else max(1, int(timeout))
    limits = (memory_bytes, cpu, memory_bytes if file_bytes is None else file_bytes)
    process = _CONTEXT.Process(target=_child, args=(sender, function, args, limits, serve is not None), daemon=True)
    process.start()
    sender.close()
    try:
        status, value = _outcome(receiver, time.monotonic() + timeout, serve, idle, idle_seconds, timeout)
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if status == "memory":
        raise LimitExceeded("memory", f"needed more than {memory_bytes // (1024 * 1024)} MiB")
    if status == "error":
        raise value
    return value  # type: ignore[no-any-return]
