"""The breaking-change check: what a client of the released contract would trip over in the current one.

`breaking_changes(released, current)` compares two OpenAPI 3.0 documents, as loaded from YAML, and
returns one finding per break. Each names the operation (`METHOD /path (operationId)`) and where in
it the break is: `parameter 'limit' (query)`, `request body application/json /scopes[]`,
`response 200 application/json /data[]/id`, `x-scope`. `$ref`s are followed (local ones only);
`allOf` members are read as one schema; a recursive schema is compared once per operation.

The guard holds while both `info.version`s share a major version: a higher current major (3.x
against 2.x) lifts it, and nothing is reported.

Breaking (a finding):
- the first server's `url` changed (the base path every URL is built on); a security scheme removed,
  or its `type`, `scheme`, `in` or `name` changed; an operation callable without credentials
  (effective `security` empty, or an empty requirement among its alternatives) that now needs them;
- an operation, path or method removed, unless the operation was released deprecated and its
  `x-sunset` has passed; an `operationId` renamed (it is also the MCP tool and the handler's name);
- a required parameter added, an optional one made required, a parameter removed, moved to
  another `in`, its serialization changed (`style`, `explode`, their defaults filled in), or its
  schema changed as a request schema may not (below);
- a request body made required, a request media type removed; in a request schema, at any depth:
  a required property added or a property made required, a property dropped where no other is
  accepted, additional properties closed, a property made `readOnly` (no longer to be sent), null
  no longer accepted, a type changed (to no type at all, `{}`, is a loosening), an enum value
  removed (or an enum imposed), a `default` changed or dropped (a client omitting the value relied
  on it), a constraint tightened (`maxLength`/`maximum`/`maxItems`/`maxProperties` lowered,
  `minLength`/`minimum`/`minItems`/`minProperties` raised, an exclusive bound or `uniqueItems`
  set, a `pattern`, `format` or `not` added or changed, a `multipleOf` added or changed to one that
  does not divide the old), fewer `oneOf`/`anyOf` alternatives;
- a documented response status, response media type or response header removed; in a response
  schema (a header's schema and each `x-sse-events` event's `data` schema are response schemas
  too; an event removed is a break), at any depth: a property removed or no longer always present
  (dropped from `required`) or made `writeOnly`, a type changed, a `format` added, changed or
  removed (clients and the SDK parse by it), a property made nullable (clients break on null), an
  enum value added (clients switch on enums, and the generated SDK parses each into a closed
  Python `Enum` that raises on a value it does not know);
- a problem `code` an operation documented no longer documented: gone from its `x-error-codes`,
  or from under a status where the `code` of an error response's examples (`example`,
  `examples`) or an `enum` on its schema's `code` property named it; a code named only in prose is
  not tracked (a rename is a removal);
- `x-mcp` turned false (the MCP tool disappears); any change of `x-scope` (a key that could call the
  operation may now get 403; scopes are not ranked, so even a "weaker" scope counts); an `x-cost`
  above the smallest tier's bucket capacity (`gateway.rate_limits.POLICIES`, 60 for free): that
  tier gets 429 for ever;
- deprecation: a deprecated operation without `x-deprecated-at` and `x-sunset`, with a sunset less
  than 90 days after its deprecation, or with its sunset moved earlier; an operation deprecated
  since the release with an `x-deprecated-at` before the release day (`RELEASED_ON`). The guard
  cannot know the day a deprecation lands: the reviewer checks that `x-deprecated-at` is it.

Not breaking, by policy:
- an `x-cost` change within the smallest bucket: costs are tuned to load and every answer
  advertises what it drew (`X-RateLimit-Cost`, `RateLimit`), so clients read them instead of
  hard-coding them;
- a request enum widened (a value more is accepted);
- additions: operations, methods, optional parameters and request properties, response properties,
  statuses and codes (in `x-error-codes` too); and edits of descriptions, summaries and examples.

Not checked: response constraints (e.g. a longer `maxLength`), `oneOf`/`anyOf` alternatives beyond
their position, servers after the first, and which scheme an operation requires once it required
one (a change of `x-scope` is what narrows who may call).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml

from gateway.contract import HTTP_METHODS, SAFE_LOADER
from gateway.rate_limits import POLICIES

__all__ = ["breaking_changes"]

# EXTENSIONS.md: a deprecated operation keeps answering at least this long after it is announced.
MINIMUM_DEPRECATION_NOTICE = timedelta(days=90)
# The day openapi/released/v2.0.0.yaml landed (commit 0a79769, 2026-12-01). The released file is not
# touched to record it (it changes only for deliberate breaks), so it lives here; freezing a new release
# moves it. An operation deprecated since then cannot date its deprecation earlier: a backdated
# `x-deprecated-at` would shorten the notice clients actually get.
RELEASED_ON = date(2026, 12, 1)
# An operation costing more than the smallest bucket holds can never be called on that tier (429 forever).
_SMALLEST_POLICY = min(POLICIES.values(), key=lambda policy: policy.capacity)
# What a client is built on in a security scheme; descriptions and `bearerFormat` are prose.
_SCHEME_FIELDS = ("type", "scheme", "in", "name")

Direction = Literal["request", "response"]
# A request schema may only loosen: these never go down (absent is unbounded)...
_UPPER_BOUNDS = ("maxLength", "maximum", "maxItems", "maxProperties")
# ...these never go up (absent is their default)...
_LOWER_BOUNDS = {"minLength": 0, "minimum": -math.inf, "minItems": 0, "minProperties": 0}
# ...these are never switched on, and these are never added or changed.
_FLAGS = ("exclusiveMinimum", "exclusiveMaximum", "uniqueItems")
_EXACT = ("pattern", "format", "not")


def breaking_changes(released: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Every way `current` breaks a client written against `released`, one human-readable line each."""
    if _major_version(current) > _major_version(released):
        return []
    old_document, new_document = _Document(released), _Document(current)
    old_operations, new_operations = old_document.operations(), new_document.operations()
    findings = _document_changes(released, current)
    for key, old in old_operations.items():
        new = new_operations.get(key)
        if new is None:
            findings.extend(_removal(old, new_document.paths))
            continue
        comparison = _Comparison(old_document, new_document, old.label)
        comparison.operation(old, new)
        findings.extend(comparison.findings)
    for key, new in new_operations.items():
        findings.extend(_deprecation_policy(new, old_operations.get(key)))
    return findings


