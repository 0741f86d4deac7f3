from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.location import Location


T = TypeVar("T", bound="ChatCitation")


@_attrs_define
class ChatCitation:
    """
    Attributes:
        document_id (UUID): The cited document.
        title (str): The cited document's title.
        location (Location): Where in the document a passage is; pages for PDF, paragraphs otherwise (both from 1).
        snippet (str): The cited text, word for word from the document.
    """

    document_id: UUID
    title: str
    location: Location
    snippet: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        document_id = str(self.document_id)

        title = self.title

        location = self.location.to_dict()

        snippet = self.snippet

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "document_id": document_id,
                "title": title,
                "location": location,
                "snippet": snippet,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.location import Location

        d = dict(src_dict)
        document_id = UUID(d.pop("document_id"))

        title = d.pop("title")

        location = Location.from_dict(d.pop("location"))

        snippet = d.pop("snippet")

        chat_citation = cls(
            document_id=document_id,
            title=title,
            location=location,
            snippet=snippet,
        )

        chat_citation.additional_properties = d
        return chat_citation

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
