"""Expressions in workflow definitions: Jinja, sandboxed, over the run's own data and nothing else.

A string holding `{{ … }}` or `{% … %}` is a template. One that is exactly
`{{ expression }}` evaluates to the expression's value (a list stays a list);
any other renders to a string. Jinja's immutable sandbox refuses private and
internal attributes (`__class__`, `mro`, `func_globals`, …) and methods that
mutate; the names in scope are `inputs`, `project_id` and `steps`. The run
evaluates in a child process bounded in time and memory
(`jobs.sandbox.run_limited`), so even an expression built to loop or
allocate stops, and the worker carries on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.meta import find_undeclared_variables
from jinja2.runtime import Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from core.sandboxed_jinja import DataEnvironment

SCOPE = ("inputs", "project_id", "steps")
_GLOBALS = ("range", "dict")
_MARKERS = ("{{", "{%")
# Exactly one `{{ … }}` and nothing else around it: the value itself, not its text.
_NATIVE = re.compile(r"^\s*\{\{((?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)


class ExpressionError(Exception):
    """An expression failed; `forbidden` when the sandbox refused it."""

    def __init__(self, pointer: str, message: str, forbidden: bool = False) -> None:
        super().__init__(pointer, message, forbidden)
        self.pointer = pointer
        self.message = message
        self.forbidden = forbidden


@cache
def environment() -> ImmutableSandboxedEnvironment:
    env = DataEnvironment(undefined=StrictUndefined, autoescape=False)
    env.globals = {name: env.globals[name] for name in _GLOBALS}
    return env


def is_expression(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


def _parse(text: str) -> nodes.Template:
    native = _NATIVE.match(text)
    return environment().parse("{{ " + native.group(1) + " }}" if native else text)


def _references(tree: nodes.Template, root: str) -> Iterable[str]:
    """The names used right after `root.` or in `root['…']`, as far as they are constants."""
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name == root:
            yield node.attr
    for item in tree.find_all(nodes.Getitem):
        named = isinstance(item.node, nodes.Name) and item.node.name == root
        if named and isinstance(item.arg, nodes.Const) and isinstance(item.arg.value, str):
            yield item.arg.value


def check(text: str, *, inputs: set[str], steps: list[str]) -> str | None:
    """Why `text` cannot be a valid expression here (syntax, unknown names), or None."""
    try:
        tree = _parse(text)
    except TemplateSyntaxError as exc:
        return f"expression syntax error: {exc.message}"
    unknown = sorted(find_undeclared_variables(tree) - set(SCOPE) - set(_GLOBALS))
    if unknown:
        return f"unknown name {unknown[0]!r} (in scope: {', '.join(SCOPE)})"
    for name in _references(tree, "inputs"):
        if name not in inputs:
            return f"inputs.{name} is not a declared input"
    for name in _references(tree, "steps"):
        if name not in steps:
            return f"steps.{name} is not an earlier step" + (f" (earlier: {', '.join(steps)})" if steps else "")
    return None


def _plain(value: Any, pointer: str) -> Any:
    """`value` as JSON data; touching an undefined or refused attribute raises here."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, Markup):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(key): _plain(item, pointer) for key, item in value.items()}
    if isinstance(value, Iterable):
        return [_plain(item, pointer) for item in value]
    raise ExpressionError(pointer, f"produced a {type(value).__name__}, which is not JSON data")


def evaluate(value: Any, context: dict[str, Any], pointer: str) -> Any:
    """Every expression in `value` (a step's `with`, or `outputs`) evaluated in `context`; the rest unchanged.

    Called in a bounded child process (see the module's docstring); `context` and the result are JSON data.
    """
    if isinstance(value, dict):
        return {key: evaluate(item, context, f"{pointer}/{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [evaluate(item, context, f"{pointer}/{index}") for index, item in enumerate(value)]
    if not isinstance(value, str) or not is_expression(value):
        return value
    try:
        native = _NATIVE.match(value)
        if native:
            result = environment().compile_expression(native.group(1), undefined_to_none=False)(**context)
            return _plain(result, pointer)
        return environment().from_string(value).render(**context)
    except SecurityError as exc:
        raise ExpressionError(pointer, f"refused by the sandbox: {exc}", forbidden=True) from None
    except UndefinedError as exc:
        raise ExpressionError(pointer, f"refers to something that does not exist: {exc.message}") from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise ExpressionError(pointer, f"{type(exc).__name__}: {exc}") from None


def evaluate_bounded(value: Any, context: dict[str, Any], pointer: str, max_bytes: int) -> Any:
    """`evaluate`, refusing a result over `max_bytes` of JSON here in the child, before it is sent to the worker."""
    result = evaluate(value, context, pointer)
    size = len(json.dumps(result, separators=(",", ":")).encode())
    if size > max_bytes:
        raise ExpressionError(pointer, f"produced {size} bytes of data; the limit is {max_bytes}")
    return result
