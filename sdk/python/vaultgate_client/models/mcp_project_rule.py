from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.list_mode import ListMode

T = TypeVar("T", bound="McpProjectRule")


@_attrs_define
class McpProjectRule:
    """Which projects the server reaches: an allowlist or a blocklist of project ids.

    Attributes:
        mode (ListMode): `allowlist`: only the listed ids; `blocklist`: everything but them.
        ids (list[UUID]): Projects of the organization in the caller's mode. Example:
            ['0c6f2f7e-5b1a-4d8e-9f3c-2a1b4c5d6e7f'].
    """

    mode: ListMode
    ids: list[UUID]

    def to_dict(self) -> dict[str, Any]:
        mode = self.mode.value

        ids = []
        for ids_item_data in self.ids:
            ids_item = str(ids_item_data)
            ids.append(ids_item)

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

        ids = []
        _ids = d.pop("ids")
        for ids_item_data in _ids:
            ids_item = UUID(ids_item_data)

            ids.append(ids_item)

        mcp_project_rule = cls(
            mode=mode,
            ids=ids,
        )

        return mcp_project_rule