def _document_changes(released: dict[str, Any], current: dict[str, Any]) -> list[str]:
    findings: list[str] = []
    # parse_contract builds the base path from the first server: every URL a client calls moves with it.
    old_url, new_url = _server_url(released), _server_url(current)
    if old_url != new_url:
        findings.append(f"servers[0].url: changed from {old_url!r} to {new_url!r}")
    old_schemes = released.get("components", {}).get("securitySchemes", {})
    new_schemes = current.get("components", {}).get("securitySchemes", {})
    for name, old_scheme in old_schemes.items():
        new_scheme = new_schemes.get(name)
        if new_scheme is None:
            findings.append(f"securitySchemes {name!r}: removed")
            continue
        for key in _SCHEME_FIELDS:
            if old_scheme.get(key) != new_scheme.get(key):
                findings.append(
                    f"securitySchemes {name!r}: {key} changed from {old_scheme.get(key)!r} to {new_scheme.get(key)!r}"
                )
    return findings


def _server_url(document: dict[str, Any]) -> str:
    servers = document.get("servers") or [{"url": "/"}]  # OpenAPI's default server
    return str(servers[0].get("url"))


@dataclass(frozen=True)
class _Operation:
    """One operation of a document, with the parameters of its path item merged into its own."""

    method: str
    path: str
    spec: dict[str, Any]
    parameters: dict[str, dict[str, Any]]

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path} ({self.spec.get('operationId', 'no operationId')})"


