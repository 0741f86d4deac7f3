from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.document_content_type import DocumentContentType
from ..models.document_status import DocumentStatus

if TYPE_CHECKING:
    from ..models.document_metadata import DocumentMetadata


T = TypeVar("T", bound="Document")


@_attrs_define
class Document:
    """
    Attributes:
        id (UUID): The document's id, as search hits and citations name it in `document_id`.
        project_id (None | UUID): The project it is filed under; null when it was uploaded without one.
        title (str): The document's own title (DOCX/PDF properties, a Markdown heading), else the file name.
        filename (str): The name the file was uploaded with, for display only.
        content_type (DocumentContentType): The type read from the file's content.
        size_bytes (int): The uploaded file's size in bytes.
        sha256 (str): The SHA-256 of the uploaded bytes, lowercase hex: check a download against it, or spot a
            duplicate.
        page_count (int | None): Pages of a PDF; null for other types, and until ingestion finishes.
        metadata (DocumentMetadata): The metadata given at upload.
        status (DocumentStatus): `pending` until a worker picks the ingestion up, `processing` while it
            runs, then `ready` (searchable) or `failed` (see `error_code`).
        progress (int): How far ingestion has got.
        stage (None | str): What ingestion is doing now, for people (e.g. "Extracting text").
        error_code (None | str): Why ingestion failed, stable: `pdf_encrypted`, `pdf_unreadable`,
            `docx_unreadable`, `no_text`, `extraction_limit`, `worker_lost`,
            `internal_error`.
        error_message (None | str): For people, when ingestion `failed`; null otherwise.
        created_at (datetime.datetime): When the document was uploaded.
        updated_at (datetime.datetime): When the document (its ingestion state included) last changed.
    """

    id: UUID
    project_id: None | UUID
    title: str
    filename: str
    content_type: DocumentContentType
    size_bytes: int
    sha256: str
    page_count: int | None
    metadata: DocumentMetadata
    status: DocumentStatus
    progress: int
    stage: None | str
    error_code: None | str
    error_message: None | str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        project_id: None | str
        if isinstance(self.project_id, UUID):
            project_id = str(self.project_id)
        else:
            project_id = self.project_id

        title = self.title

        filename = self.filename

        content_type = self.content_type.value

        size_bytes = self.size_bytes

        sha256 = self.sha256

        page_count: int | None
        page_count = self.page_count

        metadata = self.metadata.to_dict()

        status = self.status.value

        progress = self.progress

        stage: None | str
        stage = self.stage

        error_code: None | str
        error_code = self.error_code

        error_message: None | str
        error_message = self.error_message

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "project_id": project_id,
                "title": title,
                "filename": filename,
                "content_type": content_type,
                "size_bytes": size_bytes,
                "sha256": sha256,
                "page_count": page_count,
                "metadata": metadata,
                "status": status,
                "progress": progress,
                "stage": stage,
                "error_code": error_code,
                "error_message": error_message,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.document_metadata import DocumentMetadata

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        def _parse_project_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                project_id_type_0 = UUID(data)

                return project_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        project_id = _parse_project_id(d.pop("project_id"))

        title = d.pop("title")

        filename = d.pop("filename")

        content_type = DocumentContentType(d.pop("content_type"))

        size_bytes = d.pop("size_bytes")

        sha256 = d.pop("sha256")

        def _parse_page_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        page_count = _parse_page_count(d.pop("page_count"))

        metadata = DocumentMetadata.from_dict(d.pop("metadata"))

        status = DocumentStatus(d.pop("status"))

        progress = d.pop("progress")

        def _parse_stage(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        stage = _parse_stage(d.pop("stage"))

        def _parse_error_code(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error_code = _parse_error_code(d.pop("error_code"))

        def _parse_error_message(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error_message = _parse_error_message(d.pop("error_message"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        document = cls(
            id=id,
            project_id=project_id,
            title=title,
            filename=filename,
            content_type=content_type,
            size_bytes=size_bytes,
            sha256=sha256,
            page_count=page_count,
            metadata=metadata,
            status=status,
            progress=progress,
            stage=stage,
            error_code=error_code,
            error_message=error_message,
            created_at=created_at,
            updated_at=updated_at,
        )

        document.additional_properties = d
        return document

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
