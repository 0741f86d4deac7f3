"""The S3-compatible blob backend, against a real S3 API server (moto's server mode)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from docx import Document as WordDocument
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests import samples
from tests.conftest import Caller, wait_for
from tests.test_vault import ingest, search


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


def test_documents_live_in_the_bucket_and_download_through_a_presigned_url(
    s3_client: TestClient, s3_settings: Settings, s3_endpoint: str, caller: Caller
) -> None:
    data = samples.docx(["Stored in the bucket, found by search."], title="Bucket doc")

    document = ingest(s3_client, caller, "bucket.docx", data)

    assert document["status"] == "ready", document
    assert search(s3_client, caller, "bucket")[0]["document_id"] == document["id"]
    objects = boto3.client(
        "s3", endpoint_url=s3_endpoint, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).list_objects_v2(Bucket=s3_settings.s3_bucket)["Contents"]
    assert [o["Key"].split("/")[:2] for o in objects] == [[str(caller.organization_id), "test"]]
    assert not s3_settings.blob_dir.exists()

    link = s3_client.get(f"/api/v2/vault/documents/{document['id']}/download", headers=caller.headers).json()
    assert link["download_url"].startswith(f"{s3_endpoint}/{s3_settings.s3_bucket}/")
    assert "X-Amz-Expires=3600" in link["download_url"]
    fetched = httpx.get(link["download_url"])
    assert fetched.status_code == 200
    assert fetched.content == data
    assert "attachment" in fetched.headers["content-disposition"]


def test_a_template_fill_reads_its_template_from_the_bucket_and_stores_its_result_there(
    s3_client: TestClient, s3_settings: Settings, s3_endpoint: str, caller: Caller
) -> None:
    source = ingest(s3_client, caller, "anchors.md", b"# Anchors\n\nStatus: Approved.\n")
    started = s3_client.post(
        "/api/v2/templates/fill",
        files={"file": ("review.docx", samples.docx(["{{ documents[0].title }}: {{ documents[0].fields.status }}"]))},
        data={"document_ids": source["id"]},
        headers=caller.headers,
    )
    assert started.status_code == 202, started.text
    status = f"/api/v2/templates/fill/{started.json()['job_id']}"
    finished = wait_for(
        lambda: (
            (fill := s3_client.get(status, headers=caller.headers).json())["status"] != "pending"
            and fill["status"] != "running"
            and fill
        )
    )
    assert finished["status"] == "completed", finished
    url = finished["filled_download_url"]
    assert url.startswith(f"{s3_endpoint}/{s3_settings.s3_bucket}/")
    assert "X-Amz-Expires=3600" in url
    filled = WordDocument(io.BytesIO(httpx.get(url).content))
    assert [p.text for p in filled.paragraphs] == ["Anchors: Approved"]
    assert not s3_settings.blob_dir.exists()
