"""Fields a document states about itself as `Label: value` lines, e.g. `Project: Riverside Tower.`"""

from __future__ import annotations

import re

# A short label at the start of a line, a colon, then the value up to the end of its sentence or line.
_FIELD = re.compile(r"^[ \t]*([A-Za-z][A-Za-z0-9 /&()-]{0,39}?)[ \t]*:[ \t]+(.+?)(?:\.(?=\s|$)|$)", re.MULTILINE)
_SEPARATORS = re.compile(r"[^a-z0-9]+")
_MAX_FIELDS = 100


def field_name(label: str) -> str:
    """`Submitted By` → `submitted_by`: a name a template can write as `d.fields.submitted_by`."""
    return _SEPARATORS.sub("_", label.lower()).strip("_")


def extract_fields(text: str) -> dict[str, str]:
    """The first value of each label in `text`, in the order they appear."""
    fields: dict[str, str] = {}
    for match in _FIELD.finditer(text):
        name = field_name(match.group(1))
        value = " ".join(match.group(2).split())
        if name and value and name not in fields:
            fields[name] = value
            if len(fields) == _MAX_FIELDS:
                break
    return fields
