from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from .. import types
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="TemplateFillUpload")


@_attrs_define
class TemplateFillUpload:
    """
    Attributes:
        file (File): The DOCX template (at most 25 MiB; the document body at most 5 MB unpacked).
        project_id (UUID | Unset): Source from this project only.
        document_ids (str | Unset): Source from these documents only: up to 100 comma-separated UUIDs
            (with `project_id`, the documents must be in it). An entry that is
            not a UUID is a 422 pointing at `/document_ids`.
             Example: 6e1d7c2a-3b4f-4a5e-8d9c-0b1a2c3d4e5f,8a2b3c4d-5e6f-4a7b-9c8d-1e2f3a4b5c6d.
    """

    file: File
    project_id: UUID | Unset = UNSET
    document_ids: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()

        project_id: str | Unset = UNSET
        if not isinstance(self.project_id, Unset):
            project_id = str(self.project_id)

        document_ids = self.document_ids

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "file": file,
            }
        )
        if project_id is not UNSET:
            field_dict["project_id"] = project_id
        if document_ids is not UNSET:
            field_dict["document_ids"] = document_ids

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))

        if not isinstance(self.project_id, Unset):
            files.append(("project_id", (None, str(self.project_id), "text/plain")))

        if not isinstance(self.document_ids, Unset):
            files.append(("document_ids", (None, str(self.document_ids).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        file = File(payload=BytesIO(d.pop("file")))

        _project_id = d.pop("project_id", UNSET)
        project_id: UUID | Unset
        if isinstance(_project_id, Unset):
            project_id = UNSET
        else:
            project_id = UUID(_project_id)

        document_ids = d.pop("document_ids", UNSET)

        template_fill_upload = cls(
            file=file,
            project_id=project_id,
            document_ids=document_ids,
        )

        return template_fill_upload
