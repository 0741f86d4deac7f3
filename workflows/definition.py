"""Workflow definitions: YAML in, checked against `definition.schema.json` and for sense, every error located."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import regex
import yaml

from core.failures import FieldError, Invalid
from workflows import expressions
from workflows.inputs import Input, check_value

SCHEMA_PATH = Path(__file__).with_name("definition.schema.json")
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BOOL = "tag:yaml.org,2002:bool"
DEFAULT_TIMEOUT_SECONDS = 900


def definition_invalid(problems: list[FieldError]) -> Invalid:
    """Every problem of a definition (pointer, YAML line and column), in source order."""
    ordered = sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
    return Invalid(f"{len(ordered)} problem(s) in the workflow definition", tuple(ordered))


@dataclass(frozen=True)
class Step:
    id: str
    name: str
    action: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Definition:
    name: str
    description: str | None
    enabled: bool
    trigger_type: str
    requires_project: bool
    timeout_seconds: int
    inputs: list[Input]
    steps: list[Step]
    outputs: dict[str, Any]

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Definition:
        """A definition from its validated JSON document (as stored with each version)."""
        return cls(
            name=document["name"],
            description=document.get("description"),
            enabled=document.get("enabled", True),
            trigger_type=document.get("trigger_type", "manual"),
            requires_project=document.get("requires_project", False),
            timeout_seconds=document.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
            inputs=[Input(name=name, **spec) for name, spec in document.get("inputs", {}).items()],
            steps=[Step(step["id"], step["name"], step["action"], step.get("with", {})) for step in document["steps"]],
            outputs=document.get("outputs", {}),
        )


def digest(document: dict[str, Any]) -> str:
    """Identifies what a definition does: re-importing an unchanged one (whatever its comments) is not a new version."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class _Loader(yaml.SafeLoader):
    """Safe YAML read as YAML 1.2 reads it: dates stay strings (a definition is JSON data, and `2026-04-01` a date
    input's text), and only true/false are booleans (`name: Off` is a name, not False). No aliases: a few lines of
    nested `*refs` expand to billions of values the moment anything walks the document."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a workflow definition", event.start_mark
            )
        return super().compose_node(parent, index)  # type: ignore[arg-type]


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_TIMESTAMP, _BOOL)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def _pointer(path: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


class _Locator:
    """Maps JSON Pointers into the YAML node tree, for line numbers; finds duplicate keys on the way."""

    def __init__(self, source: str) -> None:
        self.root = yaml.compose(source, Loader=_Loader)

    def find(self, path: list[str | int]) -> yaml.Node | None:
        node = self.root
        for part in path:
            if isinstance(node, yaml.MappingNode):
                node = next((value for key, value in node.value if key.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
            else:
                return node
            if node is None:
                return None
        return node

    def problem(self, path: list[str | int], message: str) -> FieldError:
        node = self.find(path)
        mark = node.start_mark if node is not None else None
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return FieldError(message, pointer=_pointer(path), line=line, column=column)

    def duplicate_keys(self) -> list[FieldError]:
        problems: list[FieldError] = []

        def walk(node: yaml.Node, path: list[str | int]) -> None:
            if isinstance(node, yaml.MappingNode):
                seen: set[str] = set()
                for key, value in node.value:
                    if key.value in seen:
                        mark = key.start_mark
                        problems.append(
                            FieldError(
                                "duplicate key",
                                pointer=_pointer([*path, key.value]),
                                line=mark.line + 1,
                                column=mark.column + 1,
                            )
                        )
                    seen.add(key.value)
                    walk(value, [*path, key.value])
            elif isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    walk(item, [*path, index])

        if self.root is not None:
            walk(self.root, [])
        return problems


def _schema_message(error: jsonschema.ValidationError) -> str:
    # "is not valid under any of the given schemas" says nothing: show why the literal alternative failed.
    if error.validator == "anyOf" and error.context:
        literal = [e for e in error.context if e.schema_path and e.schema_path[0] != 0]
        if literal:
            return min(literal, key=lambda e: len(e.path)).message + " (or a {{ expression }})"
    return error.message


def parse(source: str) -> dict[str, Any]:
    """Validate a YAML definition; the JSON document to store, or Invalid listing every problem."""
    try:
        document = yaml.load(source, Loader=_Loader)
        locator = _Locator(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        message = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise definition_invalid([FieldError(message, pointer="", line=line, column=column)]) from None
    if not isinstance(document, dict):
        raise definition_invalid(
            [FieldError("a workflow definition is a YAML mapping (name, inputs, steps, outputs)", pointer="")]
        )
    problems = locator.duplicate_keys()
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    problems += [locator.problem(list(error.absolute_path), _schema_message(error)) for error in errors]
    try:
        problems += [locator.problem(path, message) for path, message in _sense(document)]
    except (KeyError, TypeError, AttributeError, ValueError):
        # Checking sense assumes the shape the schema describes; with schema errors, they are the report.
        if not problems:
            raise
    if problems:
        raise definition_invalid(problems)
    return document


def _sense(document: dict[str, Any]) -> list[tuple[list[str | int], str]]:
    """What a schema cannot say: unique step ids, defaults that fit, expressions that parse and refer to
    declared inputs and earlier steps, patterns that compile."""
    problems: list[tuple[list[str | int], str]] = []
    inputs = document.get("inputs", {})
    for name, spec in inputs.items():
        if "default" not in spec:
            continue
        if spec.get("required"):
            problems.append((["inputs", name, "default"], "a required input has no use for a default"))
            continue
        message = check_value(Input(name=name, **spec), spec["default"])
        if message:
            problems.append((["inputs", name, "default"], message))
    known_steps: list[str] = []
    for index, step in enumerate(document["steps"]):
        path: list[str | int] = ["steps", index]
        if step["id"] in known_steps:
            problems.append(([*path, "id"], f"step id '{step['id']}' is already used by an earlier step"))
        problems += _check_values(step.get("with", {}), [*path, "with"], set(inputs), list(known_steps))
        problems += _check_patterns(step, path)
        known_steps.append(step["id"])
    problems += _check_values(document.get("outputs", {}), ["outputs"], set(inputs), known_steps)
    return problems


def _check_values(
    value: Any, path: list[str | int], inputs: set[str], steps: list[str]
) -> list[tuple[list[str | int], str]]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _check_values(item, [*path, key], inputs, steps)]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _check_values(item, [*path, index], inputs, steps)]
    if isinstance(value, str) and expressions.is_expression(value):
        message = expressions.check(value, inputs=inputs, steps=steps)
        return [(path, message)] if message else []
    return []


def _check_patterns(step: dict[str, Any], path: list[str | int]) -> list[tuple[list[str | int], str]]:
    arguments = step.get("with", {})
    found: list[tuple[list[str | int], str]] = []
    candidates: list[tuple[list[str | int], Any]] = []
    if step["action"] == "extract_fields" and isinstance(arguments.get("fields"), dict):
        candidates += [([*path, "with", "fields", name], p) for name, p in arguments["fields"].items()]
    for key in ("required_patterns", "forbidden_patterns"):
        if step["action"] == "check_rules" and isinstance(arguments.get(key), list):
            candidates += [
                ([*path, "with", key, i, "pattern"], rule["pattern"]) for i, rule in enumerate(arguments[key])
            ]
    for where, pattern in candidates:
        if isinstance(pattern, str) and not expressions.is_expression(pattern):
            message = pattern_problem(pattern)
            if message:
                found.append((where, message))
    return found


def pattern_problem(pattern: str) -> str | None:
    try:
        regex.compile(pattern)
    except regex.error as exc:
        return f"not a valid regular expression: {exc}"
    return None
