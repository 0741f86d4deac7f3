"""Every failure from any layer answers application/problem+json with a code and the request id."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from tests.conftest import Caller

OWNER = "0b8f2a4c-9d6e-4f1a-8b3c-5d7e9f0a1b2c"


def problem(response) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code
    assert body["type"] == f"/problems/{body['code']}"
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["detail"]
    return body  # type: ignore[no-any-return]


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v2/no-such-thing")

    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


def test_wrong_method_is_405_with_allow_from_the_spec(client: TestClient, caller: Caller) -> None:
    response = client.delete("/api/v2/meta/whoami", headers=caller.headers)

    assert response.status_code == 405
    assert problem(response)["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET"


def test_unacceptable_accept_is_406(client: TestClient, caller: Caller) -> None:
    response = client.get("/api/v2/meta/whoami", headers={**caller.headers, "Accept": "text/csv"})

    assert response.status_code == 406
    assert problem(response)["code"] == "not_acceptable"


@pytest.mark.parametrize("accept", ["application/json", "*/*", "text/html, application/*;q=0.5"])
def test_json_compatible_accept_is_served(client: TestClient, caller: Caller, accept: str) -> None:
    assert client.get("/api/v2/meta/whoami", headers={**caller.headers, "Accept": accept}).status_code == 200


def test_unknown_query_parameter_is_a_validation_problem(client: TestClient, caller: Caller) -> None:
    response = client.get("/api/v2/meta/whoami?color=red", headers=caller.headers)

    assert response.status_code == 400
    assert problem(response)["errors"] == [{"detail": "Unknown query parameter", "parameter": "color"}]


def test_every_invalid_body_field_is_listed_with_a_pointer(probe: TestClient) -> None:
    response = probe.post("/api/v2/echo", json={"owner_id": "not-a-uuid", "tags": ["a", "b", "c"], "extra": 1})

    assert response.status_code == 400
    pointers = sorted(error["pointer"] for error in problem(response)["errors"])
    assert pointers == ["/extra", "/name", "/owner_id", "/tags"]


def test_valid_body_passes(probe: TestClient) -> None:
    response = probe.post("/api/v2/echo", json={"name": "x", "owner_id": OWNER})

    assert response.status_code == 200
    assert response.json() == {"name": "x", "owner_id": OWNER}


def test_malformed_json_is_400_invalid_json(probe: TestClient) -> None:
    response = probe.post("/api/v2/echo", content=b'{"name": ', headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_json"


def test_non_utf8_body_is_400_invalid_json(probe: TestClient) -> None:
    response = probe.post("/api/v2/echo", content=b'{"name": "\xff\xfe"}', headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_json"


def test_wrong_content_type_is_415(probe: TestClient) -> None:
    response = probe.post("/api/v2/echo", content=b"name=x", headers={"Content-Type": "text/plain"})

    assert response.status_code == 415
    assert problem(response)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=XYZ", "multipart/form-data"])
def test_broken_multipart_is_400_invalid_multipart(probe: TestClient, content_type: str) -> None:
    response = probe.post("/api/v2/upload", content=b"garbage, not multipart", headers={"Content-Type": content_type})

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_multipart"


def test_truncated_multipart_is_400_invalid_multipart(probe: TestClient) -> None:
    body = b'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello'
    response = probe.post("/api/v2/upload", content=body, headers={"Content-Type": "multipart/form-data; boundary=XYZ"})

    assert response.status_code == 400
    assert "closing boundary" in problem(response)["detail"]


def test_complete_multipart_is_accepted(probe: TestClient) -> None:
    response = probe.post("/api/v2/upload", files={"file": ("a.txt", b"hi")}, data={"name": "notes"})

    assert response.status_code == 200
    assert response.json() == {"name": "notes"}


def test_unexpected_multipart_field_is_named(probe: TestClient) -> None:
    response = probe.post("/api/v2/upload", files={"file": ("a.txt", b"hi")}, data={"colour": "red"})

    assert response.status_code == 400
    assert problem(response)["errors"] == [
        {"detail": "'colour' is not a field this operation accepts", "pointer": "/colour"}
    ]


def test_crash_is_a_generic_500_logged_with_the_request_id(probe: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="vaultgate.errors"):
        response = probe.get("/api/v2/crash", headers={"X-Request-Id": "req_crash_0001"})

    assert response.status_code == 500
    body = problem(response)
    assert body["code"] == "internal_error"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert any("req_crash_0001" in record.getMessage() and record.exc_info for record in caplog.records)


def test_sane_incoming_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/api/v2/health", headers={"X-Request-Id": "trace-1234abcd"})

    assert response.headers["x-request-id"] == "trace-1234abcd"


@pytest.mark.parametrize("incoming", ["short", "bad id with spaces", "x" * 300, "inject\u00e9value1"])
def test_insane_request_id_is_replaced(client: TestClient, incoming: str) -> None:
    response = client.get("/api/v2/health", headers={b"X-Request-Id": incoming.encode()})

    assert response.headers["x-request-id"].startswith("req_")


def test_problem_type_resolves_to_a_page(client: TestClient) -> None:
    type_uri = client.get("/api/v2/meta/whoami").json()["type"]

    page = client.get(type_uri)

    assert page.status_code == 200
    assert "Unauthorized" in page.text
    assert "Bearer" in page.text


def test_unknown_problem_page_is_404(client: TestClient) -> None:
    assert client.get("/problems/no_such_code").status_code == 404


def _nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"deeper": value}
    return value


@pytest.mark.parametrize(
    ("metadata", "fragment"),
    [({"blob": "x" * (33 * 1024)}, "bytes serialized"), (_nested(9), "levels deep")],
)
def test_metadata_over_its_caps_is_422_with_the_pointer(probe: TestClient, metadata: object, fragment: str) -> None:
    response = probe.post("/api/v2/echo", json={"name": "x", "owner_id": OWNER, "metadata": metadata})

    assert response.status_code == 422
    [error] = problem(response)["errors"]
    assert error["pointer"] == "/metadata"
    assert fragment in error["detail"]


def test_metadata_within_its_caps_passes(probe: TestClient) -> None:
    metadata = {**_nested(8), "blob": "x" * (30 * 1024)}

    response = probe.post("/api/v2/echo", json={"name": "x", "owner_id": OWNER, "metadata": metadata})

    assert response.status_code == 200
