"""The operator's CLI, as a newcomer uses it: `serve --demo` prints a key and a password that work."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from storage.accounts import verify_password
from storage.database import dispose_engine, session_scope
from storage.models import TERMINAL_STATUSES
from tests.conftest import ROOT, free_port, wait_for


def _serve_demo(workdir: Path, port: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    env = {**os.environ, "VAULTGATE_PORT": str(port), "PYTHONPATH": str(ROOT)}
    env.pop("VAULTGATE_DATABASE_URL", None)
    env.pop("VAULTGATE_SECRET_KEY", None)  # the demo makes its own instance key file
    log = workdir / f"serve-{time.monotonic_ns()}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--demo"],
            cwd=workdir,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"Demo API key \(test mode\): (vg_test_[0-9a-f]{48})", log.read_text())
        if match:
            return process, match.group(1), log
        if process.poll() is not None:
            raise AssertionError(f"server exited without printing a demo key:\n{log.read_text()}")
        time.sleep(0.1)
    process.kill()
    raise AssertionError("no demo key printed within a minute")


def _demo_password(log: Path) -> str:
    match = re.search(r"Demo password \(demo@example\.com, .*\): (\S+)\n", log.read_text())
    assert match is not None, log.read_text()
    return match.group(1)


def _whoami(port: int, key: str) -> httpx.Response:
    for _ in range(100):
        try:
            return httpx.get(
                f"http://127.0.0.1:{port}/api/v2/meta/whoami", headers={"Authorization": f"Bearer {key}"}, timeout=2
            )
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not answer")


def test_serve_demo_prints_a_working_key_and_password_and_keeps_them_across_restarts(tmp_path: Path) -> None:
    port = free_port()
    process, key, log = _serve_demo(tmp_path, port)
    try:
        response = _whoami(port, key)
        assert response.status_code == 200
        assert response.json()["organization"]["name"] == "Demo Organization"
        assert response.json()["mode"] == "test"
        headers = {"Authorization": f"Bearer {key}"}
        base = f"http://127.0.0.1:{port}/api/v2"
        project = httpx.get(f"{base}/projects", headers=headers).json()["data"][0]
        assert project["name"] == "Riverside Tower"

        def demo_documents_ready() -> bool:
            listed = httpx.get(f"{base}/vault/documents", params={"project_id": project["id"]}, headers=headers)
            return {d["status"] for d in listed.json()["data"]} == {"ready"}

        wait_for(demo_documents_ready, timeout=60)
        hits = httpx.get(f"{base}/vault/search", params={"q": "galvanized anchors"}, headers=headers).json()["data"]
        assert hits[0]["title"] == "Submittal 014: Curtain wall anchors"

        # The banner's MCP URL takes the same key.
        mcp_url = re.search(r"MCP for agents .*: (http://\S+/mcp)\n", log.read_text())
        assert mcp_url is not None, log.read_text()
        listed = httpx.post(
            mcp_url.group(1),
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={**headers, "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"},
        )
        assert listed.status_code == 200
        assert '"vault_search"' in listed.text

        # The banner's OAuth command names the same MCP URL, with no key.
        assert f"claude mcp add --transport http vaultgate {mcp_url.group(1)}\n" in log.read_text()

        # The banner's command runs the example workflow over the demo submittals.
        command = re.search(
            r"vaultgate runs start (wf_\S+) --project (\S+) --input (\S+) --input (\S+) --wait", log.read_text()
        )
        assert command is not None, log.read_text()
        workflow_id, project_id, start, end = command.groups()
        inputs = dict(pair.split("=") for pair in (start, end))
        started = httpx.post(
            f"{base}/workflows/{workflow_id}/runs", json={"inputs": inputs, "project_id": project_id}, headers=headers
        )
        assert started.status_code == 202, started.text

        def finished() -> dict[str, object] | None:
            run: dict[str, object] = httpx.get(
                f"{base}/workflows/runs/{started.json()['run_id']}", headers=headers
            ).json()
            return run if run["status"] in TERMINAL_STATUSES else None

        outputs = wait_for(finished, timeout=60)["outputs"]
        assert outputs["summary"] == "5 submittals reviewed, 2 flagged for non-compliance."  # type: ignore[index]
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert (tmp_path / "var" / "vaultgate.db").exists()
    assert (tmp_path / "var" / "demo-key").stat().st_mode & 0o077 == 0
    password = _demo_password(log)
    assert (tmp_path / "var" / "demo-password").read_text() == password + "\n"
    assert (tmp_path / "var" / "demo-password").stat().st_mode & 0o077 == 0
    instance_key = (tmp_path / "var" / "secret.key").read_text()
    assert (tmp_path / "var" / "secret.key").stat().st_mode & 0o077 == 0

    process, second_key, second_log = _serve_demo(tmp_path, port)
    try:
        assert _whoami(port, second_key).status_code == 200
        listed = httpx.get(
            f"http://127.0.0.1:{port}/api/v2/vault/documents", headers={"Authorization": f"Bearer {key}"}, timeout=5
        )
        workflows = httpx.get(
            f"http://127.0.0.1:{port}/api/v2/workflows", headers={"Authorization": f"Bearer {key}"}, timeout=5
        ).json()["data"]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert second_key == key
    assert _demo_password(second_log) == password
    demo_database = f"sqlite:///{tmp_path / 'var' / 'vaultgate.db'}"
    with session_scope(demo_database) as session:
        assert verify_password(session, "demo@example.com", password) is not None
    dispose_engine(demo_database)
    assert (tmp_path / "var" / "secret.key").read_text() == instance_key
    demo = json.loads((ROOT / "examples" / "demo" / "metadata.json").read_text())
    assert len(listed.json()["data"]) == len(demo) == 6  # the demo documents are not uploaded twice
    assert [w["name"] for w in workflows] == ["Weekly submittal review"]  # imported again, unchanged


def test_keys_create_prints_a_key_once_for_an_existing_user(tmp_path: Path) -> None:
    env = {**os.environ, "VAULTGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PYTHONPATH": str(ROOT)}

    def vaultgate(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "gateway", *args], env=env, cwd=tmp_path, check=True, capture_output=True, text=True
        ).stdout.strip()

    vaultgate("init")
    organization = vaultgate("orgs", "create", "--name", "Acme", "--tier", "free")
    vaultgate("users", "create", "--org", organization, "--email", "ada@acme.test", "--name", "Ada")
    key = vaultgate("keys", "create", "--email", "ada@acme.test", "--mode", "live", "--scope", "meta:read")

    assert re.fullmatch(r"vg_live_[0-9a-f]{48}", key)
    failed = subprocess.run(
        [sys.executable, "-m", "gateway", "keys", "create", "--email", "nobody@acme.test"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert failed.returncode != 0
    assert "no user with email" in failed.stderr


def test_serve_without_an_instance_key_stops_with_what_to_do(tmp_path: Path) -> None:
    env = {**os.environ, "VAULTGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PYTHONPATH": str(ROOT)}
    env.pop("VAULTGATE_SECRET_KEY")

    def serve() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gateway", "serve", "--port", str(free_port())]
        return subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    missing = serve()
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret.key").write_text("k" * 64)
    (tmp_path / "var" / "secret.key").chmod(0o644)
    readable = serve()

    assert missing.returncode != 0
    assert "VAULTGATE_SECRET_KEY" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert readable.returncode != 0
    assert "chmod 600" in readable.stderr
    assert not (tmp_path / "cli.db").exists()  # stopped before touching the database
