from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_status import JobStatus

if TYPE_CHECKING:
    from ..models.workflow_run_inputs import WorkflowRunInputs
    from ..models.workflow_run_outputs_type_0 import WorkflowRunOutputsType0


T = TypeVar("T", bound="WorkflowRun")


@_attrs_define
class WorkflowRun:
    """
    Attributes:
        run_id (str): A workflow run's id: `run_` and a UUID. Example: run_c1d2e3f4-5a6b-4c7d-8e9f-0a1b2c3d4e5f.
        workflow_id (str): A workflow's id: `wf_` and a UUID. Example: wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        workflow_version (int): The version of the workflow this run runs.
        project_id (None | UUID): The project the run works in; null when it was started without one.
        status (JobStatus): `pending` (queued, not yet claimed by a worker) → `running` → one of
            the terminal states `completed`, `failed` (see `error_message`) or
            `cancelled` (by the caller or by a timeout).
        progress (int): The share of the run's steps done.
        stage (None | str): The running step's name; `done` once completed.
        inputs (WorkflowRunInputs): The inputs the run was given, defaults filled in.
        outputs (None | WorkflowRunOutputsType0): The workflow's `outputs`, once `completed`; null before and
            otherwise. Outputs are vault content (summaries, extracted fields,
            hits), so they are null too for a key without `vault:read`.
        error_code (None | str): Why the run failed or was cancelled, stable: e.g. `cancelled`,
            `timeout`, `expression_error`, `expression_forbidden`,
            `invalid_step_arguments`, `document_not_found`, `project_not_found`,
            `file_not_found` (a step's stored file is gone), `worker_lost`; a
            `fill_template` step fails with a template fill's codes (e.g.
            `table_fill_failed`, `template_syntax_error`) or `template_not_docx`.
        error_message (None | str): For people, when the run `failed` or was `cancelled`.
        started_at (datetime.datetime | None): When a worker started the run; null while it is `pending`.
        completed_at (datetime.datetime | None): When the run reached its terminal state.
        created_at (datetime.datetime): When the run was requested.
    """

    run_id: str
    workflow_id: str
    workflow_version: int
    project_id: None | UUID
    status: JobStatus
    progress: int
    stage: None | str
    inputs: WorkflowRunInputs
    outputs: None | WorkflowRunOutputsType0
    error_code: None | str
    error_message: None | str
    started_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.workflow_run_outputs_type_0 import WorkflowRunOutputsType0

        run_id = self.run_id

        workflow_id = self.workflow_id

        workflow_version = self.workflow_version

        project_id: None | str
        if isinstance(self.project_id, UUID):
            project_id = str(self.project_id)
        else:
            project_id = self.project_id

        status = self.status.value

        progress = self.progress

        stage: None | str
        stage = self.stage

        inputs = self.inputs.to_dict()

        outputs: dict[str, Any] | None
        if isinstance(self.outputs, WorkflowRunOutputsType0):
            outputs = self.outputs.to_dict()
        else:
            outputs = self.outputs

        error_code: None | str
        error_code = self.error_code

        error_message: None | str
        error_message = self.error_message

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

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "run_id": run_id,
                "workflow_id": workflow_id,
                "workflow_version": workflow_version,
                "project_id": project_id,
                "status": status,
                "progress": progress,
                "stage": stage,
                "inputs": inputs,
                "outputs": outputs,
                "error_code": error_code,
                "error_message": error_message,
                "started_at": started_at,
                "completed_at": completed_at,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.workflow_run_inputs import WorkflowRunInputs
        from ..models.workflow_run_outputs_type_0 import WorkflowRunOutputsType0

        d = dict(src_dict)
        run_id = d.pop("run_id")

        workflow_id = d.pop("workflow_id")

        workflow_version = d.pop("workflow_version")

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

        status = JobStatus(d.pop("status"))

        progress = d.pop("progress")

        def _parse_stage(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        stage = _parse_stage(d.pop("stage"))

        inputs = WorkflowRunInputs.from_dict(d.pop("inputs"))

        def _parse_outputs(data: object) -> None | WorkflowRunOutputsType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                outputs_type_0 = WorkflowRunOutputsType0.from_dict(data)

                return outputs_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | WorkflowRunOutputsType0, data)

        outputs = _parse_outputs(d.pop("outputs"))

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

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        workflow_run = cls(
            run_id=run_id,
            workflow_id=workflow_id,
            workflow_version=workflow_version,
            project_id=project_id,
            status=status,
            progress=progress,
            stage=stage,
            inputs=inputs,
            outputs=outputs,
            error_code=error_code,
            error_message=error_message,
            started_at=started_at,
            completed_at=completed_at,
            created_at=created_at,
        )

        workflow_run.additional_properties = d
        return workflow_run

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
