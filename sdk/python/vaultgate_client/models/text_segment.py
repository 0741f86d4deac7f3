from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.location import Location


T = TypeVar("T", bound="TextSegment")


@_attrs_define
class TextSegment:
    """
    Attributes:
        location (Location): Where in the document a passage is; pages for PDF, paragraphs otherwise (both from 1).
        start (int): Offset of the segment's first character in `text`.
        end (int): Offset just past its last character.
    """

    location: Location
    start: int
    end: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        location = self.location.to_dict()

        start = self.start

        end = self.end

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "location": location,
                "start": start,
                "end": end,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.location import Location

        d = dict(src_dict)
        location = Location.from_dict(d.pop("location"))

        start = d.pop("start")

        end = d.pop("end")

        text_segment = cls(
            location=location,
            start=start,
            end=end,
        )

        text_segment.additional_properties = d
        return text_segment

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
