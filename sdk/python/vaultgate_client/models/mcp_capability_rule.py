from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.list_mode import ListMode

T = TypeVar("T", bound="McpCapabilityRule")


@_attrs_define
class McpCapabilityRule:
    """Which operations the server offers as MCP tools: an allowlist or a blocklist of operationIds.

    Attributes:
        mode (ListMode): `allowlist`: only the listed ids; `blocklist`: everything but them.
        ids (list[str]): operationIds of operations MCP exposes (not `x-mcp: false` ones). Example: ['vault.search',
            'vault.get_document_text'].
    """

    mode: ListMode
    ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        mode = self.mode.value

        ids = self.ids

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "mode": mode,
                "ids": ids,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        mode = ListMode(d.pop("mode"))

        ids = cast(list[str], d.pop("ids"))

        mcp_capability_rule = cls(
            mode=mode,
            ids=ids,
        )

        return mcp_capability_rule
