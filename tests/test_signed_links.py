"""Links the gateway signs: where they point (configured, never the request's Host) and when they stop working."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from core.settings import Settings
from gateway.app import create_app
from gateway.contract import load_contract
from gateway.signed_urls import public_base_url
from storage.migrate import upgrade_to_head
from tests.conftest import ROOT, Caller, Tenants, free_port, seed_spec_examples
from tests.test_vault import DOCUMENTS, upload

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example"}


def examples() -> dict[str, Any]:
    found: dict[str, Any] = load_contract().document["components"]["examples"]
    return found


@pytest.fixture
def seeded(settings: Settings, caller: Caller) -> Caller:
    """The spec's example objects, among them a completed fill and the document it made."""
    seed_spec_examples(settings.database_url, settings.blob_dir, caller)
    return caller


def signed_links(client: TestClient, caller: Caller, headers: dict[str, str]) -> list[str]:
    """A document's download link and a completed fill's, asked for with `headers`."""
    document_id = examples()["ready_document"]["value"]["id"]
    fill_id = examples()["completed_fill"]["value"]["job_id"]
    download = client.get(f"{DOCUMENTS}/{document_id}/download", headers={**caller.headers, **headers})
    fill = client.get(f"/api/v2/templates/fill/{fill_id}", headers={**caller.headers, **headers})
    assert (download.status_code, fill.status_code) == (200, 200), (download.text, fill.text)
    return [download.json()["download_url"], fill.json()["filled_download_url"]]


def test_a_forged_host_header_gets_links_to_the_configured_host(
    client: TestClient, seeded: Caller, settings: Settings
) -> None:
    links = signed_links(client, seeded, FORGED)

    assert all(link.startswith(f"http://127.0.0.1:{settings.port}/api/v2/") for link in links), links
    assert not any("evil.example" in link for link in links)
    fetched = client.get(links[0])
    assert fetched.status_code == 200
    assert fetched.content.startswith(b"%PDF-")


def test_links_name_the_public_url_when_one_is_set(settings: Settings, seeded: Caller) -> None:
    public = settings.model_copy(update={"public_url": "https://vault.example.com/"})
    with TestClient(create_app(public), raise_server_exceptions=False) as client:
        links = signed_links(client, seeded, FORGED)

    assert all(link.startswith("https://vault.example.com/api/v2/") for link in links), links


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("127.0.0.1", "http://127.0.0.1:9000"),
        ("localhost", "http://localhost:9000"),
        ("10.0.0.7", "http://10.0.0.7:9000"),
        ("0.0.0.0", "http://127.0.0.1:9000"),
        ("::", "http://[::1]:9000"),
        ("fd00::7", "http://[fd00::7]:9000"),
    ],
)
def test_without_a_public_url_links_name_the_address_served(host: str, base: str) -> None:
    assert public_base_url(Settings(host=host, port=9000)) == base


def test_a_deleted_documents_file_is_removed_and_its_gateway_link_answers_404(
    client: TestClient, caller: Caller, settings: Settings
) -> None:
    document = upload(client, caller, "gone.txt", b"Shredded after review.").json()
    link = client.get(f"{DOCUMENTS}/{document['id']}/download", headers=caller.headers).json()["download_url"]
    assert client.get(link).status_code == 200

    assert client.delete(f"{DOCUMENTS}/{document['id']}", headers=caller.headers).status_code == 204

    gone = client.get(link)
    assert gone.status_code == 404
    assert gone.json()["code"] == "not_found"
    assert [p for p in settings.blob_dir.rglob("*") if p.is_file()] == []


@pytest.fixture
def served_on_a_flagged_port(tmp_path: Path) -> Iterator[tuple[int, Caller]]:
    """`vaultgate serve --port P` while VAULTGATE_PORT says another: the flag is the address served."""
    database_url = f"sqlite:///{tmp_path / 'flagged.db'}"
    upgrade_to_head(database_url)
    caller = Tenants(database_url).caller()
    port = free_port()
    env = {
        **os.environ,
        "VAULTGATE_DATABASE_URL": database_url,
        "VAULTGATE_PORT": "1",
        "VAULTGATE_BLOB_DIR": str(tmp_path / "blobs"),
        "VAULTGATE_JOB_WORKERS": "0",
    }
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v2/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield port, caller
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_signs_links_for_the_port_its_flag_names(served_on_a_flagged_port: tuple[int, Caller]) -> None:
    port, caller = served_on_a_flagged_port
    base = f"http://127.0.0.1:{port}/api/v2"
    uploaded = httpx.post(f"{base}/vault/documents", files={"file": ("a.txt", b"Flagged.")}, headers=caller.headers)
    assert uploaded.status_code == 202, uploaded.text

    link = httpx.get(f"{base}/vault/documents/{uploaded.json()['id']}/download", headers=caller.headers)

    assert link.json()["download_url"].startswith(f"{base}/vault/documents/")
    assert httpx.get(link.json()["download_url"]).content == b"Flagged."
