"""The spec lint (scripts/spec-lint.sh, redocly.yaml): the contracts are clean, and each house rule fires.

Each rule is proven on a copy of the contract carrying one mutation per rule, each in a place of its own,
linted once (a Redocly run costs seconds): every mutation must be reported, at its place, by its rule.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.contract import SAFE_LOADER
from tests.conftest import ROOT

SPEC_LINT = ROOT / "scripts" / "spec-lint.sh"

Spec = dict[str, Any]
Finding = tuple[str, str]


def _load(path: Path) -> Spec:
    with path.open(encoding="utf-8") as handle:
        document: Spec = yaml.load(handle, Loader=SAFE_LOADER)
    return document


def _lint(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SPEC_LINT), *arguments], capture_output=True, text=True, timeout=600)


def _write_copy(directory: Path, contract: Spec, oauth: Spec) -> Path:
    """Lay out the contracts and the lint config in `directory` as in the repository; return the config."""
    config = _load(ROOT / "redocly.yaml")
    config["plugins"] = [str(ROOT / plugin) for plugin in config["plugins"]]
    (directory / "openapi").mkdir()
    (directory / "openapi" / "openapi.yaml").write_text(yaml.safe_dump(contract, sort_keys=False))
    (directory / "openapi" / "oauth.yaml").write_text(yaml.safe_dump(oauth, sort_keys=False))
    (directory / "redocly.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copy(ROOT / ".redocly.lint-ignore.yaml", directory / ".redocly.lint-ignore.yaml")
    return directory / "redocly.yaml"


def _findings(stdout: str) -> set[Finding]:
    """(rule, JSON pointer) of every reported problem, from `--format=json` (one document per API)."""
    decoder = json.JSONDecoder()
    found: set[Finding] = set()
    position = 0
    while stdout[position:].strip():
        position += len(stdout[position:]) - len(stdout[position:].lstrip())
        report, position = decoder.raw_decode(stdout, position)
        for problem in report["problems"]:
            if not problem.get("ignored"):
                found.add((problem["ruleId"], problem["location"][0]["pointer"]))
    return found


def _operation(spec: Spec, path: str, method: str) -> Spec:
    operation: Spec = spec["paths"][path][method]
    return operation


def _rename_without_tag(spec: Spec) -> None:
    _operation(spec, "/meta/whoami", "get")["operationId"] = "whoami"


def _rename_to_other_tag(spec: Spec) -> None:
    _operation(spec, "/meta/rate-limit", "get")["operationId"] = "limits.rate_limit"


def _drop_scope(spec: Spec) -> None:
    del _operation(spec, "/vault/search", "get")["x-scope"]


def _drop_cost(spec: Spec) -> None:
    del _operation(spec, "/projects", "get")["x-cost"]


def _open_a_write(spec: Spec) -> None:
    operation = _operation(spec, "/vault/documents/{document_id}", "delete")
    operation["security"] = []
    del operation["x-scope"]


def _credentials_optional(spec: Spec) -> None:
    # `{}` among the requirements lets a caller without credentials in, as `security: []` does.
    _operation(spec, "/workflows/{workflow_id}/runs", "post")["security"] = [{}, {"bearer": []}]


def _expose_upload(spec: Spec) -> None:
    del _operation(spec, "/vault/documents", "post")["x-mcp"]


def _expose_stream(spec: Spec) -> None:
    _operation(spec, "/chat/stream", "post")["x-mcp"] = True


def _stream_with_parameters(spec: Spec) -> None:
    content = _operation(spec, "/chat/ask", "post")["responses"]["200"]["content"]
    content["text/event-stream; charset=utf-8"] = {"schema": {"type": "string"}}


def _ndjson_stream(spec: Spec) -> None:
    content = _operation(spec, "/workflows/runs", "get")["responses"]["200"]["content"]
    content["application/x-ndjson"] = {"schema": {"type": "string"}}


def _other_multipart(spec: Spec) -> None:
    content = _operation(spec, "/templates/fill/{job_id}", "get")["responses"]["200"]["content"]
    content["multipart/mixed"] = {"schema": {"type": "string"}}


def _raw_upload(spec: Spec) -> None:
    content = _operation(spec, "/projects", "post")["requestBody"]["content"]
    content["application/octet-stream"] = {"schema": {"type": "string", "format": "binary"}}


def _plain_json_error(spec: Spec) -> None:
    _operation(spec, "/projects/{project_id}", "get")["responses"]["404"] = {
        "description": "Not found.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _error_without_problem_schema(spec: Spec) -> None:
    _operation(spec, "/workflows", "get")["responses"]["500"] = {
        "description": "Failed.",
        "content": {"application/problem+json": {"schema": {"type": "object"}}},
    }


def _problem_code_retyped(spec: Spec) -> None:
    retyped = {"type": "object", "properties": {"code": {"type": "integer", "description": "A number."}}}
    _operation(spec, "/vault/documents/{document_id}", "get")["responses"]["404"] = {
        "description": "Not found.",
        "content": {
            "application/problem+json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Problem"}, retyped]}}
        },
    }


def _undescribed_parameter(spec: Spec) -> None:
    del spec["components"]["parameters"]["limit"]["description"]


def _undescribed_property(spec: Spec) -> None:
    del spec["components"]["schemas"]["Project"]["properties"]["created_at"]["description"]


def _example_off_schema(spec: Spec) -> None:
    _operation(spec, "/health", "get")["responses"]["200"]["content"]["application/json"]["example"]["status"] = "up"


def _header_example_off_schema(spec: Spec) -> None:
    spec["components"]["headers"]["Retry-After"]["example"] = "soon"


# Each mutation and the finding it must cause: (rule, JSON pointer in the mutated copy).
MUTATIONS: dict[str, tuple[Callable[[Spec], None], Finding]] = {
    "operationId without its tag": (
        _rename_without_tag,
        ("vaultgate/operation-id-tag-verb", "#/paths/~1meta~1whoami/get/operationId"),
    ),
    "operationId under another tag": (
        _rename_to_other_tag,
        ("vaultgate/operation-id-tag-verb", "#/paths/~1meta~1rate-limit/get/operationId"),
    ),
    "x-scope missing": (_drop_scope, ("vaultgate/operation-scope-and-cost", "#/paths/~1vault~1search/get")),
    "x-cost missing": (_drop_cost, ("vaultgate/operation-scope-and-cost", "#/paths/~1projects/get")),
    "a write made public": (
        _open_a_write,
        ("vaultgate/operation-scope-and-cost", "#/paths/~1vault~1documents~1{document_id}/delete"),
    ),
    "credentials made optional": (
        _credentials_optional,
        ("vaultgate/operation-scope-and-cost", "#/paths/~1workflows~1{workflow_id}~1runs/post"),
    ),
    "multipart upload an MCP tool": (
        _expose_upload,
        ("vaultgate/mcp-off-for-streams-and-uploads", "#/paths/~1vault~1documents/post"),
    ),
    "event stream an MCP tool": (
        _expose_stream,
        ("vaultgate/mcp-off-for-streams-and-uploads", "#/paths/~1chat~1stream/post"),
    ),
    "event stream with a charset an MCP tool": (
        _stream_with_parameters,
        ("vaultgate/mcp-off-for-streams-and-uploads", "#/paths/~1chat~1ask/post"),
    ),
    "NDJSON stream an MCP tool": (
        _ndjson_stream,
        ("vaultgate/mcp-off-for-streams-and-uploads", "#/paths/~1workflows~1runs/get"),
    ),
    "multipart/mixed an MCP tool": (
        _other_multipart,
        ("vaultgate/mcp-off-for-streams-and-uploads", "#/paths/~1templates~1fill~1{job_id}/get"),
    ),
    "octet-stream upload an MCP tool": (
        _raw_upload,
        ("vaultgate/mcp-off-for-streams-and-uploads", "#/paths/~1projects/post"),
    ),
    "4xx as application/json": (
        _plain_json_error,
        ("vaultgate/problem-error-responses", "#/paths/~1projects~1{project_id}/get/responses/404"),
    ),
    "5xx without the Problem schema": (
        _error_without_problem_schema,
        ("vaultgate/problem-error-responses", "#/paths/~1workflows/get/responses/500"),
    ),
    "Problem extended with another type of code": (
        _problem_code_retyped,
        ("vaultgate/problem-error-responses", "#/paths/~1vault~1documents~1{document_id}/get/responses/404"),
    ),
    "parameter without description": (
        _undescribed_parameter,
        ("parameter-description", "#/components/parameters/limit"),
    ),
    "property without description": (
        _undescribed_property,
        ("vaultgate/property-description", "#/components/schemas/Project/properties/created_at"),
    ),
    "example off its schema": (
        _example_off_schema,
        (
            "no-invalid-media-type-examples",
            "#/paths/~1health/get/responses/200/content/application~1json/example/status",
        ),
    ),
    "header example off its schema": (
        _header_example_off_schema,
        ("vaultgate/header-examples", "#/components/headers/Retry-After/example"),
    ),
}


@pytest.fixture(scope="module")
def mutated_findings(tmp_path_factory: pytest.TempPathFactory) -> set[Finding]:
    contract = _load(ROOT / "openapi" / "openapi.yaml")
    for mutate, _ in MUTATIONS.values():
        mutate(contract)
    config = _write_copy(tmp_path_factory.mktemp("lint"), contract, _load(ROOT / "openapi" / "oauth.yaml"))
    result = _lint("vaultgate@v2", "--config", str(config), "--format=json")
    assert result.returncode != 0, result.stderr
    return _findings(result.stdout)


def test_contracts_lint_clean() -> None:
    result = _lint("--format=stylish")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Your API descriptions are valid" in result.stderr
    assert "warning" not in result.stdout + result.stderr


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_rule_reports_the_mutation(mutated_findings: set[Finding], mutation: str) -> None:
    _, expected = MUTATIONS[mutation]

    assert expected in mutated_findings


def test_mutations_cause_only_their_findings(mutated_findings: set[Finding]) -> None:
    assert mutated_findings == {expected for _, expected in MUTATIONS.values()}


def test_a_warning_alone_fails_the_lint(tmp_path: Path) -> None:
    oauth = _load(ROOT / "openapi" / "oauth.yaml")
    # An unused schema is only a warning in Redocly's recommended rules.
    oauth["components"]["schemas"]["Unused"] = copy.deepcopy(oauth["components"]["schemas"]["WebUrl"])
    config = _write_copy(tmp_path, _load(ROOT / "openapi" / "openapi.yaml"), oauth)

    result = _lint("oauth@v1", "--config", str(config), "--format=stylish")

    assert "no-unused-components" in result.stdout
    assert result.returncode == 1
    assert "warnings fail the lint" in result.stderr
