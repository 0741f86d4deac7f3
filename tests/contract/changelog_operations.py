"""The CHANGELOG's operation lists, generated from the spec diff so they cannot drift from it.

`operation_changes(released, current)` compares two OpenAPI documents operation by operation and
`render(...)` writes the lists the CHANGELOG's current section carries between its markers:

- **Added**: operations the released contract does not have;
- **Changed**: operations whose contract changed, naming the parts (`parameters`, `request body`,
  `response 200`, `x-scope`, `x-cost`, `x-mcp`, `x-error-codes`…), `$ref`s followed, so a shared
  schema's change lists every operation using it. Descriptions, summaries, examples and links are
  documentation, not contract; an `x-error-codes` list the released operation did not have is new
  documentation of codes answered all along, so only a list changed since is a change;
- **Deprecated**: operations deprecated since, with their sunset;
- **Removed**: operations gone since (only past their sunset, as `breaking_changes` enforces).

`python -m tests.contract.changelog_operations` prints them; `--write CHANGELOG.md` puts them between the
markers, `--check CHANGELOG.md` exits 1 when what is there differs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.contract import HTTP_METHODS, SAFE_LOADER

__all__ = ["BEGIN_MARKER", "END_MARKER", "OperationChanges", "operation_changes", "render"]

BEGIN_MARKER = "<!-- operations: python -m tests.contract.changelog_operations --write CHANGELOG.md -->"
END_MARKER = "<!-- operations: end -->"
_OPENAPI = Path(__file__).resolve().parents[2] / "openapi"
RELEASED_PATH = _OPENAPI / "released" / "v2.0.0.yaml"
CURRENT_PATH = _OPENAPI / "openapi.yaml"

# Prose and samples for people and tools: a change of these alone changes no client's contract.
_DOCUMENTATION = frozenset({"description", "summary", "example", "examples", "externalDocs", "links", "tags"})
_CONTRACT_KEYS = ("x-scope", "x-cost", "x-mcp", "deprecated", "x-deprecated-at", "x-sunset", "security")


@dataclass(frozen=True)
class Listed:
    """One operation in a list: `chat.ask` POST /api/v2/chat/ask, and what changed or when it ends."""

    operation_id: str
    method: str
    path: str
    note: str = ""

    def line(self) -> str:
        note = f": {self.note}" if self.note else ""
        return f"- `{self.operation_id}` {self.method.upper()} {self.path}{note}"


@dataclass(frozen=True)
class OperationChanges:
    added: list[Listed]
    changed: list[Listed]
    deprecated: list[Listed]
    removed: list[Listed]


def operation_changes(released: dict[str, Any], current: dict[str, Any]) -> OperationChanges:
    """What happened to each operation between the two documents, in the current spec's order."""
    old_operations, new_operations = _operations(released), _operations(current)
    base_path = _base_path(current)
    added, changed, deprecated = [], [], []
    for key, new in new_operations.items():
        old = old_operations.get(key)
        listed = _listed(new, key, base_path)
        if old is None:
            added.append(listed)
            continue
        parts = _changed_parts(released, old, current, new)
        if parts:
            changed.append(Listed(listed.operation_id, listed.method, listed.path, ", ".join(parts)))
        if new.get("deprecated") and not old.get("deprecated"):
            deprecated.append(Listed(listed.operation_id, listed.method, listed.path, f"sunset {new.get('x-sunset')}"))
    removed = [
        _listed(old, key, _base_path(released)) for key, old in old_operations.items() if key not in new_operations
    ]
    return OperationChanges(added, changed, deprecated, removed)


def render(changes: OperationChanges) -> str:
    """The lists as CHANGELOG Markdown: a heading per non-empty list (Added, Changed, Deprecated, Removed)."""
    sections = []
    for heading, entries in (
        ("Added", changes.added),
        ("Changed", changes.changed),
        ("Deprecated", changes.deprecated),
        ("Removed", changes.removed),
    ):
        if entries:
            sections.append("\n".join([f"### {heading}", *(entry.line() for entry in entries)]))
    return "\n\n".join(sections) if sections else "No operation added, changed, deprecated or removed."


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def _base_path(document: dict[str, Any]) -> str:
    servers = document.get("servers") or [{"url": ""}]
    return str(servers[0]["url"]).rstrip("/")


def _listed(operation: dict[str, Any], key: tuple[str, str], base_path: str) -> Listed:
    method, path = key
    return Listed(str(operation.get("operationId", "")), method, base_path + path)


