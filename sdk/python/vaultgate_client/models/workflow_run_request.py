from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.workflow_run_request_inputs import WorkflowRunRequestInputs


T = TypeVar("T", bound="WorkflowRunRequest")


@_attrs_define
class WorkflowRunRequest:
    """
    Attributes:
        inputs (WorkflowRunRequestInputs | Unset): The workflow's declared inputs, by name (see `workflows.get`).
        project_id (UUID | Unset): The project the run works in; required for workflows that `requires_project`.
    """

    inputs: WorkflowRunRequestInputs | Unset = UNSET
    project_id: UUID | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        inputs: dict[str, Any] | Unset = UNSET
        if not isinstance(self.inputs, Unset):
            inputs = self.inputs.to_dict()

        project_id: str | Unset = UNSET
        if not isinstance(self.project_id, Unset):
            project_id = str(self.project_id)

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if inputs is not UNSET:
            field_dict["inputs"] = inputs
        if project_id is not UNSET:
            field_dict["project_id"] = project_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.workflow_run_request_inputs import WorkflowRunRequestInputs

        d = dict(src_dict)
        _inputs = d.pop("inputs", UNSET)
        inputs: WorkflowRunRequestInputs | Unset
        if isinstance(_inputs, Unset):
            inputs = UNSET
        else:
            inputs = WorkflowRunRequestInputs.from_dict(_inputs)

        _project_id = d.pop("project_id", UNSET)
        project_id: UUID | Unset
        if isinstance(_project_id, Unset):
            project_id = UNSET
        else:
            project_id = UUID(_project_id)

        workflow_run_request = cls(
            inputs=inputs,
            project_id=project_id,
        )

        return workflow_run_request
