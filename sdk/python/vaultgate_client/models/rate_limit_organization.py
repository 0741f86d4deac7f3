from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RateLimitOrganization")


@_attrs_define
class RateLimitOrganization:
    """The organization's bucket in this mode, drawn from by every key of the organization; same capacity and refill rate.
    A call is served only when both buckets hold its cost.

        Attributes:
            remaining (int): Tokens left now.
            reset_seconds (int): Seconds until the bucket is full again.
    """

    remaining: int
    reset_seconds: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        remaining = self.remaining

        reset_seconds = self.reset_seconds

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "remaining": remaining,
                "reset_seconds": reset_seconds,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        remaining = d.pop("remaining")

        reset_seconds = d.pop("reset_seconds")

        rate_limit_organization = cls(
            remaining=remaining,
            reset_seconds=reset_seconds,
        )

        rate_limit_organization.additional_properties = d
        return rate_limit_organization

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
