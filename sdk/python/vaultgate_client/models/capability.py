from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.capability_method import CapabilityMethod

T = TypeVar("T", bound="Capability")


@_attrs_define
class Capability:
    """
    Attributes:
        name (str): The operationId, also the MCP tool name.
        summary (str): The operation's one-line summary, from the contract.
        method (CapabilityMethod): The operation's HTTP method.
        path (str): The operation's path template, the `/api/v2` base included (e.g.
            `/api/v2/vault/documents/{document_id}`).
        scope (None | str): The scope required; null for operations that need no credentials.
        cost (int): Tokens a call draws from the rate-limit buckets (its `x-cost`); 0 costs nothing.
        mcp (bool): Whether the operation is an MCP tool, named as `name` with `.` written `_` (false for `x-mcp:
            false`).
        deprecated (bool): Whether the operation is deprecated: it then answers with `Deprecation` and `Sunset` headers
            until `sunset`.
        sunset (datetime.date | None): From this day (00:00 UTC) a deprecated operation answers 410 `gone`; null for
            operations that are not deprecated.
    """

    name: str
    summary: str
    method: CapabilityMethod
    path: str
    scope: None | str
    cost: int
    mcp: bool
    deprecated: bool
    sunset: datetime.date | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        summary = self.summary

        method = self.method.value

        path = self.path

        scope: None | str
        scope = self.scope

        cost = self.cost

        mcp = self.mcp

        deprecated = self.deprecated

        sunset: None | str
        if isinstance(self.sunset, datetime.date):
            sunset = self.sunset.isoformat()
        else:
            sunset = self.sunset

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "summary": summary,
                "method": method,
                "path": path,
                "scope": scope,
                "cost": cost,
                "mcp": mcp,
                "deprecated": deprecated,
                "sunset": sunset,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        summary = d.pop("summary")

        method = CapabilityMethod(d.pop("method"))

        path = d.pop("path")

        def _parse_scope(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        scope = _parse_scope(d.pop("scope"))

        cost = d.pop("cost")

        mcp = d.pop("mcp")

        deprecated = d.pop("deprecated")

        def _parse_sunset(data: object) -> datetime.date | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                sunset_type_0 = datetime.date.fromisoformat(data)

                return sunset_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.date | None, data)

        sunset = _parse_sunset(d.pop("sunset"))

        capability = cls(
            name=name,
            summary=summary,
            method=method,
            path=path,
            scope=scope,
            cost=cost,
            mcp=mcp,
            deprecated=deprecated,
            sunset=sunset,
        )

        capability.additional_properties = d
        return capability

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
