"""Tools generated from the contract at start-up: one per operation without `x-mcp: false`.

A tool's name is its operationId with `.` written `_` (clients such as Claude
Desktop and Codex reject a whole tool list when one name has a dot); its input
schema is the operation's path and query parameters plus its JSON body's
properties, flat, as agents fill them best; its output schema is the success
response's schema (list operations also admit the two smart-list shapes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gateway.agents import lists
from gateway.contract import IDEMPOTENCY_HEADER, Contract, Operation

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
IDEMPOTENCY_ARGUMENT = "idempotency_key"
# OpenAPI 3.0 keywords JSON Schema does not have (or that mean nothing to an agent).
_DROPPED_KEYWORDS = ("example", "xml", "externalDocs", "discriminator", "nullable")


def tool_name(operation_id: str) -> str:
    return operation_id.replace(".", "_")


@dataclass(frozen=True)
class Parameter:
    """A path or query parameter, as the REST call needs it."""

    name: str
    location: str  # "path" or "query"
    explode: bool


@dataclass(frozen=True)
class Tool:
    """One operation as an MCP tool."""

    name: str
    operation: Operation
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    parameters: tuple[Parameter, ...]
    # The JSON body's top-level properties, taken from the arguments; None: the operation has no body.
    body_properties: tuple[str, ...] | None
    # A list operation (`data` array in its answer), shaped by `gateway.agents.lists`; `cursor`: it pages.
    lists: bool = False
    pages: bool = False
    query_descriptions: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def reads_only(self) -> bool:
        return self.operation.scope is None or self.operation.scope.endswith(":read")


class _Schemas:
    """Converts OpenAPI 3.0 schemas to JSON Schema 2020-12, gathering the components they use as `$defs`."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components: dict[str, Any] = document.get("components", {}).get("schemas", {})

    def convert(self, schema: Any, used: set[str]) -> Any:
        if isinstance(schema, list):
            return [self.convert(item, used) for item in schema]
        if not isinstance(schema, dict):
            return schema
        if "$ref" in schema:
            name = schema["$ref"].removeprefix("#/components/schemas/")
            self._use(name, used)
            return {"$ref": f"#/$defs/{name}"}
        converted = {
            key: (value if key in ("enum", "default", "const") else self.convert(value, used))
            for key, value in schema.items()
            if key not in _DROPPED_KEYWORDS
        }
        if key_properties := schema.get("properties"):
            # Property names are data, not keywords: convert only their schemas.
            converted["properties"] = {name: self.convert(value, used) for name, value in key_properties.items()}
        if schema.get("nullable"):
            converted = _nullable(converted)
        return converted

    def _use(self, name: str, used: set[str]) -> None:
        if name not in used:
            used.add(name)
            self.convert(self.components[name], used)

    def definitions(self, used: set[str]) -> dict[str, Any]:
        return {name: self.convert(self.components[name], set()) for name in sorted(used)}

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def flatten(self, schema: dict[str, Any]) -> dict[str, Any]:
        """An object schema with its `allOf` parts merged (properties and required), references resolved."""
        schema = self.resolve(schema)
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema.get("allOf", []):
            part = self.flatten(part)
            merged.setdefault("properties", {}).update(part.get("properties", {}))
            merged["required"] = [*merged.get("required", []), *part.get("required", [])]
            merged.setdefault("type", part.get("type"))
        return merged


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema = {**schema, "type": [kind, "null"]}
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _description(operation: Operation, spec: dict[str, Any], listed: bool) -> str:
    parts = [operation.summary.rstrip(".") + "."]
    if spec.get("description"):
        parts.append(spec["description"].strip())
    cost = f"{operation.cost} rate-limit token{'s' if operation.cost != 1 else ''}"
    parts.append(f"Needs the '{operation.scope}' scope; costs {cost}." if operation.scope else f"Costs {cost}.")
    if listed:
        parts.append(lists.DESCRIPTION)
    return "\n\n".join(parts)


