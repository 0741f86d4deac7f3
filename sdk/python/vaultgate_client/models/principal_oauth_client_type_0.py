from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PrincipalOauthClientType0")


@_attrs_define
class PrincipalOauthClientType0:
    """The OAuth client (the app) an access token was issued to; null for any other credentials.

    Attributes:
        client_id (str): The client's id: the one its registration (`POST /oauth/register`)
            answered, or its Client ID Metadata Document's https URL.
             Example: 6d3c1e0b9a7f4c2e8d5b1a0f3e7c9b2d.
        client_name (str): The name the consent page showed (its `client_name`, else its client id). Example: Claude
            Code.
    """

    client_id: str
    client_name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        client_name = self.client_name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "client_id": client_id,
                "client_name": client_name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        client_id = d.pop("client_id")

        client_name = d.pop("client_name")

        principal_oauth_client_type_0 = cls(
            client_id=client_id,
            client_name=client_name,
        )

        principal_oauth_client_type_0.additional_properties = d
        return principal_oauth_client_type_0

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
