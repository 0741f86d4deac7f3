from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.workflow_run_started_status import WorkflowRunStartedStatus

T = TypeVar("T", bound="WorkflowRunStarted")


@_attrs_define
class WorkflowRunStarted:
    """
    Attributes:
        run_id (str): A workflow run's id: `run_` and a UUID. Example: run_c1d2e3f4-5a6b-4c7d-8e9f-0a1b2c3d4e5f.
        workflow_id (str): A workflow's id: `wf_` and a UUID. Example: wf_1f02d9ef-6a0b-4c7e-9d12-5b8e3f4a7c21.
        status (WorkflowRunStartedStatus): Always `pending`: the run is queued; poll the `Location`
            (`workflows.get_run_status`).
        started_at (datetime.datetime | None): Null until a worker starts the run.
    """

    run_id: str
    workflow_id: str
    status: WorkflowRunStartedStatus
    started_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        workflow_id = self.workflow_id

        status = self.status.value

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "run_id": run_id,
                "workflow_id": workflow_id,
                "status": status,
                "started_at": started_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        run_id = d.pop("run_id")

        workflow_id = d.pop("workflow_id")

        status = WorkflowRunStartedStatus(d.pop("status"))

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

        workflow_run_started = cls(
            run_id=run_id,
            workflow_id=workflow_id,
            status=status,
            started_at=started_at,
        )

        workflow_run_started.additional_properties = d
        return workflow_run_started

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
