from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.tier import Tier

if TYPE_CHECKING:
    from ..models.rate_limit_organization import RateLimitOrganization


T = TypeVar("T", bound="RateLimit")


@_attrs_define
class RateLimit:
    """
    Attributes:
        tier (Tier): The organization's plan, set by an operator; it sizes the rate-limit buckets (see
            `meta.rate_limit`).
        capacity (int): Tokens the bucket holds when full.
        remaining (int): Tokens left now.
        refill_per_second (float): Tokens added back each second, up to the capacity.
        reset_seconds (int): Seconds until the bucket is full again.
        shared (bool): Whether every gateway process shares these buckets (Redis) or they are this process's own (no
            Redis configured, or Redis unreachable).
        organization (RateLimitOrganization): The organization's bucket in this mode, drawn from by every key of the
            organization; same capacity and refill rate. A call is served only when both buckets hold its cost.
    """

    tier: Tier
    capacity: int
    remaining: int
    refill_per_second: float
    reset_seconds: int
    shared: bool
    organization: RateLimitOrganization
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        tier = self.tier.value

        capacity = self.capacity

        remaining = self.remaining

        refill_per_second = self.refill_per_second

        reset_seconds = self.reset_seconds

        shared = self.shared

        organization = self.organization.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "tier": tier,
                "capacity": capacity,
                "remaining": remaining,
                "refill_per_second": refill_per_second,
                "reset_seconds": reset_seconds,
                "shared": shared,
                "organization": organization,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.rate_limit_organization import RateLimitOrganization

        d = dict(src_dict)
        tier = Tier(d.pop("tier"))

        capacity = d.pop("capacity")

        remaining = d.pop("remaining")

        refill_per_second = d.pop("refill_per_second")

        reset_seconds = d.pop("reset_seconds")

        shared = d.pop("shared")

        organization = RateLimitOrganization.from_dict(d.pop("organization"))

        rate_limit = cls(
            tier=tier,
            capacity=capacity,
            remaining=remaining,
            refill_per_second=refill_per_second,
            reset_seconds=reset_seconds,
            shared=shared,
            organization=organization,
        )

        rate_limit.additional_properties = d
        return rate_limit

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
