from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_status import JobStatus

T = TypeVar("T", bound="TemplateFill")


@_attrs_define
class TemplateFill:
    """
    Attributes:
        job_id (UUID): The fill's id, used in `/templates/fill/{job_id}`.
        status (JobStatus): `pending` (queued, not yet claimed by a worker) → `running` → one of
            the terminal states `completed`, `failed` (see `error_message`) or
            `cancelled` (by the caller or by a timeout).
        progress (int): How far the fill has got, in percent.
        progress_stage (None | str): What the fill is doing, for people; `done` once completed.
        created_at (datetime.datetime): When the fill was requested.
        started_at (datetime.datetime | None): When a worker started the fill; null while it is `pending`.
        completed_at (datetime.datetime | None): When the fill reached its terminal state.
        filled_document_id (None | UUID): The filled DOCX, a document in the vault owned by the caller; set once
            `completed`.
        filled_download_url (None | str): A link to the filled DOCX valid for one hour, signed afresh on
            every call once `completed`. The filled document is vault content,
            so the link is null for a key without `vault:read`.
        error_code (None | str): Why the fill failed or was cancelled, stable:
            `template_syntax_error`, `template_undefined` (both name the part
            and paragraph), `template_forbidden` (the sandbox refused an
            expression), `template_error`, `template_unreadable`,
            `table_fill_failed`, `render_timeout`, `render_resource_limit`,
            `unsafe_document`, `scope_too_large` (over 500 documents),
            `vault_call_limit`, `file_missing` (the stored template is gone),
            `project_not_found`, `document_not_found` (deleted while the fill
            waited), `cancelled`, `worker_lost`, `internal_error`.
        error_message (None | str): For people, when the fill `failed` or was `cancelled`; names where in the template.
    """

    job_id: UUID
    status: JobStatus
    progress: int
    progress_stage: None | str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    filled_document_id: None | UUID
    filled_download_url: None | str
    error_code: None | str
    error_message: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        job_id = str(self.job_id)

        status = self.status.value

        progress = self.progress

        progress_stage: None | str
        progress_stage = self.progress_stage

        created_at = self.created_at.isoformat()

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        completed_at: None | str
        if isinstance(self.completed_at, datetime.datetime):
            completed_at = self.completed_at.isoformat()
        else:
            completed_at = self.completed_at

        filled_document_id: None | str
        if isinstance(self.filled_document_id, UUID):
            filled_document_id = str(self.filled_document_id)
        else:
            filled_document_id = self.filled_document_id

        filled_download_url: None | str
        filled_download_url = self.filled_download_url

        error_code: None | str
        error_code = self.error_code

        error_message: None | str
        error_message = self.error_message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_id": job_id,
                "status": status,
                "progress": progress,
                "progress_stage": progress_stage,
                "created_at": created_at,
                "started_at": started_at,
                "completed_at": completed_at,
                "filled_document_id": filled_document_id,
                "filled_download_url": filled_download_url,
                "error_code": error_code,
                "error_message": error_message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        job_id = UUID(d.pop("job_id"))

        status = JobStatus(d.pop("status"))

        progress = d.pop("progress")

        def _parse_progress_stage(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        progress_stage = _parse_progress_stage(d.pop("progress_stage"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        def _parse_completed_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                completed_at_type_0 = datetime.datetime.fromisoformat(data)

                return completed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        completed_at = _parse_completed_at(d.pop("completed_at"))

        def _parse_filled_document_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                filled_document_id_type_0 = UUID(data)

                return filled_document_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        filled_document_id = _parse_filled_document_id(d.pop("filled_document_id"))

        def _parse_filled_download_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        filled_download_url = _parse_filled_download_url(d.pop("filled_download_url"))

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

        template_fill = cls(
            job_id=job_id,
            status=status,
            progress=progress,
            progress_stage=progress_stage,
            created_at=created_at,
            started_at=started_at,
            completed_at=completed_at,
            filled_document_id=filled_document_id,
            filled_download_url=filled_download_url,
            error_code=error_code,
            error_message=error_message,
        )

        template_fill.additional_properties = d
        return template_fill

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
