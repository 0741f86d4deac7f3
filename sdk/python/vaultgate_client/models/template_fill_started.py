from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.template_fill_started_status import TemplateFillStartedStatus

T = TypeVar("T", bound="TemplateFillStarted")


@_attrs_define
class TemplateFillStarted:
    """
    Attributes:
        job_id (UUID): The fill's id; poll the `Location` (`templates.get_fill_status`) with it.
        status (TemplateFillStartedStatus): Always `pending`: the fill is queued.
    """

    job_id: UUID
    status: TemplateFillStartedStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        job_id = str(self.job_id)

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_id": job_id,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        job_id = UUID(d.pop("job_id"))

        status = TemplateFillStartedStatus(d.pop("status"))

        template_fill_started = cls(
            job_id=job_id,
            status=status,
        )

        template_fill_started.additional_properties = d
        return template_fill_started

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
