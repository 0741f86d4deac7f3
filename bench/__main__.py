"""`make bench` (or `python -m bench [whoami|guarantees|vault|chat|workflows|templates|data_access|mcp|oauth]`): every benchmark, each against its own baseline."""

from __future__ import annotations

import sys

from bench import chat, data_access, guarantees, mcp_latency, oauth, templates, vault, whoami, workflows
from bench.harness import ensure_wrk

BENCHMARKS = {
    "whoami": whoami.run,
    "guarantees": guarantees.run,
    "vault": vault.run,
    "chat": chat.run,
    "workflows": workflows.run,
    "templates": templates.run,
    "data_access": data_access.run,
    "mcp": mcp_latency.run,
    "oauth": oauth.run,
}


def main() -> None:
    ensure_wrk()
    for name in sys.argv[1:] or list(BENCHMARKS):
        BENCHMARKS[name]()


if __name__ == "__main__":
    main()
