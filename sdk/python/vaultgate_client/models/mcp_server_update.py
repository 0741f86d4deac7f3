from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.mcp_server_restrictions import McpServerRestrictions


T = TypeVar("T", bound="McpServerUpdate")


@_attrs_define
class McpServerUpdate:
    """
    Attributes:
        name (str | Unset): The new name, unique among the organization's servers in this mode (409 otherwise); left
            out, unchanged.
        description (str | Unset): The new description; left out, unchanged.
        restrictions (McpServerRestrictions | Unset): What the server reaches: `capabilities` (operations, as MCP tools)
            and `projects` (objects outside the admitted projects are not found;
            under an allowlist, objects in no project are outside it too). A rule
            left out admits everything.

            Work derived from the vault — workflow runs, template fills and the
            documents fills produce — is visible through a restricted server only
            when it was started under the same restrictions (a run started over
            REST, or through a server restricted otherwise, may hold text from
            anywhere its starter could read: it is `not_found` here). Changing a
            server's restrictions therefore hides the work started before. A
            workflow run started here needs every step's operation admitted
            (`search` → `vault.search`, `select_documents` → `vault.list_documents`,
            steps reading text → `vault.get_document_text`, `fill_template` →
            `templates.start_fill`), else 403 `forbidden` naming the step.
    """

    name: str | Unset = UNSET
    description: str | Unset = UNSET
    restrictions: McpServerRestrictions | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        description = self.description

        restrictions: dict[str, Any] | Unset = UNSET
        if not isinstance(self.restrictions, Unset):
            restrictions = self.restrictions.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if description is not UNSET:
            field_dict["description"] = description
        if restrictions is not UNSET:
            field_dict["restrictions"] = restrictions

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.mcp_server_restrictions import McpServerRestrictions

        d = dict(src_dict)
        name = d.pop("name", UNSET)

        description = d.pop("description", UNSET)

        _restrictions = d.pop("restrictions", UNSET)
        restrictions: McpServerRestrictions | Unset
        if isinstance(_restrictions, Unset):
            restrictions = UNSET
        else:
            restrictions = McpServerRestrictions.from_dict(_restrictions)

        mcp_server_update = cls(
            name=name,
            description=description,
            restrictions=restrictions,
        )

        return mcp_server_update