class _Document:
    """One OpenAPI document, its `$ref`s followed."""

    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        self.paths: set[str] = set(spec.get("paths", {}))

    def resolve(self, node: Any) -> Any:
        """The node a (chain of) local `$ref` points at; `node` itself when it is no reference."""
        followed: list[str] = []
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#"):
                raise ValueError(f"only local $refs are supported, not {ref!r}")
            if ref in followed:
                raise ValueError(f"circular $ref: {' -> '.join([*followed, ref])}")
            followed.append(ref)
            node = self._target(ref)
        return node

    def schema(self, node: Any, expanding: frozenset[int] = frozenset()) -> dict[str, Any]:
        """The schema `node` stands for, its `allOf` members merged into one object (`{}` for any)."""
        schema = self.resolve(node)
        if not isinstance(schema, dict):
            return {}
        if "allOf" not in schema or id(schema) in expanding:
            return schema
        merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
        for member in schema["allOf"]:
            part = self.schema(member, expanding | {id(schema)})
            # A later member narrows a property an earlier one declared (a page's `data` items).
            merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
            merged["required"] = [*merged.get("required", []), *part.get("required", [])]
            for key, value in part.items():
                merged.setdefault(key, value)
        return merged

    def operations(self) -> dict[tuple[str, str], _Operation]:
        found: dict[tuple[str, str], _Operation] = {}
        for path, item in self.spec.get("paths", {}).items():
            item = self.resolve(item)
            for method in HTTP_METHODS:
                if method in item:
                    spec = self.resolve(item[method])
                    parameters = self._parameters([*item.get("parameters", []), *spec.get("parameters", [])])
                    found[(method, path)] = _Operation(method, path, spec, parameters)
        return found

    def problem_codes(self, response: dict[str, Any]) -> set[str]:
        """The `code`s an error response documents, in its examples or as an enum of its schema."""
        codes: set[str] = set()
        for media in response.get("content", {}).values():
            examples = [media.get("example")]
            examples.extend(self.resolve(example).get("value") for example in media.get("examples", {}).values())
            codes.update(example["code"] for example in examples if isinstance(example, dict) and "code" in example)
            code_schema = self.schema(self.schema(media.get("schema")).get("properties", {}).get("code"))
            codes.update(code_schema.get("enum", []))
        return {str(code) for code in codes}

    def _target(self, ref: str) -> Any:
        node: Any = self.spec
        for part in ref.removeprefix("#").split("/")[1:]:
            key = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or key not in node:
                raise ValueError(f"$ref {ref!r} points at nothing")
            node = node[key]
        return node

    def _parameters(self, declared: list[Any]) -> dict[str, dict[str, Any]]:
        # An operation's parameter overrides its path item's of the same name; header names ignore case.
        parameters: dict[str, dict[str, Any]] = {}
        for parameter in (self.resolve(p) for p in declared):
            name = str(parameter["name"])
            parameters[name.lower() if parameter.get("in") == "header" else name] = parameter
        return parameters


