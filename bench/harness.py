"""What every benchmark shares: a seeded database, servers on free ports, and wrk."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from gateway.contract import load_contract
from storage import api_keys
from storage.accounts import create_organization, create_user
from storage.database import dispose_engine, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Mode, Role, Tier

ROOT = Path(__file__).resolve().parent.parent
DURATION = os.environ.get("BENCH_DURATION", "8s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "32")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# Every app and server a benchmark starts shares one throwaway instance key (servers inherit the environment).
os.environ.setdefault("VAULTGATE_SECRET_KEY", secrets.token_hex(32))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def seeded_database(keys: int = 1) -> Iterator[tuple[str, list[str]]]:
    """A fresh SQLite database with `keys` enterprise organizations, one key each holding every scope.

    One organization per key: every key of an organization also draws from its organization's bucket, so
    keys of one organization would share one budget and a long run would meet 429s.
    """
    directory = Path(tempfile.mkdtemp(prefix="vaultgate-bench-"))
    database_url = f"sqlite:///{directory / 'bench.db'}"
    upgrade_to_head(database_url)
    secrets = []
    with session_scope(database_url) as session:
        for number in range(keys):
            organization = create_organization(session, name=f"Bench {number}", tier=Tier.enterprise)
            user = create_user(
                session,
                organization=organization,
                email=f"bench{number}@example.com",
                name="Bench",
                role=Role.admin,
                permissions=[],
            )
            scopes = load_contract().scopes
            secrets.append(api_keys.create_key(session, user=user, mode=Mode.test, name="bench", scopes=scopes).secret)
    dispose_engine(database_url)
    try:
        yield database_url, secrets
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def server(app: str, env: dict[str, str], factory: bool = True) -> Iterator[str]:
    """One uvicorn process (uvloop + httptools, no access log); yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if factory:
        command.append("--factory")
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    try:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()


@contextmanager
def vaultgate_client(database_url: str, blob_dir: Path, key: str) -> Iterator[httpx.Client]:
    """A real `vaultgate serve` (the console script, as `make serve` runs it, with its 2 job workers) on a free
    port, and an API client for it holding `key`; yields once the server answers."""
    port = free_port()
    env = {
        **os.environ,
        "VAULTGATE_DATABASE_URL": database_url,
        "VAULTGATE_PORT": str(port),
        "VAULTGATE_BLOB_DIR": str(blob_dir),
        "VAULTGATE_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen([str(Path(sys.executable).parent / "vaultgate"), "serve"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}/api/v2"
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
            for _ in range(600):
                try:
                    client.get("/health")
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
            yield client
    finally:
        process.terminate()
        process.wait()


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)


def wrk(url: str, script: Path | None = None, headers: dict[str, str] | None = None) -> float:
    """Requests per second after a discarded warm-up run; any non-2xx answer fails the benchmark."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    subprocess.run([*command[:3], "-d2s", *command[4:]], check=True, capture_output=True)
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"benchmark saw errors:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError(output)
    return float(match.group(1))


def report(title: str, results: dict[str, list[float]], baseline: str) -> None:
    import statistics

    base = statistics.median(results[baseline])
    print(f"\n{title}\nwrk -t2 -c{CONNECTIONS} -d{DURATION}, {ROUNDS} rounds, median req/s, 1 uvicorn process, SQLite")
    for name, values in results.items():
        median = statistics.median(values)
        runs = ", ".join(f"{value:.0f}" for value in values)
        print(f"  {name:44s} {median:8.0f} req/s  {median / base:5.2f}x  (runs: {runs})")
