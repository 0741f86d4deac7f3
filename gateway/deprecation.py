"""Deprecated operations, announced from the spec alone: headers until the sunset, 410 after it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from email.utils import format_datetime

from gateway.contract import Operation
from gateway.problems import Problem


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def deprecation_headers(operation: Operation) -> dict[str, str]:
    """`Deprecation` (RFC 9745), `Sunset` (RFC 8594) and the `Link` to the docs."""
    assert operation.deprecated_at is not None
    assert operation.sunset is not None
    return {
        "Deprecation": f"@{int(_midnight_utc(operation.deprecated_at).timestamp())}",
        "Sunset": format_datetime(_midnight_utc(operation.sunset), usegmt=True),
        "Link": f'</docs#operation/{operation.operation_id}>; rel="deprecation"; type="text/html"',
    }


def refuse_after_sunset(operation: Operation, now: datetime) -> None:
    assert operation.sunset is not None
    if now >= _midnight_utc(operation.sunset):
        raise Problem(
            "gone",
            f"{operation.operation_id} was retired on {operation.sunset.isoformat()}; "
            "see the Link header for its replacement.",
        )
