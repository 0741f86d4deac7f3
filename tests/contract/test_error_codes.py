"""Each operation's `x-error-codes` lists the problem codes it can answer, and agrees with the rest of the spec.

The live side (a code answered is a code listed) is the schemathesis run's `documented_error_code` check.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.contract import load_contract
from gateway.problems import PROBLEM_CODES
from tests.contract.breaking_changes import _Document, breaking_changes

CONTRACT = load_contract()
SPEC = CONTRACT.document
DOCUMENT = _Document(SPEC)
OPERATIONS = {operation.spec["operationId"]: operation for operation in DOCUMENT.operations().values()}

# `validation_error` is a 400 when the contract's schema refuses the input, a 422 when a rule does.
_ALSO_ANSWERED_AS = {"validation_error": {"422"}}


def _codes(operation_id: str) -> list[str]:
    codes: list[str] = OPERATIONS[operation_id].spec["x-error-codes"]
    return codes


def _error_statuses(operation_id: str) -> set[str]:
    return {str(status) for status in OPERATIONS[operation_id].spec["responses"] if str(status)[0] in "45"}


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_listed_codes_are_known_problem_codes_in_their_order(operation_id: str) -> None:
    codes = _codes(operation_id)

    assert set(codes) <= PROBLEM_CODES.keys(), set(codes) - PROBLEM_CODES.keys()
    # gateway/problems.py's order (by status), so a code missing from a list stands out to a reader.
    assert codes == [code for code in PROBLEM_CODES if code in codes]


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_codes_in_documented_error_examples_are_listed(operation_id: str) -> None:
    operation = OPERATIONS[operation_id]
    documented: set[str] = set()
    for status, response in operation.spec["responses"].items():
        if str(status)[0] in "45":
            documented |= DOCUMENT.problem_codes(DOCUMENT.resolve(response))

    assert documented <= set(_codes(operation_id)), documented - set(_codes(operation_id))


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_each_listed_code_has_its_status_documented_and_each_error_status_a_code(operation_id: str) -> None:
    codes, statuses = _codes(operation_id), _error_statuses(operation_id)
    answered_as = {code: {str(PROBLEM_CODES[code].status)} | _ALSO_ANSWERED_AS.get(code, set()) for code in codes}
    # A stream's `error` event carries a problem after the 200 has started: its status is never answered.
    streamed = "x-sse-events" in OPERATIONS[operation_id].spec

    undocumented = [code for code, status in answered_as.items() if not status & statuses]
    assert undocumented == [] or streamed, f"{operation_id} lists codes whose status it does not document"
    assert {status for status in statuses if not any(status in answered for answered in answered_as.values())} == set()


def _expected_edge_codes(operation_id: str) -> set[str]:
    """What the HTTP edge (gateway/middleware.py, validation, idempotency) may answer for any such operation."""
    operation = OPERATIONS[operation_id]
    scope = operation.spec.get("x-scope")
    body = DOCUMENT.resolve(operation.spec.get("requestBody", {})).get("content", {})
    parameters = {parameter["name"] for parameter in operation.parameters.values()}
    expected = {"not_acceptable", "internal_error"}
    if scope is not None:
        expected |= {"unauthorized", "insufficient_scope", "rate_limited"}
        if not scope.endswith(":read"):
            expected.add("oauth_read_only")
        if operation.spec.get("x-mcp", True):
            expected.add("forbidden")  # a managed MCP server's restrictions leave the operation out
    if "application/json" in body:
        expected |= {"validation_error", "invalid_json"}
    if "multipart/form-data" in body:
        expected |= {"validation_error", "invalid_multipart"}
    if "cursor" in parameters:
        expected.add("invalid_cursor")
    if "Idempotency-Key" in parameters:
        expected |= {"idempotency_key_in_use", "idempotency_key_reused"}
    if operation.spec.get("deprecated"):
        expected.add("gone")
    return expected


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_codes_the_edge_answers_for_any_operation_are_listed(operation_id: str) -> None:
    assert _expected_edge_codes(operation_id) <= set(_codes(operation_id))


def test_handler_specific_codes_are_listed_where_they_are_raised() -> None:
    # Raised below the edge, by one capability each; a sample a grep of `raise Unsafe`/`require_permission` finds.
    assert "unsafe_document" in _codes("vault.upload_document")
    assert "unsafe_document" in _codes("templates.start_fill")
    assert "permission_denied" in _codes("templates.start_fill")
    assert "invalid_signature" in _codes("vault.get_document_content")
    assert "service_unavailable" in _codes("meta.health")
    assert "answer_interrupted" in _codes("chat.stream")
    assert {"forbidden", "conflict"} <= set(_codes("api_keys.rotate"))


def _with_codes(spec: dict[str, Any], operation_id: str, codes: list[str]) -> None:
    operation = CONTRACT.operation(operation_id)
    spec["paths"][operation.path.removeprefix(CONTRACT.base_path)][operation.method.lower()]["x-error-codes"] = codes


def test_a_code_removed_from_x_error_codes_is_a_break() -> None:
    current = copy.deepcopy(SPEC)
    _with_codes(current, "vault.get_project", [c for c in _codes("vault.get_project") if c != "not_found"])

    assert breaking_changes(SPEC, current) == [
        "GET /projects/{project_id} (vault.get_project) x-error-codes: error code 'not_found' no longer documented"
    ]


def test_a_code_renamed_in_x_error_codes_is_a_break() -> None:
    current = copy.deepcopy(SPEC)
    renamed = ["project_not_found" if code == "not_found" else code for code in _codes("vault.get_project")]
    _with_codes(current, "vault.get_project", renamed)

    assert breaking_changes(SPEC, current) == [
        "GET /projects/{project_id} (vault.get_project) x-error-codes: error code 'not_found' no longer documented"
    ]


def test_a_code_added_to_x_error_codes_is_no_break() -> None:
    current = copy.deepcopy(SPEC)
    _with_codes(current, "vault.get_project", [*_codes("vault.get_project"), "gone"])

    assert breaking_changes(SPEC, current) == []
