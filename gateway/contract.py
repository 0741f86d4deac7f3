"""The contract as data: operations with their scope, cost and MCP exposure, read from the spec."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Inside the package, so an installed wheel carries it; in a checkout gateway/openapi links to openapi/.
SPEC_PATH = Path(__file__).resolve().parent / "openapi" / "openapi.yaml"
IDEMPOTENCY_HEADER = "Idempotency-Key"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    """One operation of the contract, as middleware and `meta.capabilities` see it."""

    operation_id: str
    method: str
    path: str
    summary: str
    scope: str | None
    cost: int
    mcp: bool
    authenticated: bool
    deprecated: bool
    deprecated_at: date | None
    sunset: date | None
    # The declared `Idempotency-Key` header parameter; present only on operations that honour one.
    idempotency_key: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    # Media types of the success answers, for content negotiation; empty when a success has no body.
    media_types: tuple[str, ...] = ("application/json",)


class Contract:
    """The loaded spec and the operations it defines, in spec order."""

    def __init__(self, document: dict[str, Any], base_path: str, operations: list[Operation]):
        self.document = document
        self.base_path = base_path
        self.operations = tuple(operations)
        self._by_id = {op.operation_id: op for op in operations}
        self._paths = [
            (_template_to_regex(base_path + path), [m.upper() for m in HTTP_METHODS if m in item])
            for path, item in document["paths"].items()
        ]

    def operation(self, operation_id: str) -> Operation:
        return self._by_id[operation_id]

    def __contains__(self, operation_id: object) -> bool:
        return operation_id in self._by_id

    @property
    def version(self) -> str:
        return str(self.document["info"]["version"])

    @property
    def scopes(self) -> list[str]:
        """Every scope a credential can hold (the `Scope` schema's enum; none in a contract without one)."""
        return list(self.document.get("components", {}).get("schemas", {}).get("Scope", {}).get("enum", []))

    def url_for(self, operation_id: str, **parameters: object) -> str:
        """The operation's path with its path parameters filled in, e.g. for a `Location` header."""
        return self._by_id[operation_id].path.format(**parameters)

    def document_operation(self, operation_id: str) -> dict[str, Any]:
        """The operation's object as written in the spec."""
        operation = self._by_id[operation_id]
        path = operation.path.removeprefix(self.base_path)
        return self.document["paths"][path][operation.method.lower()]  # type: ignore[no-any-return]

    def allowed_methods(self, request_path: str) -> list[str] | None:
        """Methods the spec defines for the path that matches `request_path`, if any."""
        for pattern, methods in self._paths:
            if pattern.fullmatch(request_path):
                return methods
        return None


def _template_to_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _as_date(value: object) -> date | None:
    # YAML reads an unquoted 2027-01-01 as a date already; a quoted one as text.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _idempotency_key(document: dict[str, Any], parameters: list[dict[str, Any]]) -> dict[str, Any] | None:
    for parameter in (_resolve(document, p) for p in parameters):
        if parameter["in"] == "header" and parameter["name"].lower() == IDEMPOTENCY_HEADER.lower():
            return parameter
    return None


def _success_media_types(document: dict[str, Any], responses: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for status, response in responses.items():
        if str(status).startswith("2"):
            found.extend(t for t in _resolve(document, response).get("content", {}) if t not in found)
    return tuple(found)


def parse_contract(document: dict[str, Any]) -> Contract:
    base_path = document["servers"][0]["url"].rstrip("/")
    default_security = document.get("security", [])
    operations = []
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            spec = item.get(method)
            if spec is None:
                continue
            operations.append(
                Operation(
                    operation_id=spec["operationId"],
                    method=method.upper(),
                    path=base_path + path,
                    summary=spec.get("summary", ""),
                    scope=spec.get("x-scope"),
                    cost=int(spec["x-cost"]),
                    mcp=bool(spec.get("x-mcp", True)),
                    authenticated=bool(spec.get("security", default_security)),
                    deprecated=bool(spec.get("deprecated", False)),
                    deprecated_at=_as_date(spec.get("x-deprecated-at")),
                    sunset=_as_date(spec.get("x-sunset")),
                    idempotency_key=_idempotency_key(
                        document, [*item.get("parameters", []), *spec.get("parameters", [])]
                    ),
                    media_types=_success_media_types(document, spec["responses"]),
                )
            )
    for operation in operations:
        # RFC 9745 and RFC 8594 both need a date; a deprecation without them could not be announced.
        if operation.deprecated and (operation.deprecated_at is None or operation.sunset is None):
            raise ValueError(f"{operation.operation_id} is deprecated: it needs x-deprecated-at and x-sunset")
    return Contract(document, base_path, operations)


@cache
def load_contract(path: Path = SPEC_PATH) -> Contract:
    with path.open(encoding="utf-8") as handle:
        # libyaml's parser, with the safe constructors: the same document as `yaml.safe_load`, 8x faster (the
        # contract is read by every process at start-up, the CLI's included).
        return parse_contract(yaml.load(handle, Loader=SAFE_LOADER))
