"""The released v2 contract stays whole: each kind of break is caught, and growth is not one."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.contract import SAFE_LOADER
from tests.conftest import ROOT
from tests.contract.breaking_changes import breaking_changes, main

RELEASED_PATH = ROOT / "openapi" / "released" / "v2.0.0.yaml"
CURRENT_PATH = ROOT / "openapi" / "openapi.yaml"

Spec = dict[str, Any]
Mutation = Callable[[Spec], None]


def _load(path: Path) -> Spec:
    with path.open(encoding="utf-8") as handle:
        document: Spec = yaml.load(handle, Loader=SAFE_LOADER)
    return document


RELEASED = _load(RELEASED_PATH)


@pytest.fixture
def released() -> Spec:
    return copy.deepcopy(RELEASED)


def test_current_contract_keeps_the_released_one() -> None:
    findings = breaking_changes(_load(RELEASED_PATH), _load(CURRENT_PATH))

    assert findings == [], "\n".join(findings)


def test_the_frozen_release_is_v2_0_0() -> None:
    assert RELEASED["info"]["version"] == RELEASED_PATH.stem.removeprefix("v")


# Each mutation below edits a copy of the released spec; `breaks` lists exactly what the check must say.
BREAKING: list[tuple[Mutation, list[str]]] = []
NOT_BREAKING: list[Mutation] = []


def breaks(*expected: str) -> Callable[[Mutation], Mutation]:
    def register(mutation: Mutation) -> Mutation:
        BREAKING.append((mutation, list(expected)))
        return mutation

    return register


def keeps(mutation: Mutation) -> Mutation:
    NOT_BREAKING.append(mutation)
    return mutation


def _operation(spec: Spec, method: str, path: str) -> Spec:
    operation: Spec = spec["paths"][path][method]
    return operation


def _parameter(spec: Spec, method: str, path: str, name: str) -> Spec:
    parameter: Spec = next(p for p in _operation(spec, method, path)["parameters"] if p.get("name") == name)
    return parameter


def _schema(spec: Spec, name: str) -> Spec:
    schema: Spec = spec["components"]["schemas"][name]
    return schema


@breaks("GET /meta/rate-limit (meta.rate_limit): path removed")
def remove_a_path(spec: Spec) -> None:
    del spec["paths"]["/meta/rate-limit"]


@breaks("POST /api-keys (api_keys.create): method removed")
def remove_a_method(spec: Spec) -> None:
    del spec["paths"]["/api-keys"]["post"]


@breaks("GET /projects (vault.list_projects) operationId: renamed to 'vault.projects'")
def rename_an_operation_id(spec: Spec) -> None:
    _operation(spec, "get", "/projects")["operationId"] = "vault.projects"


@breaks("GET /projects (vault.list_projects) parameter 'owner' (query): required parameter added")
def add_a_required_parameter(spec: Spec) -> None:
    owner = {"name": "owner", "in": "query", "required": True, "schema": {"type": "string"}}
    _operation(spec, "get", "/projects")["parameters"].append(owner)


@breaks("GET /vault/documents (vault.list_documents) parameter 'status' (query): made required")
def make_a_parameter_required(spec: Spec) -> None:
    _parameter(spec, "get", "/vault/documents", "status")["required"] = True


@breaks("GET /vault/search (vault.search) parameter 'project_id' (query): removed")
def remove_a_parameter(spec: Spec) -> None:
    operation = _operation(spec, "get", "/vault/search")
    operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "project_id"]


@breaks("GET /vault/search (vault.search) parameter 'q' (query): moved to header")
def move_a_parameter(spec: Spec) -> None:
    _parameter(spec, "get", "/vault/search", "q")["in"] = "header"


@breaks("GET /vault/search (vault.search) parameter 'limit' (query): type changed from integer to string")
def change_a_parameter_type(spec: Spec) -> None:
    _parameter(spec, "get", "/vault/search", "limit")["schema"] = {"type": "string"}


@breaks("GET /vault/search (vault.search) parameter 'document_ids' (query) []: format changed: 'uri'")
def change_a_parameter_item_format(spec: Spec) -> None:
    _parameter(spec, "get", "/vault/search", "document_ids")["schema"]["items"]["format"] = "uri"


@breaks("POST /projects (vault.create_project) request body application/json /owner: required property added")
def add_a_required_request_property(spec: Spec) -> None:
    project = _schema(spec, "ProjectCreate")
    project["properties"]["owner"] = {"type": "string"}
    project["required"].append("owner")


@breaks("POST /projects (vault.create_project) request body application/json /description: property made required")
def make_a_request_property_required(spec: Spec) -> None:
    _schema(spec, "ProjectCreate")["required"].append("description")


@breaks(
    "POST /workflows/{workflow_id}/runs (workflows.run) request body application/json /inputs/start_date: "
    "required property added"
)
def add_a_required_nested_request_property(spec: Spec) -> None:
    _schema(spec, "WorkflowRunRequest")["properties"]["inputs"]["required"] = ["start_date"]


@breaks(
    "POST /projects (vault.create_project) request body application/json /name: type changed from string to integer"
)
def change_a_request_property_type(spec: Spec) -> None:
    _schema(spec, "ProjectCreate")["properties"]["name"]["type"] = "integer"


@breaks("POST /projects (vault.create_project) request body application/json /description: property no longer accepted")
def drop_a_request_property_of_a_closed_object(spec: Spec) -> None:
    del _schema(spec, "ProjectCreate")["properties"]["description"]


@breaks("POST /projects (vault.create_project) request body application/json /description: null no longer accepted")
def refuse_null_in_a_request(spec: Spec) -> None:
    del _schema(spec, "ProjectCreate")["properties"]["description"]["nullable"]


@breaks("POST /api-keys/{key_id}/rotate (api_keys.rotate) request body: made required")
def make_a_request_body_required(spec: Spec) -> None:
    _operation(spec, "post", "/api-keys/{key_id}/rotate")["requestBody"]["required"] = True


@breaks("POST /projects (vault.create_project) request body application/json: media type no longer accepted")
def remove_a_request_media_type(spec: Spec) -> None:
    content = _operation(spec, "post", "/projects")["requestBody"]["content"]
    content["application/x-www-form-urlencoded"] = content.pop("application/json")


@breaks(
    "GET /vault/documents/{document_id}/download (vault.download_document) response 200 application/json "
    "/expires_at: property removed"
)
def remove_a_response_property(spec: Spec) -> None:
    link = _schema(spec, "DownloadLink")
    del link["properties"]["expires_at"]
    link["required"].remove("expires_at")


@breaks(
    "GET /meta/rate-limit (meta.rate_limit) response 200 application/json /capacity: type changed from integer to number"
)
def change_a_response_property_type(spec: Spec) -> None:
    _schema(spec, "RateLimit")["properties"]["capacity"]["type"] = "number"


@breaks("GET /health (meta.health) response 200 application/json /version: may now be null")
def make_a_response_property_nullable(spec: Spec) -> None:
    _schema(spec, "Health")["properties"]["version"]["nullable"] = True


@breaks("GET /vault/search (vault.search) response 200 application/json /data[]/score: no longer always present")
def make_a_response_property_optional(spec: Spec) -> None:
    _schema(spec, "SearchHit")["required"].remove("score")


@breaks(
    "POST /api-keys (api_keys.create) request body application/json /scopes[]: enum no longer accepts 'webhooks:admin'"
)
def narrow_a_request_enum(spec: Spec) -> None:
    # `Scope` is in responses too (whoami, key lists), where a narrower enum breaks nobody.
    _schema(spec, "Scope")["enum"].remove("webhooks:admin")


@breaks("GET /vault/documents (vault.list_documents) parameter 'status' (query): enum no longer accepts 'failed'")
def narrow_a_parameter_enum(spec: Spec) -> None:
    # Inline, as `DocumentStatus` itself also shapes responses.
    narrowed = {"type": "string", "enum": ["pending", "processing", "ready"]}
    _parameter(spec, "get", "/vault/documents", "status")["schema"] = narrowed


@breaks(
    "GET /meta/whoami (meta.whoami) response 200 application/json /auth_kind: enum now also answers 'service_account'"
)
def widen_a_response_enum(spec: Spec) -> None:
    # A client switching on `auth_kind`, and the SDK's generated `Enum`, meet a value they cannot handle.
    _schema(spec, "Principal")["properties"]["auth_kind"]["enum"].append("service_account")


@breaks("POST /projects (vault.create_project) request body application/json /name: maxLength lowered from 200 to 100")
def lower_a_max_length(spec: Spec) -> None:
    _schema(spec, "ProjectCreate")["properties"]["name"]["maxLength"] = 100


@breaks("GET /vault/search (vault.search) parameter 'limit' (query): maximum lowered from 50 to 20")
def lower_a_maximum(spec: Spec) -> None:
    _parameter(spec, "get", "/vault/search", "limit")["schema"]["maximum"] = 20


@breaks("POST /api-keys (api_keys.create) request body application/json /scopes: maxItems lowered from none to 3")
def impose_a_max_items(spec: Spec) -> None:
    _schema(spec, "ApiKeyCreate")["properties"]["scopes"]["maxItems"] = 3


@breaks("GET /vault/search (vault.search) parameter 'q' (query): minLength raised from 1 to 3")
def raise_a_min_length(spec: Spec) -> None:
    _parameter(spec, "get", "/vault/search", "q")["schema"]["minLength"] = 3


@breaks(
    "POST /api-keys/{key_id}/rotate (api_keys.rotate) request body application/json /grace_period_seconds: "
    "minimum raised from 60 to 3600"
)
def raise_a_minimum(spec: Spec) -> None:
    _schema(spec, "ApiKeyRotate")["properties"]["grace_period_seconds"]["minimum"] = 3600


@breaks("GET /vault/search (vault.search) parameter 'document_ids' (query): minItems raised from 1 to 2")
def raise_a_min_items(spec: Spec) -> None:
    _parameter(spec, "get", "/vault/search", "document_ids")["schema"]["minItems"] = 2


@breaks("POST /projects (vault.create_project) request body application/json /name: pattern changed: '^\\\\w'")
def change_a_pattern(spec: Spec) -> None:
    _schema(spec, "ProjectCreate")["properties"]["name"]["pattern"] = r"^\w"


@breaks("POST /projects (vault.create_project) request body application/json /description: format added: 'email'")
def add_a_format(spec: Spec) -> None:
    _schema(spec, "ProjectCreate")["properties"]["description"]["format"] = "email"


@breaks("GET /projects/{project_id} (vault.get_project) response 404: status no longer documented")
def remove_a_response_status(spec: Spec) -> None:
    del _operation(spec, "get", "/projects/{project_id}")["responses"]["404"]


@breaks("DELETE /api-keys/{key_id} (api_keys.revoke) response 409: error code 'conflict' no longer documented")
def stop_documenting_an_error_code(spec: Spec) -> None:
    in_use = copy.deepcopy(spec["components"]["responses"]["conflict"])
    in_use["content"]["application/problem+json"]["example"]["code"] = "idempotency_key_in_use"
    _operation(spec, "delete", "/api-keys/{key_id}")["responses"]["409"] = in_use


@breaks("GET /meta/whoami (meta.whoami) x-mcp: no longer exposed to MCP clients")
def hide_an_operation_from_mcp(spec: Spec) -> None:
    _operation(spec, "get", "/meta/whoami")["x-mcp"] = False


@breaks("POST /projects (vault.create_project) x-scope: changed from 'vault:write' to 'vault:read'")
def change_a_scope(spec: Spec) -> None:
    # Even a "weaker" scope: keys that hold only the old one would get 403.
    _operation(spec, "post", "/projects")["x-scope"] = "vault:read"


@breaks("GET /health (meta.health) x-scope: changed from None to 'meta:read'")
def require_credentials(spec: Spec) -> None:
    _operation(spec, "get", "/health")["x-scope"] = "meta:read"


@breaks("GET /workflows (workflows.list) x-sunset: 2027-03-01 is less than 90 days after x-deprecated-at 2027-01-01")
def deprecate_with_a_short_notice(spec: Spec) -> None:
    _deprecate(_operation(spec, "get", "/workflows"), "2027-01-01", "2027-03-01")


@breaks("GET /workflows (workflows.list) deprecated: needs x-deprecated-at and x-sunset (YYYY-MM-DD)")
def deprecate_without_dates(spec: Spec) -> None:
    _operation(spec, "get", "/workflows")["deprecated"] = True


@breaks(
    "GET /projects/{project_id} (vault.get_project) x-deprecated-at: 2025-01-01 is before the release "
    "(2026-12-01); it is the day the deprecation lands"
)
def backdate_a_deprecation(spec: Spec) -> None:
    # 151 days of notice on paper, none in fact: the sunset has passed the day it lands.
    _deprecate(_operation(spec, "get", "/projects/{project_id}"), "2025-01-01", "2025-06-01")


@breaks("GET /health (meta.health) security: credentials now required")
def require_credentials_by_inheriting_them(spec: Spec) -> None:
    del _operation(spec, "get", "/health")["security"]


@breaks(
    "securitySchemes 'bearer': type changed from 'http' to 'apiKey'",
    "securitySchemes 'bearer': scheme changed from 'bearer' to None",
    "securitySchemes 'bearer': in changed from None to 'header'",
    "securitySchemes 'bearer': name changed from None to 'X-API-Key'",
)
def change_the_security_scheme(spec: Spec) -> None:
    spec["components"]["securitySchemes"]["bearer"] = {"type": "apiKey", "in": "header", "name": "X-API-Key"}


@breaks("securitySchemes 'bearer': removed")
def remove_the_security_scheme(spec: Spec) -> None:
    spec["components"]["securitySchemes"]["token"] = spec["components"]["securitySchemes"].pop("bearer")


@breaks("servers[0].url: changed from '/api/v2' to '/api/v2.1'")
def move_the_base_path(spec: Spec) -> None:
    spec["servers"][0]["url"] = "/api/v2.1"


@breaks("POST /projects (vault.create_project) response 201 header Location: no longer sent")
def stop_sending_a_response_header(spec: Spec) -> None:
    del _operation(spec, "post", "/projects")["responses"]["201"]["headers"]["Location"]


@breaks("POST /projects (vault.create_project) response 201 header X-Request-Id: type changed from string to integer")
def change_a_response_header_type(spec: Spec) -> None:
    headers = _operation(spec, "post", "/projects")["responses"]["201"]["headers"]
    headers["x-request-id"] = {"schema": {"type": "integer"}}  # header names ignore case
    del headers["X-Request-Id"]


@breaks("GET /vault/search (vault.search) parameter 'limit' (query): default changed from 10 to 5")
def change_a_parameter_default(spec: Spec) -> None:
    _parameter(spec, "get", "/vault/search", "limit")["schema"]["default"] = 5


@breaks(
    "GET /vault/search (vault.search) parameter 'document_ids' (query): serialization (style, explode) changed "
    "from ('form', False) to ('form', True)"
)
def explode_a_parameter(spec: Spec) -> None:
    del _parameter(spec, "get", "/vault/search", "document_ids")["explode"]


@breaks(
    "GET /vault/documents/{document_id}/download (vault.download_document) response 200 application/json "
    "/expires_at: format changed from 'date-time' to 'date'"
)
def change_a_response_format(spec: Spec) -> None:
    _schema(spec, "DownloadLink")["properties"]["expires_at"]["format"] = "date"


@breaks(
    "GET /vault/documents/{document_id}/download (vault.download_document) response 200 application/json "
    "/download_url: format changed from 'none' to 'uri'"
)
def add_a_response_format(spec: Spec) -> None:
    _schema(spec, "DownloadLink")["properties"]["download_url"]["format"] = "uri"


@breaks("GET /health (meta.health) response 200 application/json /version: format changed from 'none' to 'uuid'")
def add_a_response_format_to_a_single_use_schema(spec: Spec) -> None:
    _schema(spec, "Health")["properties"]["version"]["format"] = "uuid"


@breaks(
    "POST /projects (vault.create_project) request body application/json /name: now readOnly: no longer accepted in requests"
)
def make_a_request_property_read_only(spec: Spec) -> None:
    _schema(spec, "ProjectCreate")["properties"]["name"]["readOnly"] = True


@breaks("GET /health (meta.health) response 200 application/json /version: now writeOnly: no longer answered")
def make_a_response_property_write_only(spec: Spec) -> None:
    _schema(spec, "Health")["properties"]["version"]["writeOnly"] = True


@breaks("GET /vault/search (vault.search) parameter 'limit' (query): multipleOf added: 5")
def add_a_multiple_of(spec: Spec) -> None:
    _parameter(spec, "get", "/vault/search", "limit")["schema"]["multipleOf"] = 5


@breaks("POST /projects (vault.create_project) request body application/json /name: not added: {'enum': ['admin']}")
def add_a_not(spec: Spec) -> None:
    _schema(spec, "ProjectCreate")["properties"]["name"]["not"] = {"enum": ["admin"]}


@breaks(
    "GET /vault/search (vault.search) x-cost: 61 exceeds the free tier's bucket capacity 60: that tier can never call it"
)
def raise_a_cost_beyond_the_smallest_bucket(spec: Spec) -> None:
    _operation(spec, "get", "/vault/search")["x-cost"] = 61


@pytest.mark.parametrize(("mutation", "expected"), BREAKING, ids=[mutation.__name__ for mutation, _ in BREAKING])
def test_each_kind_of_break_is_reported(released: Spec, mutation: Mutation, expected: list[str]) -> None:
    current = copy.deepcopy(released)
    mutation(current)

    assert breaking_changes(released, current) == expected


@pytest.mark.parametrize(("mutation", "expected"), BREAKING, ids=[mutation.__name__ for mutation, _ in BREAKING])
def test_the_command_exits_1_on_each_kind_of_break(
    released: Spec, mutation: Mutation, expected: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What `make spec-check` runs after the lint, on a file as a contributor would edit it.
    mutation(released)
    current = tmp_path / "openapi.yaml"
    # JSON is YAML too, and written ten times faster than YAML (a YAML date becomes its ISO string).
    current.write_text(json.dumps(released, default=str), encoding="utf-8")

    assert main([str(RELEASED_PATH), str(current)]) == 1
    assert capsys.readouterr().out.splitlines() == expected


@keeps
def add_an_optional_parameter(spec: Spec) -> None:
    name = {"name": "name", "in": "query", "required": False, "schema": {"type": "string"}}
    _operation(spec, "get", "/projects")["parameters"].append(name)


@keeps
def add_an_operation(spec: Spec) -> None:
    delete = copy.deepcopy(_operation(spec, "get", "/projects/{project_id}"))
    delete["operationId"] = "vault.delete_project"
    spec["paths"]["/projects/{project_id}"]["delete"] = delete
    documents = copy.deepcopy(_operation(spec, "get", "/vault/documents"))
    documents["operationId"] = "vault.list_project_documents"
    spec["paths"]["/projects/{project_id}/documents"] = {"get": documents}


@keeps
def add_a_response_property(spec: Spec) -> None:
    project = _schema(spec, "Project")
    project["properties"]["color"] = {"type": "string", "nullable": True}
    project["required"].append("color")


@keeps
def add_an_optional_request_property(spec: Spec) -> None:
    _schema(spec, "ProjectCreate")["properties"]["color"] = {"type": "string", "maxLength": 20}


@keeps
def edit_descriptions(spec: Spec) -> None:
    spec["info"]["description"] = "Vaultgate, described anew."
    _operation(spec, "get", "/vault/search")["description"] = "Search, described anew."
    _schema(spec, "Project")["properties"]["name"]["description"] = "What people call it."


@keeps
def raise_a_cost(spec: Spec) -> None:
    _operation(spec, "get", "/vault/search")["x-cost"] = 20


@keeps
def widen_a_request_enum(spec: Spec) -> None:
    # Inline, as `DocumentStatus` itself also shapes responses, where a value more is a break.
    widened = {"type": "string", "enum": ["pending", "processing", "ready", "failed", "archived"]}
    _parameter(spec, "get", "/vault/documents", "status")["schema"] = widened


@keeps
def narrow_a_response_enum(spec: Spec) -> None:
    _schema(spec, "Principal")["properties"]["auth_kind"]["enum"].remove("oauth")


@keeps
def loosen_request_constraints(spec: Spec) -> None:
    _schema(spec, "ProjectCreate")["properties"]["name"]["maxLength"] = 400
    del _schema(spec, "ProjectCreate")["properties"]["name"]["pattern"]
    _parameter(spec, "get", "/vault/search", "q")["required"] = False


@keeps
def document_a_new_status(spec: Spec) -> None:
    _operation(spec, "get", "/projects/{project_id}")["responses"]["410"] = {"$ref": "#/components/responses/not_found"}


@keeps
def list_error_codes_as_named_examples(spec: Spec) -> None:
    conflict = spec["components"]["responses"]["conflict"]["content"]["application/problem+json"]
    example = conflict.pop("example")
    conflict["examples"] = {
        "conflict": {"value": example},
        "in_use": {"value": {**example, "code": "idempotency_key_in_use"}},
    }


@keeps
def deprecate_with_ninety_days_notice(spec: Spec) -> None:
    _deprecate(_operation(spec, "get", "/workflows"), "2027-01-01", "2027-04-01")


@keeps
def accept_any_request_body(spec: Spec) -> None:
    # `{}` accepts every body the old schema did, and more: a loosening, not a type change.
    _operation(spec, "post", "/projects")["requestBody"]["content"]["application/json"]["schema"] = {}


@keeps
def drop_a_request_format(spec: Spec) -> None:
    del _parameter(spec, "get", "/vault/search", "project_id")["schema"]["format"]


@keeps
def spell_out_default_serialization(spec: Spec) -> None:
    _parameter(spec, "get", "/vault/search", "q").update({"style": "form", "explode": True})


@keeps
def raise_a_cost_to_the_smallest_bucket(spec: Spec) -> None:
    _operation(spec, "get", "/vault/search")["x-cost"] = 60


@keeps
def allow_credentials_on_an_open_operation(spec: Spec) -> None:
    # An empty requirement among the alternatives still lets a bare client in.
    _operation(spec, "get", "/health")["security"] = [{}, {"bearer": []}]


@keeps
def deprecate_on_the_day_it_lands(spec: Spec) -> None:
    _deprecate(_operation(spec, "get", "/projects/{project_id}"), "2026-12-01", "2027-03-01")


@pytest.mark.parametrize("mutation", NOT_BREAKING, ids=[mutation.__name__ for mutation in NOT_BREAKING])
def test_growth_is_not_a_break(released: Spec, mutation: Mutation) -> None:
    current = copy.deepcopy(released)
    mutation(current)

    assert breaking_changes(released, current) == []


def test_a_shared_component_break_is_reported_on_every_operation_using_it(released: Spec) -> None:
    current = copy.deepcopy(released)
    current["components"]["parameters"]["limit"]["schema"]["maximum"] = 50

    findings = breaking_changes(released, current)

    expected = [
        f"{method.upper()} {path} ({operation['operationId']}) parameter 'limit' (query): maximum lowered from 100 to 50"
        for path, item in released["paths"].items()
        for method, operation in item.items()
        if {"$ref": "#/components/parameters/limit"} in operation.get("parameters", [])
    ]
    assert len(expected) == 6
    assert findings == expected


def test_a_deprecated_operation_may_go_once_its_sunset_has_passed(released: Spec) -> None:
    _deprecate(_operation(released, "get", "/workflows"), "1999-01-01", "2000-01-01")
    current = copy.deepcopy(released)
    del current["paths"]["/workflows"]

    assert breaking_changes(released, current) == []


def test_a_deprecated_operation_removed_before_its_sunset_is_a_break(released: Spec) -> None:
    _deprecate(_operation(released, "get", "/workflows"), "2026-01-01", "2999-01-01")
    current = copy.deepcopy(released)
    del current["paths"]["/workflows"]

    assert breaking_changes(released, current) == [
        "GET /workflows (workflows.list): path removed before its sunset (2999-01-01)"
    ]


def test_a_sunset_moved_earlier_is_a_break(released: Spec) -> None:
    _deprecate(_operation(released, "get", "/workflows"), "2026-01-01", "2099-01-01")
    current = copy.deepcopy(released)
    _deprecate(_operation(current, "get", "/workflows"), "2026-01-01", "2098-01-01")

    assert breaking_changes(released, current) == [
        "GET /workflows (workflows.list) x-sunset: moved earlier, from 2099-01-01 to 2098-01-01"
    ]


def _deprecate(operation: Spec, deprecated_at: str, sunset: str) -> None:
    operation.update({"deprecated": True, "x-deprecated-at": deprecated_at, "x-sunset": sunset})


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (5, ["GET /vault/search (vault.search) parameter 'limit' (query): multipleOf changed: 5"]),
        (1, []),  # every multiple of 2 is one of 1
        (4, ["GET /vault/search (vault.search) parameter 'limit' (query): multipleOf changed: 4"]),
    ],
)
def test_a_multiple_of_may_only_divide_the_released_one(released: Spec, new: int, expected: list[str]) -> None:
    _parameter(released, "get", "/vault/search", "limit")["schema"]["multipleOf"] = 2
    current = copy.deepcopy(released)
    _parameter(current, "get", "/vault/search", "limit")["schema"]["multipleOf"] = new

    assert breaking_changes(released, current) == expected


# x-sse-events and ChatQuestion came after v2.0.0: these compare the current contract with a mutated copy.
CURRENT = _load(CURRENT_PATH)
STREAM = "POST /chat/stream (chat.stream)"


def _events(spec: Spec) -> Spec:
    events: Spec = _operation(spec, "post", "/chat/stream")["x-sse-events"]
    return events


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (lambda spec: _events(spec).pop("citation"), [f"{STREAM} x-sse-events citation: event no longer sent"]),
        (
            lambda spec: _schema(spec, "ChatDeltaEvent").update({"properties": {}, "required": []}),
            [f"{STREAM} x-sse-events delta /text: property removed"],
        ),
        (
            lambda spec: _schema(spec, "ChatDoneEvent")["properties"]["citations"].update(type="string"),
            [f"{STREAM} x-sse-events done /citations: type changed from integer to string"],
        ),
        (
            lambda spec: _schema(spec, "ChatDoneEvent")["properties"]["answerer"]["enum"].append("llm"),
            [f"{STREAM} x-sse-events done /answerer: enum now also answers 'llm'"],
        ),
        (
            lambda spec: _events(spec).update(done={"$ref": "#/components/schemas/ChatDeltaEvent"}),
            [
                f"{STREAM} x-sse-events done /{name}: property removed"
                for name in ("answered", "citations", "answerer", "fallback")
            ],
        ),
        (
            lambda spec: _schema(spec, "ChatQuestion")["properties"]["max_citations"].update(default=1),
            [
                "POST /chat/ask (chat.ask) request body application/json /max_citations: default changed from 5 to 1",
                f"{STREAM} request body application/json /max_citations: default changed from 5 to 1",
            ],
        ),
    ],
    ids=[
        "event_removed",
        "event_property_removed",
        "event_type_changed",
        "event_enum_widened",
        "event_schema_replaced",
        "request_body_default_changed",
    ],
)
def test_the_current_contract_mutated(mutation: Callable[[Spec], object], expected: list[str]) -> None:
    current = copy.deepcopy(CURRENT)
    mutation(current)

    assert breaking_changes(CURRENT, current) == expected


def test_a_new_major_version_lifts_the_guard(released: Spec) -> None:
    current = copy.deepcopy(released)
    current["info"]["version"] = "3.0.0"
    del current["paths"]["/meta/rate-limit"]

    assert breaking_changes(released, current) == []


def test_a_recursive_schema_is_compared_without_end(released: Spec) -> None:
    # A project with a parent project: the schema refers to itself.
    _schema(released, "Project")["properties"]["parent"] = {"$ref": "#/components/schemas/Project"}
    current = copy.deepcopy(released)
    assert breaking_changes(released, current) == []

    _schema(current, "Project")["properties"]["name"]["type"] = "integer"

    assert breaking_changes(released, current) == [
        "GET /projects (vault.list_projects) response 200 application/json /data[]/name: type changed from string to integer",
        "POST /projects (vault.create_project) response 201 application/json /name: type changed from string to integer",
        "GET /projects/{project_id} (vault.get_project) response 200 application/json /name: type changed from string to integer",
    ]


def test_a_circular_ref_is_refused(released: Spec) -> None:
    released["components"]["schemas"]["Project"] = {"$ref": "#/components/schemas/ProjectCreate"}
    released["components"]["schemas"]["ProjectCreate"] = {"$ref": "#/components/schemas/Project"}

    with pytest.raises(ValueError, match="circular \\$ref"):
        breaking_changes(released, copy.deepcopy(released))


def test_the_command_prints_findings_and_exits_1(
    released: Spec, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = copy.deepcopy(released)
    remove_a_path(current)
    (tmp_path / "current.yaml").write_text(yaml.safe_dump(current), encoding="utf-8")

    status = main([str(RELEASED_PATH), str(tmp_path / "current.yaml")])

    assert status == 1
    assert capsys.readouterr().out == "GET /meta/rate-limit (meta.rate_limit): path removed\n"


def test_the_module_runs_as_a_command_and_passes_an_unchanged_spec() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.contract.breaking_changes", str(RELEASED_PATH), str(RELEASED_PATH)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No breaking change")


SPEC_CHECK = ROOT / "scripts" / "spec-check.sh"


def _spec_check(*arguments: str, lint: str) -> subprocess.CompletedProcess[str]:
    # `true`/`false` stand in for the Node lint, which tests/ runs on its own; this proves the wiring.
    return subprocess.run(
        [str(SPEC_CHECK), *arguments],
        cwd=ROOT,
        env={**os.environ, "SPEC_LINT": lint, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_spec_check_passes_the_current_contract() -> None:
    result = _spec_check(lint="true")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No breaking change against openapi/released/v2.0.0.yaml" in result.stdout


def test_spec_check_fails_on_a_break_and_names_it(tmp_path: Path) -> None:
    current = _load(CURRENT_PATH)
    add_a_required_parameter(current)
    (tmp_path / "openapi.yaml").write_text(yaml.safe_dump(current), encoding="utf-8")

    result = _spec_check(str(RELEASED_PATH), str(tmp_path / "openapi.yaml"), lint="true")

    assert result.returncode == 1
    assert "GET /projects (vault.list_projects) parameter 'owner' (query): required parameter added" in result.stdout


def test_spec_check_fails_when_the_lint_does_and_still_runs_the_guard() -> None:
    result = _spec_check(lint="false")

    assert result.returncode == 1
    assert "No breaking change" in result.stdout
