from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.chat_progress_event_stage import ChatProgressEventStage
from ..types import UNSET, Unset

T = TypeVar("T", bound="ChatProgressEvent")


@_attrs_define
class ChatProgressEvent:
    """
    Attributes:
        stage (ChatProgressEventStage): `retrieving` at once, then `answering` once the passages are found.
        passages (int | Unset): How many passages were retrieved (on `answering`).
    """

    stage: ChatProgressEventStage
    passages: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        stage = self.stage.value

        passages = self.passages

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "stage": stage,
            }
        )
        if passages is not UNSET:
            field_dict["passages"] = passages

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        stage = ChatProgressEventStage(d.pop("stage"))

        passages = d.pop("passages", UNSET)

        chat_progress_event = cls(
            stage=stage,
            passages=passages,
        )

        chat_progress_event.additional_properties = d
        return chat_progress_event

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
