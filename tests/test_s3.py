"""The S3-compatible blob backend, against a real S3 API server (moto's server mode)."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import boto3
import httpx
import pytest
from docx import Document as WordDocument
from starlette.testclient import TestClient

from core.failures import Cancelled
from core.settings import Settings
from gateway.app import create_app
from jobs.runtime import JobContext
from storage import jobs
from storage.blobs import S3BlobStore
from storage.database import session_scope
from tests import samples
from tests.conftest import Caller, wait_for
from tests.test_vault import DOCUMENTS, ingest, search, upload
from vault.ingest import INGEST_DOCUMENT


@pytest.fixture
def s3_settings(database_url: str, tmp_path: Path, s3_endpoint: str) -> Settings:
    bucket = f"vault-{uuid.uuid4().hex[:12]}"
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
    boto3.client("s3", endpoint_url=s3_endpoint, **credentials).create_bucket(Bucket=bucket)
    return Settings(
        database_url=database_url,
        validate_responses=True,
        blob_dir=tmp_path / "unused",
        s3_bucket=bucket,
        s3_endpoint_url=s3_endpoint,
        s3_access_key_id="test",
        s3_secret_access_key="test",
    )


@pytest.fixture
def s3_client(s3_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(s3_settings), raise_server_exceptions=False) as client:
        yield client


def bucket_keys(settings: Settings) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    return [o["Key"] for o in client.list_objects_v2(Bucket=settings.s3_bucket).get("Contents", [])]


def test_documents_live_in_the_bucket_and_download_through_a_presigned_url(
    s3_client: TestClient, s3_settings: Settings, s3_endpoint: str, caller: Caller
) -> None:
    data = samples.docx(["Stored in the bucket, found by search."], title="Bucket doc")

    document = ingest(s3_client, caller, "bucket.docx", data)

    assert document["status"] == "ready", document
    assert search(s3_client, caller, "bucket")[0]["document_id"] == document["id"]
    assert [key.split("/")[:2] for key in bucket_keys(s3_settings)] == [[str(caller.organization_id), "test"]]
    assert not s3_settings.blob_dir.exists()

    link = s3_client.get(f"/api/v2/vault/documents/{document['id']}/download", headers=caller.headers).json()
    assert link["download_url"].startswith(f"{s3_endpoint}/{s3_settings.s3_bucket}/")
    assert "X-Amz-Expires=3600" in link["download_url"]
    fetched = httpx.get(link["download_url"])
    assert fetched.status_code == 200
    assert fetched.content == data
    assert "attachment" in fetched.headers["content-disposition"]


def test_a_deleted_documents_object_leaves_the_bucket_and_its_issued_url_stops_working(
    s3_client: TestClient, s3_settings: Settings, caller: Caller
) -> None:
    document = ingest(s3_client, caller, "gone.txt", b"Shredded after review.")
    url = s3_client.get(f"{DOCUMENTS}/{document['id']}/download", headers=caller.headers).json()["download_url"]
    assert httpx.get(url).status_code == 200

    assert s3_client.delete(f"{DOCUMENTS}/{document['id']}", headers=caller.headers).status_code == 204

    assert httpx.get(url).status_code in (403, 404)  # S3 answers 403 to a caller that may not list the bucket
    assert bucket_keys(s3_settings) == []


def test_deleting_a_document_while_its_ingestion_fetches_the_file_cancels_it_and_stores_nothing(
    s3_settings: Settings, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle = s3_settings.model_copy(update={"job_workers": 0})
    with TestClient(create_app(idle), raise_server_exceptions=False) as client:
        document = upload(client, caller, "notes.txt", b"Meeting notes.").json()
        with session_scope(idle.database_url) as session:
            claim = jobs.claim(session, "test-worker", timedelta(seconds=30), [INGEST_DOCUMENT.name])
        assert claim is not None
        fetch = S3BlobStore.copy_to

        def deleted_meanwhile(store: S3BlobStore, key: str, destination: IO[bytes]) -> None:
            assert client.delete(f"{DOCUMENTS}/{document['id']}", headers=caller.headers).status_code == 204
            fetch(store, key, destination)

        monkeypatch.setattr(S3BlobStore, "copy_to", deleted_meanwhile)

        with pytest.raises(Cancelled):
            INGEST_DOCUMENT.run(JobContext(claim, INGEST_DOCUMENT, idle, threading.Event()))

        assert client.get(f"{DOCUMENTS}/{document['id']}", headers=caller.headers).status_code == 404
    assert bucket_keys(s3_settings) == []


def completed_fill(client: TestClient, caller: Caller) -> dict[str, Any]:
    source = ingest(client, caller, "anchors.md", b"# Anchors\n\nStatus: Approved.\n")
    started = client.post(
        "/api/v2/templates/fill",
        files={"file": ("review.docx", samples.docx(["{{ documents[0].title }}: {{ documents[0].fields.status }}"]))},
        data={"document_ids": source["id"]},
        headers=caller.headers,
    )
    assert started.status_code == 202, started.text
    status = f"/api/v2/templates/fill/{started.json()['job_id']}"
    finished: dict[str, Any] = wait_for(
        lambda: (
            (fill := client.get(status, headers=caller.headers).json())["status"] != "pending"
            and fill["status"] != "running"
            and fill
        )
    )
    assert finished["status"] == "completed", finished
    return finished


def test_a_template_fill_reads_its_template_from_the_bucket_and_stores_its_result_there(
    s3_client: TestClient, s3_settings: Settings, s3_endpoint: str, caller: Caller
) -> None:
    finished = completed_fill(s3_client, caller)
    url = finished["filled_download_url"]
    assert url.startswith(f"{s3_endpoint}/{s3_settings.s3_bucket}/")
    assert "X-Amz-Expires=3600" in url
    filled = WordDocument(io.BytesIO(httpx.get(url).content))
    assert [p.text for p in filled.paragraphs] == ["Anchors: Approved"]
    assert not s3_settings.blob_dir.exists()


def test_a_deleted_filled_document_leaves_the_bucket_and_its_fill_links_to_nothing(
    s3_client: TestClient, s3_settings: Settings, caller: Caller
) -> None:
    fill = completed_fill(s3_client, caller)
    url = fill["filled_download_url"]
    assert httpx.get(url).status_code == 200

    deleted = s3_client.delete(f"{DOCUMENTS}/{fill['filled_document_id']}", headers=caller.headers)

    assert deleted.status_code == 204
    assert httpx.get(url).status_code in (403, 404)
    again = s3_client.get(f"/api/v2/templates/fill/{fill['job_id']}", headers=caller.headers).json()
    assert (again["filled_document_id"], again["filled_download_url"]) == (None, None)
    filled_key = url.split("?")[0].split(f"/{s3_settings.s3_bucket}/")[1]
    assert filled_key not in bucket_keys(s3_settings)
