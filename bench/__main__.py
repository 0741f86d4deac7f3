"""`make bench`: throughput of meta.whoami against a bare Starlette baseline, measured in one run.

Both servers run one uvicorn process (uvloop + httptools) on the same fresh
SQLite database and key; wrk drives each in turn, alternating, three rounds.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from storage import api_keys
from storage.accounts import create_organization, create_user
from storage.database import dispose_engine, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Mode, Role, Tier

ROOT = Path(__file__).resolve().parent.parent
DURATION = os.environ.get("BENCH_DURATION", "8s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "32")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed(database_url: str) -> str:
    upgrade_to_head(database_url)
    with session_scope(database_url) as session:
        organization = create_organization(session, name="Bench", tier=Tier.enterprise)
        user = create_user(
            session, organization=organization, email="bench@example.com", name="Bench", role=Role.admin, permissions=[]
        )
        secret = api_keys.create_key(session, user=user, mode=Mode.test, name="bench", scopes=["meta:read"]).secret
    dispose_engine(database_url)
    return secret


def _start(app: str, port: int, env: dict[str, str], factory: bool) -> subprocess.Popen[bytes]:
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
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v2/meta/whoami", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def _wrk(url: str, key: str) -> float:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "-H", f"Authorization: Bearer {key}", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"benchmark saw errors:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert match, output
    return float(match.group(1))


def main() -> None:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    directory = Path(tempfile.mkdtemp(prefix="vaultgate-bench-"))
    database_url = f"sqlite:///{directory / 'bench.db'}"
    key = _seed(database_url)
    env = {**os.environ, "VAULTGATE_DATABASE_URL": database_url, "VAULTGATE_LOG_LEVEL": "warning"}
    servers = {
        "bare Starlette + key lookup": ("bench.bare_app:app", False),
        "Vaultgate meta.whoami": ("gateway.app:create_app", True),
    }
    results: dict[str, list[float]] = {name: [] for name in servers}
    for _ in range(ROUNDS):
        for name, (app, factory) in servers.items():
            port = _free_port()
            process = _start(app, port, env, factory)
            try:
                _wrk(f"http://127.0.0.1:{port}/api/v2/meta/whoami", key)  # warm-up, discarded
                results[name].append(_wrk(f"http://127.0.0.1:{port}/api/v2/meta/whoami", key))
            finally:
                process.terminate()
                process.wait()
    baseline = statistics.median(results["bare Starlette + key lookup"])
    print(f"wrk -t2 -c{CONNECTIONS} -d{DURATION}, {ROUNDS} rounds, median req/s (1 uvicorn process, SQLite):")
    for name, values in results.items():
        median = statistics.median(values)
        print(
            f"  {name:32s} {median:9.0f} req/s  ({median / baseline:.2f}x baseline)  runs: "
            + ", ".join(f"{v:.0f}" for v in values)
        )
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
