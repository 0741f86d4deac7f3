from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.text_segment import TextSegment


T = TypeVar("T", bound="DocumentText")


@_attrs_define
class DocumentText:
    """
    Attributes:
        document_id (UUID): The document the text is from.
        text (str): The whole extracted text; `segments` place its characters on pages or paragraphs.
        segments (list[TextSegment]): Where each page or paragraph lies in `text`, in document order.
    """

    document_id: UUID
    text: str
    segments: list[TextSegment]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        document_id = str(self.document_id)

        text = self.text

        segments = []
        for segments_item_data in self.segments:
            segments_item = segments_item_data.to_dict()
            segments.append(segments_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "document_id": document_id,
                "text": text,
                "segments": segments,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.text_segment import TextSegment

        d = dict(src_dict)
        document_id = UUID(d.pop("document_id"))

        text = d.pop("text")

        segments = []
        _segments = d.pop("segments")
        for segments_item_data in _segments:
            segments_item = TextSegment.from_dict(segments_item_data)

            segments.append(segments_item)

        document_text = cls(
            document_id=document_id,
            text=text,
            segments=segments,
        )

        document_text.additional_properties = d
        return document_text

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
