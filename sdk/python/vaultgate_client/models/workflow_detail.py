from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.scope import Scope
from ..models.workflow_trigger_type import WorkflowTriggerType

if TYPE_CHECKING:
    from ..models.workflow_input import WorkflowInput
    from ..models.workflow_step import WorkflowStep


T = TypeVar("T", bound="WorkflowDetail")


@_attrs_define
class WorkflowDetail:
    """
    Attributes:
        id (str): A workflow's id: `wf_` and a UUID. Example: wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        name (str): Unique in the organization and mode; importing a definition with the same name makes a new version.
        description (None | str): What the workflow does, for people, from its definition; null when it has none.
        enabled (bool): A disabled workflow cannot be run (409).
        trigger_type (WorkflowTriggerType): How runs start; `manual` is from `workflows.run`.
        created_at (datetime.datetime): When the workflow was first imported.
        updated_at (datetime.datetime): When its current version was imported.
        version (int): Its current version; each import of a changed definition adds one.
        requires_project (bool): Whether a run must name a `project_id`.
        timeout_seconds (int): A run still going this long after it started is cancelled.
        inputs (list[WorkflowInput]): The inputs a run takes (`inputs` of `workflows.run`), as the definition declares
            them.
        steps (list[WorkflowStep]): The steps a run performs, in order.
        required_scopes (list[Scope]): Every scope a key needs to run this workflow, sorted:
            `workflows:write` (`workflows.run` itself) plus the scopes its
            steps' actions use — `vault:read` for a step that reads the vault
            (`select_documents`, `search`, `extract_fields`, `check_rules`,
            `summarize`), `templates:write` for a `fill_template` step. A run
            request from a key lacking any of them answers 403
            `insufficient_scope`.
             Example: ['templates:write', 'vault:read', 'workflows:write'].
    """

    id: str
    name: str
    description: None | str
    enabled: bool
    trigger_type: WorkflowTriggerType
    created_at: datetime.datetime
    updated_at: datetime.datetime
    version: int
    requires_project: bool
    timeout_seconds: int
    inputs: list[WorkflowInput]
    steps: list[WorkflowStep]
    required_scopes: list[Scope]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        description: None | str
        description = self.description

        enabled = self.enabled

        trigger_type = self.trigger_type.value

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        version = self.version

        requires_project = self.requires_project

        timeout_seconds = self.timeout_seconds

        inputs = []
        for inputs_item_data in self.inputs:
            inputs_item = inputs_item_data.to_dict()
            inputs.append(inputs_item)

        steps = []
        for steps_item_data in self.steps:
            steps_item = steps_item_data.to_dict()
            steps.append(steps_item)

        required_scopes = []
        for required_scopes_item_data in self.required_scopes:
            required_scopes_item = required_scopes_item_data.value
            required_scopes.append(required_scopes_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "description": description,
                "enabled": enabled,
                "trigger_type": trigger_type,
                "created_at": created_at,
                "updated_at": updated_at,
                "version": version,
                "requires_project": requires_project,
                "timeout_seconds": timeout_seconds,
                "inputs": inputs,
                "steps": steps,
                "required_scopes": required_scopes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.workflow_input import WorkflowInput
        from ..models.workflow_step import WorkflowStep

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        enabled = d.pop("enabled")

        trigger_type = WorkflowTriggerType(d.pop("trigger_type"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        version = d.pop("version")

        requires_project = d.pop("requires_project")

        timeout_seconds = d.pop("timeout_seconds")

        inputs = []
        _inputs = d.pop("inputs")
        for inputs_item_data in _inputs:
            inputs_item = WorkflowInput.from_dict(inputs_item_data)

            inputs.append(inputs_item)

        steps = []
        _steps = d.pop("steps")
        for steps_item_data in _steps:
            steps_item = WorkflowStep.from_dict(steps_item_data)

            steps.append(steps_item)

        required_scopes = []
        _required_scopes = d.pop("required_scopes")
        for required_scopes_item_data in _required_scopes:
            required_scopes_item = Scope(required_scopes_item_data)

            required_scopes.append(required_scopes_item)

        workflow_detail = cls(
            id=id,
            name=name,
            description=description,
            enabled=enabled,
            trigger_type=trigger_type,
            created_at=created_at,
            updated_at=updated_at,
            version=version,
            requires_project=requires_project,
            timeout_seconds=timeout_seconds,
            inputs=inputs,
            steps=steps,
            required_scopes=required_scopes,
        )

        workflow_detail.additional_properties = d
        return workflow_detail

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
