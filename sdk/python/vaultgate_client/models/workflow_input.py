from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.workflow_input_type import WorkflowInputType
from ..types import UNSET, Unset

T = TypeVar("T", bound="WorkflowInput")


@_attrs_define
class WorkflowInput:
    """
    Attributes:
        name (str): The key of the value in `workflows.run`'s `inputs`.
        type_ (WorkflowInputType): `date` is `YYYY-MM-DD`; `enum` one of `values`; `document_ids` a
            list of document ids the caller can see.
        description (None | str): What the input means, for people; null when the definition says nothing.
        required (bool): Whether a run must give a value.
        default (Any): The value used when the input is left out, of the input's `type`; null when there is none.
        values (list[str] | None): The allowed values of an `enum` input.
        minimum (float | None | Unset): The smallest value an `integer` or `number` input accepts; null for no bound.
        maximum (float | None | Unset): The largest value an `integer` or `number` input accepts; null for no bound.
        min_length (int | None | Unset): The fewest characters a `string` input accepts; null for no bound.
        max_length (int | None | Unset): The most characters a `string` input accepts; null for no bound.
        max_items (int | None | Unset): The most ids a `document_ids` input accepts; null for the default, 100.
    """

    name: str
    type_: WorkflowInputType
    description: None | str
    required: bool
    default: Any
    values: list[str] | None
    minimum: float | None | Unset = UNSET
    maximum: float | None | Unset = UNSET
    min_length: int | None | Unset = UNSET
    max_length: int | None | Unset = UNSET
    max_items: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        type_ = self.type_.value

        description: None | str
        description = self.description

        required = self.required

        default = self.default

        values: list[str] | None
        if isinstance(self.values, list):
            values = self.values

        else:
            values = self.values

        minimum: float | None | Unset
        if isinstance(self.minimum, Unset):
            minimum = UNSET
        else:
            minimum = self.minimum

        maximum: float | None | Unset
        if isinstance(self.maximum, Unset):
            maximum = UNSET
        else:
            maximum = self.maximum

        min_length: int | None | Unset
        if isinstance(self.min_length, Unset):
            min_length = UNSET
        else:
            min_length = self.min_length

        max_length: int | None | Unset
        if isinstance(self.max_length, Unset):
            max_length = UNSET
        else:
            max_length = self.max_length

        max_items: int | None | Unset
        if isinstance(self.max_items, Unset):
            max_items = UNSET
        else:
            max_items = self.max_items

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "type": type_,
                "description": description,
                "required": required,
                "default": default,
                "values": values,
            }
        )
        if minimum is not UNSET:
            field_dict["minimum"] = minimum
        if maximum is not UNSET:
            field_dict["maximum"] = maximum
        if min_length is not UNSET:
            field_dict["min_length"] = min_length
        if max_length is not UNSET:
            field_dict["max_length"] = max_length
        if max_items is not UNSET:
            field_dict["max_items"] = max_items

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        type_ = WorkflowInputType(d.pop("type"))

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        required = d.pop("required")

        default = d.pop("default")

        def _parse_values(data: object) -> list[str] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                values_type_0 = cast(list[str], data)

                return values_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None, data)

        values = _parse_values(d.pop("values"))

        def _parse_minimum(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        minimum = _parse_minimum(d.pop("minimum", UNSET))

        def _parse_maximum(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        maximum = _parse_maximum(d.pop("maximum", UNSET))

        def _parse_min_length(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        min_length = _parse_min_length(d.pop("min_length", UNSET))

        def _parse_max_length(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_length = _parse_max_length(d.pop("max_length", UNSET))

        def _parse_max_items(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_items = _parse_max_items(d.pop("max_items", UNSET))

        workflow_input = cls(
            name=name,
            type_=type_,
            description=description,
            required=required,
            default=default,
            values=values,
            minimum=minimum,
            maximum=maximum,
            min_length=min_length,
            max_length=max_length,
            max_items=max_items,
        )

        workflow_input.additional_properties = d
        return workflow_input

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
