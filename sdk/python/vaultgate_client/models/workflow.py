from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.workflow_trigger_type import WorkflowTriggerType

T = TypeVar("T", bound="Workflow")


@_attrs_define
class Workflow:
    """
    Attributes:
        id (str): A workflow's id: `wf_` and a UUID. Example: wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        name (str): Unique in the organization and mode; importing a definition with the same name makes a new version.
        description (None | str): What the workflow does, for people, from its definition; null when it has none.
        enabled (bool): A disabled workflow cannot be run (409).
        trigger_type (WorkflowTriggerType): How runs start; `manual` is from `workflows.run`.
        created_at (datetime.datetime): When the workflow was first imported.
        updated_at (datetime.datetime): When its current version was imported.
    """

    id: str
    name: str
    description: None | str
    enabled: bool
    trigger_type: WorkflowTriggerType
    created_at: datetime.datetime
    updated_at: datetime.datetime
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
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
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

        workflow = cls(
            id=id,
            name=name,
            description=description,
            enabled=enabled,
            trigger_type=trigger_type,
            created_at=created_at,
            updated_at=updated_at,
        )

        workflow.additional_properties = d
        return workflow

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
