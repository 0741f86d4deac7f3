from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.mcp_capability_rule import McpCapabilityRule
    from ..models.mcp_project_rule import McpProjectRule


T = TypeVar("T", bound="McpServerRestrictions")


@_attrs_define
class McpServerRestrictions:
    """What the server reaches: `capabilities` (operations, as MCP tools)
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

        Attributes:
            capabilities (McpCapabilityRule | Unset): Which operations the server offers as MCP tools: an allowlist or a
                blocklist of operationIds.
            projects (McpProjectRule | Unset): Which projects the server reaches: an allowlist or a blocklist of project
                ids.
    """

    capabilities: McpCapabilityRule | Unset = UNSET
    projects: McpProjectRule | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        capabilities: dict[str, Any] | Unset = UNSET
        if not isinstance(self.capabilities, Unset):
            capabilities = self.capabilities.to_dict()

        projects: dict[str, Any] | Unset = UNSET
        if not isinstance(self.projects, Unset):
            projects = self.projects.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if capabilities is not UNSET:
            field_dict["capabilities"] = capabilities
        if projects is not UNSET:
            field_dict["projects"] = projects

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.mcp_capability_rule import McpCapabilityRule
        from ..models.mcp_project_rule import McpProjectRule

        d = dict(src_dict)
        _capabilities = d.pop("capabilities", UNSET)
        capabilities: McpCapabilityRule | Unset
        if isinstance(_capabilities, Unset):
            capabilities = UNSET
        else:
            capabilities = McpCapabilityRule.from_dict(_capabilities)

        _projects = d.pop("projects", UNSET)
        projects: McpProjectRule | Unset
        if isinstance(_projects, Unset):
            projects = UNSET
        else:
            projects = McpProjectRule.from_dict(_projects)

        mcp_server_restrictions = cls(
            capabilities=capabilities,
            projects=projects,
        )

        return mcp_server_restrictions
