"""The Jinja every template language here starts from: the immutable sandbox, over plain data.

Workflow expressions and DOCX templates both evaluate user-written Jinja over
JSON-like data; this is the one environment class they share.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment


class DataEnvironment(ImmutableSandboxedEnvironment):
    """The context is JSON data: `steps.review.items` is the key `items`, never the dict method of that name."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping):
            if attribute in obj:
                return obj[attribute]
            if attribute.startswith("_"):
                return self.unsafe_undefined(obj, attribute)
            return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)
