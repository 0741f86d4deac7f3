from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from .. import types
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="DocumentUpload")


@_attrs_define
class DocumentUpload:
    """
    Attributes:
        file (File): A PDF, DOCX, TXT or Markdown file (at most 50 MiB).
        project_id (UUID | Unset): The project to file it under.
        metadata (str | Unset): A JSON object of your own fields (at most 32 KiB serialized, nested at most 8 deep).
            Example: {"discipline": "facade", "submitted_by": "Northwall Glazing"}.
    """

    file: File
    project_id: UUID | Unset = UNSET
    metadata: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()

        project_id: str | Unset = UNSET
        if not isinstance(self.project_id, Unset):
            project_id = str(self.project_id)

        metadata = self.metadata

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "file": file,
            }
        )
        if project_id is not UNSET:
            field_dict["project_id"] = project_id
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))

        if not isinstance(self.project_id, Unset):
            files.append(("project_id", (None, str(self.project_id), "text/plain")))

        if not isinstance(self.metadata, Unset):
            files.append(("metadata", (None, str(self.metadata).encode(), "text/plain")))

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

        metadata = d.pop("metadata", UNSET)

        document_upload = cls(
            file=file,
            project_id=project_id,
            metadata=metadata,
        )

        return document_upload
