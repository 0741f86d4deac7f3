"""What a sandboxed child (`jobs.sandbox`) may still reach once it has confined itself, before its function runs.

On Linux a child confines itself:
- descriptors: only its channel stays open; stdin, stdout and stderr lead to /dev/null (they could be the
  gateway's log file or journal socket, and would carry whatever an untrusted file makes a parser print);
- limits: address space, CPU seconds, files open at once (`CHILD_OPEN_FILES`), the size of any file it writes,
  and no new process (RLIMIT_NPROC 0, which the kernel ignores for root: seccomp covers that case);
- network: a network namespace of its own, no interface up, entered through a user namespace where the
  system allows one (needing no privilege, and a child running as root then keeps no capability over the
  host, nor access to other processes' memory and environment), else directly (root, CAP_SYS_ADMIN);
- system calls (seccomp, 64-bit x86_64 and aarch64): no fork, exec, ptrace, reading another process's memory,
  new namespace or io_uring; no new socket at all (a Unix socket reached by its path, a database's say, is
  no less reachable in a network namespace); signals and resource limits for itself only.
What the system cannot give is named in `UNCONFINED` for the parent to log, and the child runs without it.

Not isolated: the file system (a child reads what its user may read, and writes where its user may write,
each file within RLIMIT_FSIZE, in number only as fast as its CPU and wall time allow); without a user
namespace, other processes of its user (it may read their /proc entries, environment included); the kernel
(a user namespace lets its holder reach more of it; seccomp keeps netlink and new namespaces out of reach).
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import struct
import sys

# Enough for the file a child reads (or the template it reads and the document it writes), the modules Python
# imports lazily, and their zip archives; a child opening files without end stops here.
CHILD_OPEN_FILES = 64

# What a child may report it could not be cut off from, and what the parent logs about it (once).
UNCONFINED = {
    "network": "Sandboxed children keep the host's network: this system gives them no network namespace "
    "(unshare refused CLONE_NEWUSER|CLONE_NEWNET and CLONE_NEWNET).",
    "system calls": "Sandboxed children may start processes, open sockets (Unix ones, reached by their path, "
    "even in a network namespace) and signal their user's processes: this system gives them no seccomp filter "
    "(64-bit Linux on x86_64 or aarch64 only).",
}

_CLONE_THREAD, _CLONE_NEWUSER, _CLONE_NEWNET = 0x00010000, 0x10000000, 0x40000000
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET.
_CLONE_ANY_NAMESPACE = 0x7E020000
_PR_SET_SECCOMP, _PR_SET_NO_NEW_PRIVS, _SECCOMP_MODE_FILTER = 22, 38, 2
_ALLOW, _REFUSE = 0x7FFF0000, 0x00050000 | errno.EPERM
# ENOSYS for clone3: the C library falls back to `clone`, whose flags a filter can read.
_UNIMPLEMENTED = 0x00050000 | errno.ENOSYS
# x32 system calls on x86_64: the same calls under other numbers.
_X32_SYSTEM_CALL_BIT = 0x40000000

_REFUSED_CALLS = (
    *("fork", "vfork", "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev"),
    *("unshare", "setns", "io_uring_setup", "pidfd_send_signal", "socket"),
)
# Their first argument must be the child itself: `kill(-1, SIGKILL)` would reach every process of its user.
_CALLS_ON_ITSELF = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
# (AUDIT_ARCH_*, system call numbers) from <asm/unistd_64.h> and <asm-generic/unistd.h>.
_SYSTEM_CALLS: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,
        {"socket": 41, "clone": 56, "fork": 57, "vfork": 58, "execve": 59, "kill": 62, "ptrace": 101,
         "rt_sigqueueinfo": 129, "tkill": 200, "tgkill": 234, "unshare": 272, "rt_tgsigqueueinfo": 297,
         "prlimit64": 302, "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311, "execveat": 322,
         "pidfd_send_signal": 424, "io_uring_setup": 425, "clone3": 435},
    ),
    "aarch64": (
        0xC00000B7,
        {"unshare": 97, "ptrace": 117, "kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138,
         "socket": 198, "clone": 220, "execve": 221, "rt_tgsigqueueinfo": 240, "prlimit64": 261, "setns": 268,
         "process_vm_readv": 270, "process_vm_writev": 271, "execveat": 281, "pidfd_send_signal": 424,
         "io_uring_setup": 425, "clone3": 435},
    ),
}  # fmt: skip

# (operation, k, label if true, label if false), or a label naming the next instruction.
Step = tuple[str, int, str | None, str | None] | str


def confine(channel: int, memory: int, cpu: int, file_bytes: int) -> tuple[str, ...]:
    """Confine this child as the module says; returns the names in `UNCONFINED` it could not be confined from."""
    _close_inherited_descriptors(channel)
    unconfined = []
    libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
    if libc is None or not _leave_the_network(libc):
        unconfined.append("network")
    _lower_limit(resource.RLIMIT_AS, memory)
    _lower_limit(resource.RLIMIT_CPU, cpu, cpu + 1)
    _lower_limit(resource.RLIMIT_NOFILE, CHILD_OPEN_FILES)
    _lower_limit(resource.RLIMIT_FSIZE, file_bytes)
    _lower_limit(resource.RLIMIT_NPROC, 0)
    # Last: the filter refuses `unshare`.
    if libc is None or not _filter_system_calls(libc):
        unconfined.append("system calls")
    return tuple(unconfined)


def _close_inherited_descriptors(channel: int) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    # The channel is one of them only if the gateway started with a standard stream closed.
    for standard in {0, 1, 2} - {channel}:
        os.dup2(null, standard)
    # multiprocessing left stdin on a /dev/null descriptor of its own (closefd=False), about to be closed.
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives as long as the child
    listing = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    highest = max(int(name) for name in os.listdir(listing))
    os.closerange(3, channel)
    os.closerange(max(channel + 1, 3), highest + 1)


def _leave_the_network(libc: ctypes.CDLL) -> bool:
    return any(libc.unshare(flags) == 0 for flags in (_CLONE_NEWUSER | _CLONE_NEWNET, _CLONE_NEWNET))


def _lower_limit(limit: int, soft: int, hard: int | None = None) -> None:
    wanted = (soft, soft if hard is None else hard)
    current_hard = resource.getrlimit(limit)[1]
    if current_hard != resource.RLIM_INFINITY:
        wanted = (min(wanted[0], current_hard), min(wanted[1], current_hard))
    resource.setrlimit(limit, wanted)


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _filter_system_calls(libc: ctypes.CDLL) -> bool:
    known = _SYSTEM_CALLS.get(os.uname().machine)
    # A 32-bit interpreter on a 64-bit kernel makes the calls of another architecture.
    if known is None or struct.calcsize("P") != 8:
        return False
    instructions = [_SockFilter(*instruction) for instruction in _assemble(_seccomp_program(*known, os.getpid()))]
    program = _SockFprog(len(instructions), (_SockFilter * len(instructions))(*instructions))
    prctl = libc.prctl
    # Declared as the kernel reads them (unsigned long), not left to the C default of int.
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return bool(prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(program), 0, 0) == 0)


def _seccomp_program(architecture: int, calls: dict[str, int], pid: int) -> list[Step]:
    number, arch, first_argument = 0, 4, 16  # offsets in struct seccomp_data (arguments little-endian)
    return [
        ("load", arch, None, None),
        ("equal", architecture, None, "refuse"),
        ("load", number, None, None),
        ("at least", _X32_SYSTEM_CALL_BIT, "refuse", None),
        *[("equal", calls[name], "refuse", None) for name in _REFUSED_CALLS],
        *[("equal", calls[name], "itself", None) for name in _CALLS_ON_ITSELF],
        ("equal", calls["prlimit64"], "itself or 0", None),
        ("equal", calls["clone"], "clone", None),
        ("equal", calls["clone3"], "unimplemented", None),
        ("return", _ALLOW, None, None),
        "clone",
        ("load", first_argument, None, None),
        ("set", _CLONE_ANY_NAMESPACE, "refuse", None),
        ("set", _CLONE_THREAD, "allow", "refuse"),
        "itself or 0",
        ("load", first_argument, None, None),
        ("equal", 0, "allow", "compare pid"),
        "itself",
        ("load", first_argument, None, None),
        "compare pid",
        ("equal", pid, "allow", "refuse"),
        "allow",
        ("return", _ALLOW, None, None),
        "refuse",
        ("return", _REFUSE, None, None),
        "unimplemented",
        ("return", _UNIMPLEMENTED, None, None),
    ]


def _assemble(program: list[Step]) -> list[tuple[int, int, int, int]]:
    """Classic BPF (code, jump if true, jump if false, k); a jump is the number of instructions it skips."""
    codes = {"load": 0x20, "equal": 0x15, "set": 0x45, "at least": 0x35, "return": 0x06}
    instructions: list[tuple[str, int, str | None, str | None]] = []
    labels: dict[str, int] = {}
    for step in program:
        if isinstance(step, str):
            labels[step] = len(instructions)
        else:
            instructions.append(step)

    def skip(label: str | None, index: int) -> int:
        return 0 if label is None else labels[label] - index - 1

    return [
        (codes[operation], skip(when_true, index), skip(when_false, index), k)
        for index, (operation, k, when_true, when_false) in enumerate(instructions)
    ]


_PR_SET_DUMPABLE = 4


def hide_process_memory() -> bool:
    """Make this process non-dumpable, so a process of the same user (a sandboxed child that escaped its
    sandbox, where no user namespace isolates it) cannot read its `/proc/<pid>/environ` or memory, where the
    instance key and database credentials live. Also refuses debuggers' attach (ptrace) by same-user processes.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
