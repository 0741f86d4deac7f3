from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.chat_answer_answerer import ChatAnswerAnswerer

if TYPE_CHECKING:
    from ..models.chat_citation import ChatCitation


T = TypeVar("T", bound="ChatAnswer")


@_attrs_define
class ChatAnswer:
    """
    Attributes:
        answer (str): The answer; `[n]` cites `citations[n-1]`.
        citations (list[ChatCitation]): The sources the answer cites, in citation-number order (`[n]` is
            `citations[n-1]`); empty when not `answered`.
        answered (bool): Whether the documents in scope answer the question (`false`, with no citations, when they do
            not).
        answerer (ChatAnswerAnswerer): What wrote the answer.
        fallback (bool): The configured generator failed or timed out, so the answer is the extractive one.
    """

    answer: str
    citations: list[ChatCitation]
    answered: bool
    answerer: ChatAnswerAnswerer
    fallback: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        answer = self.answer

        citations = []
        for citations_item_data in self.citations:
            citations_item = citations_item_data.to_dict()
            citations.append(citations_item)

        answered = self.answered

        answerer = self.answerer.value

        fallback = self.fallback

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "answer": answer,
                "citations": citations,
                "answered": answered,
                "answerer": answerer,
                "fallback": fallback,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.chat_citation import ChatCitation

        d = dict(src_dict)
        answer = d.pop("answer")

        citations = []
        _citations = d.pop("citations")
        for citations_item_data in _citations:
            citations_item = ChatCitation.from_dict(citations_item_data)

            citations.append(citations_item)

        answered = d.pop("answered")

        answerer = ChatAnswerAnswerer(d.pop("answerer"))

        fallback = d.pop("fallback")

        chat_answer = cls(
            answer=answer,
            citations=citations,
            answered=answered,
            answerer=answerer,
            fallback=fallback,
        )

        chat_answer.additional_properties = d
        return chat_answer

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
