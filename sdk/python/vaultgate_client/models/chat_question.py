from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ChatQuestion")


@_attrs_define
class ChatQuestion:
    """
    Attributes:
        question (str): The question, in plain words.
        project_id (UUID | Unset): Only documents in this project (404 if it is not the caller's).
        document_ids (list[UUID] | Unset): Only these documents (404 if one is not the caller's).
        max_citations (int | Unset): Most sources the answer may cite. Default: 5.
    """

    question: str
    project_id: UUID | Unset = UNSET
    document_ids: list[UUID] | Unset = UNSET
    max_citations: int | Unset = 5

    def to_dict(self) -> dict[str, Any]:
        question = self.question

        project_id: str | Unset = UNSET
        if not isinstance(self.project_id, Unset):
            project_id = str(self.project_id)

        document_ids: list[str] | Unset = UNSET
        if not isinstance(self.document_ids, Unset):
            document_ids = []
            for document_ids_item_data in self.document_ids:
                document_ids_item = str(document_ids_item_data)
                document_ids.append(document_ids_item)

        max_citations = self.max_citations

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "question": question,
            }
        )
        if project_id is not UNSET:
            field_dict["project_id"] = project_id
        if document_ids is not UNSET:
            field_dict["document_ids"] = document_ids
        if max_citations is not UNSET:
            field_dict["max_citations"] = max_citations

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        question = d.pop("question")

        _project_id = d.pop("project_id", UNSET)
        project_id: UUID | Unset
        if isinstance(_project_id, Unset):
            project_id = UNSET
        else:
            project_id = UUID(_project_id)

        _document_ids = d.pop("document_ids", UNSET)
        document_ids: list[UUID] | Unset = UNSET
        if _document_ids is not UNSET:
            document_ids = []
            for document_ids_item_data in _document_ids:
                document_ids_item = UUID(document_ids_item_data)

                document_ids.append(document_ids_item)

        max_citations = d.pop("max_citations", UNSET)

        chat_question = cls(
            question=question,
            project_id=project_id,
            document_ids=document_ids,
            max_citations=max_citations,
        )

        return chat_question
