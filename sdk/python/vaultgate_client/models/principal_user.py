from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.principal_user_role import PrincipalUserRole

T = TypeVar("T", bound="PrincipalUser")


@_attrs_define
class PrincipalUser:
    """The user the credentials act for: the key's owner, the user who approved the OAuth app, or a managed server's
    creator.

        Attributes:
            id (UUID): The user's id, as API keys and MCP servers name it in `user_id`.
            email (str): The address the user signs in with (on the OAuth consent page).
            name (str): The user's name, for display.
            role (PrincipalUserRole): `admin` manages every key and MCP server of the organization and holds every
                permission; `member` manages only their own.
            permissions (list[str]): Optional abilities the organization gives this user (e.g. `template_fill`, which
                `templates.start_fill` needs); an `admin` holds them all, listed or not.
    """

    id: UUID
    email: str
    name: str
    role: PrincipalUserRole
    permissions: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        email = self.email

        name = self.name

        role = self.role.value

        permissions = self.permissions

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "email": email,
                "name": name,
                "role": role,
                "permissions": permissions,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        email = d.pop("email")

        name = d.pop("name")

        role = PrincipalUserRole(d.pop("role"))

        permissions = cast(list[str], d.pop("permissions"))

        principal_user = cls(
            id=id,
            email=email,
            name=name,
            role=role,
            permissions=permissions,
        )

        principal_user.additional_properties = d
        return principal_user

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
