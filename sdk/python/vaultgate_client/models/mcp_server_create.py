from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.mcp_server_restrictions import McpServerRestrictions


T = TypeVar("T", bound="McpServerCreate")


@_attrs_define
class McpServerCreate:
    """
    Attributes:
        name (str): Unique among the organization's servers in this mode; surrounding spaces are dropped.
        description (str | Unset): What the server is for, for people. Default: ''.
        token_expires_in_days (int | Unset): Days the token works, at most; never past the calling key's own expiry.
            Default: 30.
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

    name: str
    description: str | Unset = ""
    token_expires_in_days: int | Unset = 30
    restrictions: McpServerRestrictions | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        description = self.description

        token_expires_in_days = self.token_expires_in_days

        restrictions: dict[str, Any] | Unset = UNSET
        if not isinstance(self.restrictions, Unset):
            restrictions = self.restrictions.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if token_expires_in_days is not UNSET:
            field_dict["token_expires_in_days"] = token_expires_in_days
        if restrictions is not UNSET:
            field_dict["restrictions"] = restrictions

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.mcp_server_restrictions import McpServerRestrictions

        d = dict(src_dict)
        name = d.pop("name")

        description = d.pop("description", UNSET)

        token_expires_in_days = d.pop("token_expires_in_days", UNSET)

        _restrictions = d.pop("restrictions", UNSET)
        restrictions: McpServerRestrictions | Unset
        if isinstance(_restrictions, Unset):
            restrictions = UNSET
        else:
            restrictions = McpServerRestrictions.from_dict(_restrictions)

        mcp_server_create = cls(
            name=name,
            description=description,
            token_expires_in_days=token_expires_in_days,
            restrictions=restrictions,
        )

        return mcp_server_create
