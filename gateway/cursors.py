"""Opaque list cursors: HMAC-signed and bound to the tenant, the operation and its filters.

A cursor that was tampered with, or that belongs to another caller or another
filter set, is a 400 problem, never someone else's page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from core.failures import FieldError
from gateway.auth import current_instance_key, current_principal
from gateway.problems import Problem
from storage.pagination import Page, Position, Row
from storage.tenancy import Tenant

_SIGNATURE_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _binding(tenant: Tenant, operation_id: str, filters: Mapping[str, object]) -> str:
    material = json.dumps(
        [
            str(tenant.organization_id),
            tenant.mode.value,
            operation_id,
            sorted((k, str(v)) for k, v in filters.items() if v is not None),
        ]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def encode_cursor(
    secret: bytes, position: Position, tenant: Tenant, operation_id: str, filters: Mapping[str, object]
) -> str:
    payload = json.dumps(
        {"t": position.created_at.isoformat(), "i": str(position.id), "b": _binding(tenant, operation_id, filters)},
        separators=(",", ":"),
    ).encode()
    signature = hmac.new(secret, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return f"{_b64(payload)}.{_b64(signature)}"


def _invalid(detail: str) -> Problem:
    return Problem("invalid_cursor", detail, errors=[FieldError(detail, parameter="cursor")])


def decode_cursor(
    secret: bytes, cursor: str, tenant: Tenant, operation_id: str, filters: Mapping[str, object]
) -> Position:
    try:
        payload_text, signature_text = cursor.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except ValueError as exc:
        raise _invalid("The cursor is malformed; pass next_cursor from a previous page unchanged.") from exc
    expected = hmac.new(secret, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    if not hmac.compare_digest(signature, expected):
        raise _invalid("The cursor has been altered; pass next_cursor from a previous page unchanged.")
    fields = json.loads(payload)
    if fields["b"] != _binding(tenant, operation_id, filters):
        raise _invalid("The cursor belongs to another list, caller or set of filters.")
    return Position(datetime.fromisoformat(fields["t"]), uuid.UUID(fields["i"]))


class Pager:
    """One list request's cursor handling: decode the incoming cursor, shape the page envelope."""

    def __init__(self, secret: bytes, tenant: Tenant, operation_id: str, filters: Mapping[str, object]) -> None:
        self.secret = secret
        self.tenant = tenant
        self.operation_id = operation_id
        self.filters = filters

    def position(self, cursor: str | None) -> Position | None:
        if cursor is None:
            return None
        return decode_cursor(self.secret, cursor, self.tenant, self.operation_id, self.filters)

    def envelope(self, page: Page[Row], view: Callable[[Row], dict[str, Any]]) -> dict[str, Any]:
        next_cursor = None
        if page.next_position is not None:
            next_cursor = encode_cursor(self.secret, page.next_position, self.tenant, self.operation_id, self.filters)
        return {
            "data": [view(row) for row in page.rows],
            "next_cursor": next_cursor,
            "has_more": next_cursor is not None,
        }


def pager_for(operation_id: str, filters: Mapping[str, object] | None = None) -> Pager:
    """The current request's pager: its cursors bound to the caller's tenant, signed with the instance key."""
    return Pager(current_instance_key().derive("cursor"), current_principal().tenant, operation_id, filters or {})
