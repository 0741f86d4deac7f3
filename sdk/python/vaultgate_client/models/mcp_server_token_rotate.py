from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="McpServerTokenRotate")


@_attrs_define
class McpServerTokenRotate:
    """
    Attributes:
        token_expires_in_days (int | Unset): Days the new token works, at most; never past the calling key's own expiry.
            Default: 30.
    """

    token_expires_in_days: int | Unset = 30

    def to_dict(self) -> dict[str, Any]:
        token_expires_in_days = self.token_expires_in_days

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if token_expires_in_days is not UNSET:
            field_dict["token_expires_in_days"] = token_expires_in_days

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        token_expires_in_days = d.pop("token_expires_in_days", UNSET)

        mcp_server_token_rotate = cls(
            token_expires_in_days=token_expires_in_days,
        )

        return mcp_server_token_rotate
