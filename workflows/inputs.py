"""A workflow's declared inputs, and checking the values a run is given against them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.failures import FieldError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_MAX_ITEMS = 100


@dataclass(frozen=True)
class Input:
    name: str
    type: str
    required: bool = False
    description: str | None = None
    default: Any = None
    values: list[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    max_items: int | None = None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_range(spec: Input, value: float) -> str | None:
    if spec.minimum is not None and value < spec.minimum:
        return f"must be at least {spec.minimum:g}"
    if spec.maximum is not None and value > spec.maximum:
        return f"must be at most {spec.maximum:g}"
    return None


def _check_document_ids(spec: Input, value: Any) -> str | None:
    limit = spec.max_items or DEFAULT_MAX_ITEMS
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of document ids"
    if len(value) > limit:
        return f"must hold at most {limit} document ids"
    for item in value:
        try:
            uuid.UUID(item)
        except (TypeError, ValueError, AttributeError):
            return f"{item!r} is not a document id (a UUID)"
    if len(set(value)) != len(value):
        return "must not repeat a document id"
    return None


def check_value(spec: Input, value: Any) -> str | None:
    """Why `value` does not fit the input, or None if it does."""
    match spec.type:
        case "string":
            if not isinstance(value, str):
                return "must be a string"
            if spec.min_length is not None and len(value) < spec.min_length:
                return f"must be at least {spec.min_length} characters long"
            if spec.max_length is not None and len(value) > spec.max_length:
                return f"must be at most {spec.max_length} characters long"
            return None
        case "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                return "must be an integer"
            return _check_range(spec, value)
        case "number":
            return _check_range(spec, value) if _is_number(value) else "must be a number"
        case "boolean":
            return None if isinstance(value, bool) else "must be true or false"
        case "date":
            if not isinstance(value, str) or not _DATE.match(value):
                return "must be a date written YYYY-MM-DD"
            try:
                date.fromisoformat(value)
            except ValueError:
                return f"{value!r} is not a date in the calendar"
            return None
        case "enum":
            values = spec.values or []
            return None if value in values else "must be one of: " + ", ".join(values)
        case "document_ids":
            return _check_document_ids(spec, value)
    return f"has an unknown type {spec.type!r}"


def resolve(declared: list[Input], given: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The run's input values (defaults filled in), and every way `given` breaks the declaration."""
    by_name = {spec.name: spec for spec in declared}
    errors = [
        FieldError(
            "is not an input of this workflow"
            + (f" (it takes: {', '.join(by_name)})" if by_name else " (it takes none)"),
            pointer=f"/inputs/{name}",
        )
        for name in given
        if name not in by_name
    ]
    values: dict[str, Any] = {}
    for spec in declared:
        pointer = f"/inputs/{spec.name}"
        if spec.name not in given:
            if spec.required:
                errors.append(FieldError("is required", pointer=pointer))
            else:
                values[spec.name] = spec.default
            continue
        message = check_value(spec, given[spec.name])
        if message:
            errors.append(FieldError(message, pointer=pointer))
        else:
            values[spec.name] = given[spec.name]
    return values, errors