@dataclass
class _Comparison:
    """One operation, released against current; its findings in the order they were met."""

    released: _Document
    current: _Document
    label: str
    findings: list[str] = field(default_factory=list)
    # Pairs of schema nodes already compared: a recursive schema stops at its second visit.
    _seen: set[tuple[int, int, Direction]] = field(default_factory=set)

    def report(self, where: str, message: str) -> None:
        self.findings.append(f"{self.label} {where}: {message}" if where else f"{self.label}: {message}")

    def operation(self, old: _Operation, new: _Operation) -> None:
        if old.spec.get("operationId") != new.spec.get("operationId"):
            self.report("operationId", f"renamed to {new.spec.get('operationId')!r}")
        self.extensions(old.spec, new.spec)
        self.security(old.spec, new.spec)
        self.parameters(old.parameters, new.parameters)
        old_body, new_body = old.spec.get("requestBody", {}), new.spec.get("requestBody", {})
        self.request_body(self.released.resolve(old_body), self.current.resolve(new_body))
        self.responses(old.spec.get("responses", {}), new.spec.get("responses", {}))
        self.sse_events(old.spec.get("x-sse-events", {}), new.spec.get("x-sse-events", {}))

    def extensions(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        if old.get("x-mcp", True) and not new.get("x-mcp", True):
            self.report("x-mcp", "no longer exposed to MCP clients")
        if old.get("x-scope") != new.get("x-scope"):
            self.report("x-scope", f"changed from {old.get('x-scope')!r} to {new.get('x-scope')!r}")
        for code in sorted(set(old.get("x-error-codes", [])) - set(new.get("x-error-codes", []))):
            self.report("x-error-codes", f"error code {code!r} no longer documented")
        cost = new.get("x-cost")
        if isinstance(cost, int | float) and cost > _SMALLEST_POLICY.capacity:
            self.report(
                "x-cost",
                f"{cost} exceeds the {_SMALLEST_POLICY.name} tier's bucket capacity "
                f"{_SMALLEST_POLICY.capacity}: that tier can never call it",
            )
        old_sunset, new_sunset = _as_date(old.get("x-sunset")), _as_date(new.get("x-sunset"))
        if old.get("deprecated") and old_sunset and new_sunset and new_sunset < old_sunset:
            self.report("x-sunset", f"moved earlier, from {old_sunset} to {new_sunset}")

    def security(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        # An operation callable without credentials (`security: []`, or an empty requirement among the
        # alternatives) that now needs them answers 401 to every client that called it bare.
        old_open = _anonymous(old.get("security", self.released.spec.get("security", [])))
        new_open = _anonymous(new.get("security", self.current.spec.get("security", [])))
        if old_open and not new_open:
            self.report("security", "credentials now required")

    def parameters(self, old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> None:
        for key, old_parameter in old.items():
            where = f"parameter {old_parameter['name']!r} ({old_parameter.get('in')})"
            new_parameter = new.get(key)
            if new_parameter is None:
                self.report(where, "removed")
            elif new_parameter.get("in") != old_parameter.get("in"):
                self.report(where, f"moved to {new_parameter.get('in')}")
            else:
                if new_parameter.get("required") and not old_parameter.get("required"):
                    self.report(where, "made required")
                old_style, new_style = _serialization(old_parameter), _serialization(new_parameter)
                if old_style != new_style:
                    self.report(where, f"serialization (style, explode) changed from {old_style} to {new_style}")
                self.schemas(where, "", old_parameter.get("schema"), new_parameter.get("schema"), "request")
        for key, new_parameter in new.items():
            if key not in old and new_parameter.get("required"):
                self.report(
                    f"parameter {new_parameter['name']!r} ({new_parameter.get('in')})", "required parameter added"
                )

    def request_body(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        if new.get("required") and not old.get("required"):
            self.report("request body", "made required" if old else "required request body added")
        new_content = new.get("content", {})
        for media_type, old_media in old.get("content", {}).items():
            where = f"request body {media_type}"
            if media_type not in new_content:
                self.report(where, "media type no longer accepted")
            else:
                self.schemas(where, "", old_media.get("schema"), new_content[media_type].get("schema"), "request")

    def responses(self, old: dict[Any, Any], new: dict[Any, Any]) -> None:
        new_by_status = {str(status): response for status, response in new.items()}
        for status, old_reference in ((str(status), response) for status, response in old.items()):
            if status not in new_by_status:
                self.report(f"response {status}", "status no longer documented")
                continue
            old_response = self.released.resolve(old_reference)
            new_response = self.current.resolve(new_by_status[status])
            self.headers(status, old_response.get("headers", {}), new_response.get("headers", {}))
            new_content = new_response.get("content", {})
            for media_type, old_media in old_response.get("content", {}).items():
                where = f"response {status} {media_type}"
                if media_type not in new_content:
                    self.report(where, "media type no longer answered")
                else:
                    self.schemas(where, "", old_media.get("schema"), new_content[media_type].get("schema"), "response")
            if status[0] in "45" or status == "default":
                gone = self.released.problem_codes(old_response) - self.current.problem_codes(new_response)
                for code in sorted(gone):
                    self.report(f"response {status}", f"error code {code!r} no longer documented")

    def headers(self, status: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        new_by_name = {str(name).lower(): header for name, header in new.items()}
        for name, old_header in old.items():
            where = f"response {status} header {name}"
            new_header = new_by_name.get(str(name).lower())
            if new_header is None:
                self.report(where, "no longer sent")
                continue
            old_schema = self.released.resolve(old_header).get("schema")
            self.schemas(where, "", old_schema, self.current.resolve(new_header).get("schema"), "response")

    def sse_events(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        # Each event's `data` is what the client parses (EXTENSIONS.md): a response schema by another name.
        for name, old_schema in old.items():
            where = f"x-sse-events {name}"
            if name not in new:
                self.report(where, "event no longer sent")
            else:
                self.schemas(where, "", old_schema, new[name], "response")

    def schemas(self, where: str, pointer: str, old: Any, new: Any, direction: Direction) -> None:
        old_node, new_node = self.released.resolve(old), self.current.resolve(new)
        if (id(old_node), id(new_node), direction) in self._seen:
            return
        self._seen.add((id(old_node), id(new_node), direction))
        old_schema, new_schema = self.released.schema(old_node), self.current.schema(new_node)
        at = _at(where, pointer)
        # A request schema that no longer names a type (`{}`, any) accepts what it did and more.
        loosened = direction == "request" and "type" not in new_schema
        if old_schema.get("type") != new_schema.get("type") and not loosened:
            self.report(at, f"type changed from {old_schema.get('type', 'any')} to {new_schema.get('type', 'any')}")
            return
        if direction == "request":
            self.request_constraints(at, old_schema, new_schema)
        else:
            self.response_constraints(at, old_schema, new_schema)
        self.properties(where, pointer, old_schema, new_schema, direction)
        for keyword, step in (("items", "[]"), ("additionalProperties", "/*")):
            if isinstance(old_schema.get(keyword), dict) and isinstance(new_schema.get(keyword), dict):
                self.schemas(where, pointer + step, old_schema[keyword], new_schema[keyword], direction)
        for keyword in ("oneOf", "anyOf"):
            old_alternatives, new_alternatives = old_schema.get(keyword, []), new_schema.get(keyword, [])
            if direction == "request" and len(new_alternatives) < len(old_alternatives):
                self.report(at, f"{keyword} has {len(new_alternatives)} alternatives, was {len(old_alternatives)}")
            for index, (old_member, new_member) in enumerate(zip(old_alternatives, new_alternatives, strict=False)):
                self.schemas(where, f"{pointer}/{keyword}/{index}", old_member, new_member, direction)

    def request_constraints(self, at: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        if old.get("nullable") and not new.get("nullable") and "type" in new:
            self.report(at, "null no longer accepted")
        if new.get("readOnly") and not old.get("readOnly"):
            self.report(at, "now readOnly: no longer accepted in requests")
        if "default" in old and new.get("default") != old["default"]:
            # A client that omits the value relied on the old default.
            self.report(at, f"default changed from {old['default']!r} to {new.get('default', 'none')!r}")
        if "multipleOf" in new and not _divides(new["multipleOf"], old.get("multipleOf")):
            change = "changed" if "multipleOf" in old else "added"
            self.report(at, f"multipleOf {change}: {new['multipleOf']!r}")
        if "enum" in new:
            dropped = [value for value in old.get("enum", []) if value not in new["enum"]]
            if "enum" not in old:
                self.report(at, f"now limited to {new['enum']!r}")
            elif dropped:
                self.report(at, f"enum no longer accepts {', '.join(repr(value) for value in dropped)}")
        for keyword in _UPPER_BOUNDS:
            if new.get(keyword, math.inf) < old.get(keyword, math.inf):
                self.report(at, f"{keyword} lowered from {old.get(keyword, 'none')} to {new[keyword]}")
        for keyword, default in _LOWER_BOUNDS.items():
            if new.get(keyword, default) > old.get(keyword, default):
                self.report(at, f"{keyword} raised from {old.get(keyword, 'none')} to {new[keyword]}")
        for keyword in _FLAGS:
            if new.get(keyword) and not old.get(keyword):
                self.report(at, f"{keyword} now set")
        for keyword in _EXACT:
            if keyword in new and new[keyword] != old.get(keyword):
                change = "changed" if keyword in old else "added"
                self.report(at, f"{keyword} {change}: {new[keyword]!r}")

    def response_constraints(self, at: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        if new.get("nullable") and not old.get("nullable"):
            self.report(at, "may now be null")
        if new.get("writeOnly") and not old.get("writeOnly"):
            self.report(at, "now writeOnly: no longer answered")
        if old.get("format") != new.get("format"):
            # Clients (and the SDK) parse by format: a `date-time` read as `datetime`, a `uuid` as `UUID`.
            self.report(at, f"format changed from {old.get('format', 'none')!r} to {new.get('format', 'none')!r}")
        if "enum" in old:
            added = [value for value in new.get("enum", []) if value not in old["enum"]]
            if "enum" not in new:
                self.report(at, f"no longer limited to {old['enum']!r}")
            elif added:
                self.report(at, f"enum now also answers {', '.join(repr(value) for value in added)}")

    def properties(
        self, where: str, pointer: str, old: dict[str, Any], new: dict[str, Any], direction: Direction
    ) -> None:
        old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        if direction == "request":
            for name in sorted(new_required - old_required):
                change = "property made required" if name in old_properties else "required property added"
                self.report(_at(where, _child(pointer, name)), change)
            if new.get("additionalProperties") is False:
                for name in sorted(old_properties.keys() - new_properties.keys()):
                    self.report(_at(where, _child(pointer, name)), "property no longer accepted")
                if old.get("additionalProperties", True) is not False:
                    self.report(_at(where, pointer), "additional properties no longer accepted")
        else:
            for name in old_properties:
                if name not in new_properties:
                    self.report(_at(where, _child(pointer, name)), "property removed")
                elif name in old_required and name not in new_required:
                    self.report(_at(where, _child(pointer, name)), "no longer always present")
        for name, old_property in old_properties.items():
            if name in new_properties:
                self.schemas(where, _child(pointer, name), old_property, new_properties[name], direction)


def _at(where: str, pointer: str) -> str:
    return f"{where} {pointer}" if pointer else where


def _child(pointer: str, name: str) -> str:
    # RFC 6901 escaping, so a property named `a/b` reads as one step.
    return f"{pointer}/{name.replace('~', '~0').replace('/', '~1')}"


def _anonymous(security: Any) -> bool:
    return not security or any(not requirement for requirement in security)


def _serialization(parameter: dict[str, Any]) -> tuple[str, bool]:
    # OpenAPI 3.0's defaults: `form` for query and cookie, `simple` for path and header; explode with form.
    style = str(parameter.get("style", "form" if parameter.get("in") in ("query", "cookie") else "simple"))
    return style, bool(parameter.get("explode", style == "form"))


def _divides(new: Any, old: Any) -> bool:
    # A new `multipleOf` that divides the old one accepts every value the old one did.
    if not isinstance(new, int | float) or not isinstance(old, int | float) or new == 0:
        return False
    ratio = old / new
    return math.isclose(ratio, round(ratio))


def _removal(old: _Operation, current_paths: set[str]) -> list[str]:
    sunset = _as_date(old.spec.get("x-sunset"))
    today = datetime.now(UTC).date()  # the gateway answers 410 from 00:00 UTC on the sunset day
    if old.spec.get("deprecated") and sunset is not None and sunset <= today:
        return []
    removed = "method removed" if old.path in current_paths else "path removed"
    if old.spec.get("deprecated") and sunset is not None:
        removed += f" before its sunset ({sunset})"
    return [f"{old.label}: {removed}"]


def _deprecation_policy(operation: _Operation, released: _Operation | None) -> list[str]:
    if not operation.spec.get("deprecated"):
        return []
    deprecated_at, sunset = _as_date(operation.spec.get("x-deprecated-at")), _as_date(operation.spec.get("x-sunset"))
    if deprecated_at is None or sunset is None:
        return [f"{operation.label} deprecated: needs x-deprecated-at and x-sunset (YYYY-MM-DD)"]
    findings: list[str] = []
    if released is not None and not released.spec.get("deprecated") and deprecated_at < RELEASED_ON:
        findings.append(
            f"{operation.label} x-deprecated-at: {deprecated_at} is before the release ({RELEASED_ON}); "
            "it is the day the deprecation lands"
        )
    if sunset < deprecated_at + MINIMUM_DEPRECATION_NOTICE:
        days = MINIMUM_DEPRECATION_NOTICE.days
        findings.append(
            f"{operation.label} x-sunset: {sunset} is less than {days} days after x-deprecated-at {deprecated_at}"
        )
    return findings


def _as_date(value: object) -> date | None:
    # YAML reads an unquoted 2027-01-01 as a date already; a quoted one as text.
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _major_version(document: dict[str, Any]) -> int:
    return int(str(document["info"]["version"]).lstrip("v").split(".")[0])


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=SAFE_LOADER)
    if not isinstance(document, dict):
        raise SystemExit(f"{path}: not an OpenAPI document")
    return document


def main(argv: list[str] | None = None) -> int:
    """Print the breaking changes between two spec files; exit 1 if there are any."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.contract.breaking_changes",
        description="Report what in CURRENT breaks a client of the RELEASED OpenAPI contract.",
    )
    parser.add_argument("released", type=Path, help="the frozen release, e.g. openapi/released/v2.0.0.yaml")
    parser.add_argument("current", type=Path, help="the contract as it is now, e.g. openapi/openapi.yaml")
    arguments = parser.parse_args(argv)
    findings = breaking_changes(_load(arguments.released), _load(arguments.current))
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} breaking change(s) against {arguments.released}", file=sys.stderr)
        return 1
    print(f"No breaking change against {arguments.released}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
