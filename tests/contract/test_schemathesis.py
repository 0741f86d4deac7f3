"""The contract run: the schemathesis CLI fuzzes the live server with every check and phase."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, LiveServer


def test_live_server_conforms_to_its_contract(live_server: LiveServer) -> None:
    st = Path(sys.executable).parent / "st"
    result = subprocess.run(
        [
            str(st),
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            f"{live_server.url}/api/v2/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
        ],
        env={
            **os.environ,
            "VAULTGATE_CONTRACT_KEY": live_server.api_key,
            "NO_COLOR": "1",
            # Our own checks, which `--checks all` then runs too (documented_error_code: x-error-codes).
            "SCHEMATHESIS_HOOKS": str(Path(__file__).with_name("schemathesis_checks.py")),
        },
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
