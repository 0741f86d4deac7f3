from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.tier import Tier

T = TypeVar("T", bound="PrincipalOrganization")


@_attrs_define
class PrincipalOrganization:
    """The organization the credentials belong to; everything the caller sees is this organization's.

    Attributes:
        id (UUID): The organization's id.
        name (str): The organization's name, as an operator set it (`vaultgate orgs create`).
        tier (Tier): The organization's plan, set by an operator; it sizes the rate-limit buckets (see
            `meta.rate_limit`).
    """

    id: UUID
    name: str
    tier: Tier
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        tier = self.tier.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "tier": tier,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        tier = Tier(d.pop("tier"))

        principal_organization = cls(
            id=id,
            name=name,
            tier=tier,
        )

        principal_organization.additional_properties = d
        return principal_organization

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
