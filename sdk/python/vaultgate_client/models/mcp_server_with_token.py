from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.mcp_server_restrictions import McpServerRestrictions


T = TypeVar("T", bound="McpServerWithToken")


@_attrs_define
class McpServerWithToken:
    """
    Attributes:
        id (UUID): The server's id, used in `/mcp-servers/{server_id}` and in its `url`.
        name (str): Unique among the organization's servers in this mode.
        description (str): What the server is for, for people; empty when none was given.
        url (str): The server's MCP endpoint, for a client sending `Authorization: Bearer <API key>`.
        restrictions (McpServerRestrictions): What the server reaches: `capabilities` (operations, as MCP tools)
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
        has_restrictions (bool): Whether `restrictions` holds any rule.
        user_id (UUID): The owner, the user the token acts as.
        token_prefix (str): The token's first 12 characters, safe to display.
        token_expires_at (datetime.datetime): When the access token stops working. Never later than the key that issued
            it; moved earlier when that key is rotated (to the end of its grace period) or revoked (to the revocation).
        created_at (datetime.datetime): When the server was created.
        updated_at (datetime.datetime): When the server was last changed.
        access_token (str): The server's token. Shown only in this response; store it now.
        access_url (str): `url` with the token appended, for clients that cannot set headers. Keep it as secret as the
            token.
    """

    id: UUID
    name: str
    description: str
    url: str
    restrictions: McpServerRestrictions
    has_restrictions: bool
    user_id: UUID
    token_prefix: str
    token_expires_at: datetime.datetime
    created_at: datetime.datetime
    updated_at: datetime.datetime
    access_token: str
    access_url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        description = self.description

        url = self.url

        restrictions = self.restrictions.to_dict()

        has_restrictions = self.has_restrictions

        user_id = str(self.user_id)

        token_prefix = self.token_prefix

        token_expires_at = self.token_expires_at.isoformat()

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        access_token = self.access_token

        access_url = self.access_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "description": description,
                "url": url,
                "restrictions": restrictions,
                "has_restrictions": has_restrictions,
                "user_id": user_id,
                "token_prefix": token_prefix,
                "token_expires_at": token_expires_at,
                "created_at": created_at,
                "updated_at": updated_at,
                "access_token": access_token,
                "access_url": access_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.mcp_server_restrictions import McpServerRestrictions

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        description = d.pop("description")

        url = d.pop("url")

        restrictions = McpServerRestrictions.from_dict(d.pop("restrictions"))

        has_restrictions = d.pop("has_restrictions")

        user_id = UUID(d.pop("user_id"))

        token_prefix = d.pop("token_prefix")

        token_expires_at = datetime.datetime.fromisoformat(d.pop("token_expires_at"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        access_token = d.pop("access_token")

        access_url = d.pop("access_url")

        mcp_server_with_token = cls(
            id=id,
            name=name,
            description=description,
            url=url,
            restrictions=restrictions,
            has_restrictions=has_restrictions,
            user_id=user_id,
            token_prefix=token_prefix,
            token_expires_at=token_expires_at,
            created_at=created_at,
            updated_at=updated_at,
            access_token=access_token,
            access_url=access_url,
        )

        mcp_server_with_token.additional_properties = d
        return mcp_server_with_token

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