def _changed_parts(
    released: dict[str, Any], old: dict[str, Any], current: dict[str, Any], new: dict[str, Any]
) -> list[str]:
    def contract(document: dict[str, Any], node: Any) -> Any:
        return _without_documentation(document, node, frozenset())

    parts = [name for name in _CONTRACT_KEYS if old.get(name) != new.get(name)]
    if "x-error-codes" in old and old["x-error-codes"] != new.get("x-error-codes"):
        parts.append("x-error-codes")
    if _parameters(released, old) != _parameters(current, new):
        parts.append("parameters")
    if contract(released, old.get("requestBody")) != contract(current, new.get("requestBody")):
        parts.append("request body")
    old_responses, new_responses = old.get("responses", {}), new.get("responses", {})
    for status in sorted({str(status) for status in [*old_responses, *new_responses]}):
        old_response = next((r for s, r in old_responses.items() if str(s) == status), None)
        new_response = next((r for s, r in new_responses.items() if str(s) == status), None)
        if contract(released, old_response) != contract(current, new_response):
            parts.append(f"response {status}")
    other = {key for key in {*old, *new} if key.startswith("x-") and key not in {*_CONTRACT_KEYS, "x-error-codes"}}
    parts.extend(sorted(key for key in other if contract(released, old.get(key)) != contract(current, new.get(key))))
    return parts


def _parameters(document: dict[str, Any], operation: dict[str, Any]) -> dict[tuple[str, str], Any]:
    # Order is not contract: parameters are matched by name and location.
    resolved = [
        _without_documentation(document, parameter, frozenset()) for parameter in operation.get("parameters", [])
    ]
    return {(str(parameter.get("name")), str(parameter.get("in"))): parameter for parameter in resolved}


def _without_documentation(document: dict[str, Any], node: Any, expanding: frozenset[str]) -> Any:
    """`node` with its local `$ref`s followed (a recursive one left as the reference) and documentation dropped."""
    if isinstance(node, list):
        return [_without_documentation(document, value, expanding) for value in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        reference = node["$ref"]
        if reference in expanding:
            return {"$ref": reference}
        return _without_documentation(document, _target(document, reference), expanding | {reference})
    return {
        key: _without_documentation(document, value, expanding)
        for key, value in node.items()
        if key not in _DOCUMENTATION
    }


def _target(document: dict[str, Any], reference: str) -> Any:
    node: Any = document
    for part in reference.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=SAFE_LOADER)
    return document


def between_markers(changelog: str) -> str:
    """What the CHANGELOG carries between the markers (the first pair: the current section's)."""
    start, end = changelog.find(BEGIN_MARKER), changelog.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"no {BEGIN_MARKER!r} … {END_MARKER!r} in the changelog")
    return changelog[start + len(BEGIN_MARKER) : end].strip()


def replace_between_markers(changelog: str, lists: str) -> str:
    start, end = changelog.find(BEGIN_MARKER), changelog.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"no {BEGIN_MARKER!r} … {END_MARKER!r} in the changelog")
    return f"{changelog[: start + len(BEGIN_MARKER)]}\n{lists}\n{changelog[end:]}"


def main(argv: list[str] | None = None) -> int:
    """Print the operation lists; or write them into, or check them against, a changelog's markers."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.contract.changelog_operations",
        description="The Added / Changed / Deprecated / Removed operations between two OpenAPI contracts.",
    )
    parser.add_argument("--released", type=Path, default=RELEASED_PATH)
    parser.add_argument("--current", type=Path, default=CURRENT_PATH)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, metavar="CHANGELOG", help="replace the lists between its markers")
    action.add_argument("--check", type=Path, metavar="CHANGELOG", help="exit 1 unless its lists are these")
    arguments = parser.parse_args(argv)
    lists = render(operation_changes(_load(arguments.released), _load(arguments.current)))
    if arguments.write:
        text = arguments.write.read_text(encoding="utf-8")
        arguments.write.write_text(replace_between_markers(text, lists), encoding="utf-8")
    elif arguments.check:
        if between_markers(arguments.check.read_text(encoding="utf-8")) != lists:
            print(f"{arguments.check}: the operation lists differ from the spec diff; they should read:\n\n{lists}")
            return 1
    else:
        print(lists)
    return 0


if __name__ == "__main__":
    sys.exit(main())
