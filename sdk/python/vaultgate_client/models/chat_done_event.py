from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.chat_done_event_answerer import ChatDoneEventAnswerer

T = TypeVar("T", bound="ChatDoneEvent")


@_attrs_define
class ChatDoneEvent:
    """
    Attributes:
        answered (bool): Whether the documents in scope answer the question, as in `chat.ask`.
        citations (int): How many `citation` events were sent.
        answerer (ChatDoneEventAnswerer): What wrote the answer, as in `chat.ask`.
        fallback (bool): The configured generator failed or timed out, so the answer is the extractive one.
    """

    answered: bool
    citations: int
    answerer: ChatDoneEventAnswerer
    fallback: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        answered = self.answered

        citations = self.citations

        answerer = self.answerer.value

        fallback = self.fallback

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "answered": answered,
                "citations": citations,
                "answerer": answerer,
                "fallback": fallback,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        answered = d.pop("answered")

        citations = d.pop("citations")

        answerer = ChatDoneEventAnswerer(d.pop("answerer"))

        fallback = d.pop("fallback")

        chat_done_event = cls(
            answered=answered,
            citations=citations,
            answerer=answerer,
            fallback=fallback,
        )

        chat_done_event.additional_properties = d
        return chat_done_event

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
