"""Probe operations: echo a JSON body, accept an upload, crash."""

from __future__ import annotations

from typing import Any


def echo(body: dict[str, Any]) -> dict[str, Any]:
    return body


def upload(body: dict[str, Any], file: Any) -> dict[str, Any]:
    file.file.close()
    return {"name": body.get("name", "")}


def crash() -> dict[str, Any]:
    raise RuntimeError("secret internals: /etc/vaultgate password=hunter2")