def build_tool(contract: Contract, schemas: _Schemas, operation: Operation) -> Tool:
    spec = contract.document_operation(operation.operation_id)
    path_item = contract.document["paths"][operation.path.removeprefix(contract.base_path)]
    used: set[str] = set()  # components the input schema refers to
    properties: dict[str, Any] = {}
    required: list[str] = []
    parameters: list[Parameter] = []
    descriptions: dict[str, str] = {}
    for raw in [*path_item.get("parameters", []), *spec.get("parameters", [])]:
        parameter = schemas.resolve(raw)
        if parameter["in"] == "header" and parameter["name"].lower() == IDEMPOTENCY_HEADER.lower():
            continue
        if parameter["in"] not in ("path", "query"):
            raise ValueError(f"{operation.operation_id}: a {parameter['in']} parameter cannot be a tool argument")
        name = parameter["name"]
        properties[name] = {
            **schemas.convert(parameter["schema"], used),
            "description": parameter.get("description", ""),
        }
        descriptions[name] = parameter.get("description", "")
        if parameter.get("required") or parameter["in"] == "path":
            required.append(name)
        parameters.append(Parameter(name, parameter["in"], bool(parameter.get("explode", True))))
    body_properties: tuple[str, ...] | None = None
    body = spec.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        body_schema = schemas.flatten(body["schema"])
        body_properties = tuple(body_schema.get("properties", {}))
        for name, prop in body_schema.get("properties", {}).items():
            if name in properties:
                raise ValueError(f"{operation.operation_id}: body property {name!r} collides with a parameter")
            properties[name] = schemas.convert(prop, used)
        required.extend(body_schema.get("required", []))
    if operation.idempotency_key is not None:
        properties[IDEMPOTENCY_ARGUMENT] = {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "description": (
                "Optional. The same key with the same arguments within 24 h does the work once and answers the "
                "first result again; pass a fresh UUID per intended action, and reuse it when retrying."
            ),
        }
    input_schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        input_schema["required"] = required

    success = [spec["responses"][s] for s in spec["responses"] if str(s).startswith("2")]
    response_schema = next(
        (r["content"]["application/json"]["schema"] for r in success if "application/json" in r.get("content", {})),
        None,
    )
    output_schema: dict[str, Any] | None = None
    listed = pages = False
    answered: set[str] = set()  # components the output schema refers to
    if response_schema is not None:
        flat = schemas.flatten(response_schema)
        listed = flat.get("properties", {}).get("data", {}).get("type") == "array"
        pages = listed and "next_cursor" in flat.get("properties", {})
        answer = schemas.convert(response_schema, answered)
        if listed:
            data_schema = schemas.convert(flat["properties"]["data"], answered)
            output_schema = {"type": "object", "anyOf": [answer, lists.truncated_schema(data_schema), lists.REFINE]}
        else:
            output_schema = {"type": "object", "allOf": [answer]}
    if used:
        input_schema["$defs"] = schemas.definitions(used)
    if output_schema is not None and answered:
        output_schema["$defs"] = schemas.definitions(answered)
    name = tool_name(operation.operation_id)
    if not TOOL_NAME.match(name):
        raise ValueError(f"{operation.operation_id}: tool name {name!r} does not match {TOOL_NAME.pattern}")
    return Tool(
        name=name,
        operation=operation,
        description=_description(operation, spec, listed),
        input_schema=input_schema,
        output_schema=output_schema,
        parameters=tuple(parameters),
        body_properties=body_properties,
        lists=listed,
        pages=pages,
        query_descriptions={p.name: descriptions[p.name] for p in parameters if p.location == "query"},
    )


def build_tools(contract: Contract) -> dict[str, Tool]:
    """Every operation MCP exposes, by tool name, in contract order."""
    schemas = _Schemas(contract.document)
    tools = [build_tool(contract, schemas, op) for op in contract.operations if op.mcp]
    return {tool.name: tool for tool in tools}
