from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.chat_stream_event_event import ChatStreamEventEvent

T = TypeVar("T", bound="ChatStreamEvent")


@_attrs_define
class ChatStreamEvent:
    """One Server-Sent Event of `chat.stream`: `event` names it and `data` is one line of JSON, whose
    schema the operation's `x-sse-events` gives for each name. Keep-alive comments (`: ping`) are not events.

        Attributes:
            event (ChatStreamEventEvent): The event's name; `x-sse-events` gives the schema of its `data`.
            data (str): One line of JSON (`x-sse-events`).
    """

    event: ChatStreamEventEvent
    data: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event = self.event.value

        data = self.data

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "event": event,
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        event = ChatStreamEventEvent(d.pop("event"))

        data = d.pop("data")

        chat_stream_event = cls(
            event=event,
            data=data,
        )

        chat_stream_event.additional_properties = d
        return chat_stream_event

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
