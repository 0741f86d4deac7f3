"""The spec and the code stay honest with each other."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import jsonschema
import pytest

import handlers
from gateway.contract import load_contract
from gateway.problems import PROBLEM_CODES

CONTRACT = load_contract()
SPEC = CONTRACT.document


def test_every_operation_resolves_to_a_handler() -> None:
    for operation in CONTRACT.operations:
        tag, verb = operation.operation_id.split(".", 1)
        module = importlib.import_module(f"handlers.{tag}")
        assert callable(getattr(module, verb, None)), f"{operation.operation_id} has no handler"


def test_every_public_handler_is_named_by_the_spec() -> None:
    named = {op.operation_id for op in CONTRACT.operations}
    for info in pkgutil.iter_modules(handlers.__path__):
        module = importlib.import_module(f"handlers.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_"):
                assert f"{info.name}.{name}" in named, f"handlers/{info.name}.py:{name} is not in the spec"


@pytest.mark.parametrize("operation", CONTRACT.operations, ids=lambda op: op.operation_id)
def test_every_operation_declares_scope_cost_tag_and_summary(operation: Any) -> None:
    written = CONTRACT.document_operation(operation.operation_id)
    assert operation.operation_id.split(".")[0] in written["tags"]
    assert written["summary"]
    assert isinstance(written["x-cost"], int)
    assert written["x-cost"] >= 0
    if operation.authenticated:
        assert written["x-scope"] in SPEC["components"]["schemas"]["Scope"]["enum"]


def _resolve(node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _resolve(target)
    return node


def _examples() -> list[tuple[str, dict[str, Any], Any]]:
    found = []
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                for media_type, content in _resolve(response).get("content", {}).items():
                    if "example" in content:
                        label = f"{method.upper()} {path} {status} {media_type}"
                        found.append((label, content["schema"], content["example"]))
    return found


@pytest.mark.parametrize(("label", "schema", "example"), _examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_examples_match_their_schemas(label: str, schema: dict[str, Any], example: Any) -> None:
    resolver_schema = {**schema, "components": SPEC["components"]}
    jsonschema.validate(example, _nullable_to_draft4(resolver_schema))


def _nullable_to_draft4(node: Any) -> Any:
    # OpenAPI 3.0's `nullable` is not JSON Schema; spell it as a type union.
    if isinstance(node, dict):
        converted = {key: _nullable_to_draft4(value) for key, value in node.items() if key != "nullable"}
        if node.get("nullable") and "type" in node:
            converted["type"] = [node["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        return converted
    if isinstance(node, list):
        return [_nullable_to_draft4(value) for value in node]
    return node


def test_every_problem_example_uses_a_known_code() -> None:
    for response in SPEC["components"]["responses"].values():
        example = response["content"]["application/problem+json"]["example"]
        assert example["code"] in PROBLEM_CODES
        assert example["status"] in (PROBLEM_CODES[example["code"]].status, 422)
