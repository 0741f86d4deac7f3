"""Run a function in a child process bounded in wall time, CPU and memory.

Parsing an untrusted file (or rendering an untrusted template) can loop or
allocate without bound; a child process is the only boundary the interpreter
cannot cross. A runaway child is killed and its worker carries on.
"""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

Result = TypeVar("Result")

# The fork server starts once per process with the main module, the parsers and Jinja already imported, so a
# child only forks: without "__main__" each child would import the whole main module again (~200 ms).
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["__main__", "vault.extract", "workflows.expressions"])


class LimitExceeded(Exception):
    """The child ran out of wall time, CPU or memory and was stopped."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


def _child(connection: Connection, function: Callable[..., Any], args: tuple[Any, ...], memory: int, cpu: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        outcome: tuple[str, Any] = ("ok", function(*args))
    except MemoryError:
        outcome = ("memory", None)
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which re-raises it
        outcome = ("error", exc)
    try:
        connection.send(outcome)
    except Exception as exc:  # noqa: BLE001 - an unpicklable exception still reaches the parent as text
        connection.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    connection.close()


def run_limited(
    function: Callable[..., Result], *args: Any, timeout: float, memory_bytes: int, cpu_seconds: int | None = None
) -> Result:
    """`function(*args)` in a child; its exceptions re-raised here, LimitExceeded if a bound was hit."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    cpu = cpu_seconds if cpu_seconds is not None else max(1, int(timeout))
    process = _CONTEXT.Process(target=_child, args=(sender, function, args, memory_bytes, cpu), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise LimitExceeded("time", f"stopped after {timeout:g} s")
        try:
            status, value = receiver.recv()
        except EOFError:
            # Killed by the kernel: SIGXCPU past the CPU limit, or an allocation failure outside Python.
            raise LimitExceeded("resources", "stopped by its CPU or memory limit") from None
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
