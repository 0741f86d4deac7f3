"""Deprecation, driven by the spec alone: announced until the sunset, 410 after it."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from starlette.testclient import TestClient

from gateway.contract import parse_contract


def test_deprecated_operation_announces_its_sunset(probe: TestClient) -> None:
    response = probe.get("/api/v2/old")

    assert response.status_code == 200
    assert response.headers["deprecation"] == f"@{int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())}"
    assert parsedate_to_datetime(response.headers["sunset"]) == datetime(2099, 1, 1, tzinfo=UTC)
    assert response.headers["sunset"].endswith("GMT")
    assert 'rel="deprecation"' in response.headers["link"]


def test_operation_past_its_sunset_is_410_and_still_announced(probe: TestClient) -> None:
    response = probe.get("/api/v2/retired")

    assert response.status_code == 410
    assert response.json()["code"] == "gone"
    assert "sunset" in response.headers


def test_current_operations_carry_no_deprecation_headers(probe: TestClient) -> None:
    response = probe.post("/api/v2/echo", json={"name": "x", "owner_id": "0b8f2a4c-9d6e-4f1a-8b3c-5d7e9f0a1b2c"})

    assert "deprecation" not in response.headers
    assert "sunset" not in response.headers


def test_a_deprecation_without_dates_is_refused_at_load() -> None:
    document = {
        "servers": [{"url": "/api/v2"}],
        "paths": {"/x": {"get": {"operationId": "probe.old", "x-cost": 1, "deprecated": True, "responses": {}}}},
    }

    with pytest.raises(ValueError, match="x-deprecated-at and x-sunset"):
        parse_contract(document)
