from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ApiKeyRotate")


@_attrs_define
class ApiKeyRotate:
    """
    Attributes:
        grace_period_seconds (int | Unset): How long the old key keeps working (at least a minute, at most 30 days).
            Default: 86400.
    """

    grace_period_seconds: int | Unset = 86400

    def to_dict(self) -> dict[str, Any]:
        grace_period_seconds = self.grace_period_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if grace_period_seconds is not UNSET:
            field_dict["grace_period_seconds"] = grace_period_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        grace_period_seconds = d.pop("grace_period_seconds", UNSET)

        api_key_rotate = cls(
            grace_period_seconds=grace_period_seconds,
        )

        return api_key_rotate
