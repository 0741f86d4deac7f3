"""Probe operations: echo a JSON body, accept an upload, crash."""

from __future__ import annotations

from typing import Any


def echo(body: dict[str, Any]) -> dict[str, Any]:
    return body


def upload(body: dict[str, Any], file: Any) -> dict[str, Any]:
    file.file.close()
    return {"name": body.get("name", "")}


_calls: dict[str, int] = {}


def flaky(body: dict[str, Any]) -> dict[str, Any]:
    """Fails the first time it sees a body, succeeds after."""
    marker = str(body.get("marker"))
    _calls[marker] = _calls.get(marker, 0) + 1
    if _calls[marker] == 1:
        raise RuntimeError("transient failure")
    return {"attempt": _calls[marker]}


def old() -> dict[str, Any]:
    return {"still": "here"}


def retired() -> dict[str, Any]:
    return {"still": "here"}


def crash() -> dict[str, Any]:
    raise RuntimeError("secret internals: /etc/vaultgate password=hunter2")
