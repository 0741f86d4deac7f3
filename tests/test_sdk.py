"""The generated Python SDK (sdk/python): it is what `make sdk` makes, and, installed, it does a client's work."""

from __future__ import annotations

import ast
import difflib
import filecmp
import importlib.util
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from gateway.contract import load_contract
from storage.database import dispose_engine
from storage.models import Tier
from tests.conftest import ROOT, Tenants, free_port, seed_spec_examples, start_server

SDK = ROOT / "sdk" / "python"
GENERATED = SDK / "vaultgate_client"


def differences(expected: Path, actual: Path, prefix: str = "") -> list[str]:
    """One line per file missing, extra or different in `actual`, each difference followed by its first lines."""
    comparison = filecmp.dircmp(expected, actual, ignore=["__pycache__"])
    lines = [f"only in make sdk's output: {prefix}{name}" for name in comparison.left_only]
    lines += [f"not made by make sdk: {prefix}{name}" for name in comparison.right_only]
    for name in comparison.diff_files:
        old, new = ((directory / name).read_text().splitlines() for directory in (actual, expected))
        diff = difflib.unified_diff(old, new, f"committed {prefix}{name}", f"make sdk {prefix}{name}", lineterm="")
        lines += [f"differs: {prefix}{name}", *list(diff)[:12]]
    for name in comparison.subdirs:
        lines += differences(expected / name, actual / name, f"{prefix}{name}/")
    return lines


def test_committed_client_is_what_make_sdk_generates(tmp_path: Path) -> None:
    regenerated = tmp_path / "vaultgate_client"
    subprocess.run([str(ROOT / "scripts" / "sdk.sh"), str(regenerated)], check=True, capture_output=True)
    drift = differences(regenerated, GENERATED)
    assert not drift, "sdk/python/vaultgate_client is not what `make sdk` generates; run it and commit:\n" + "\n".join(
        drift
    )


def test_every_list_operation_takes_the_cursor_paginate_passes() -> None:
    contract = load_contract()
    pages = 0
    for operation in contract.operations:
        success = contract.document_operation(operation.operation_id)["responses"].get("200", {})
        schema = success.get("content", {}).get("application/json", {}).get("schema", {})
        if not schema.get("$ref", "").endswith("Page"):
            continue
        pages += 1
        tag, verb = operation.operation_id.split(".")
        module = ast.parse((GENERATED / "api" / tag / f"{tag}_{verb}.py").read_text())
        sync = next(node for node in module.body if isinstance(node, ast.FunctionDef) and node.name == "sync")
        assert {"client", "limit", "cursor"} <= {argument.arg for argument in sync.args.kwonlyargs}, operation
    assert pages >= 7


def builds_wheels_offline() -> bool:
    major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def test_sdk_version_is_the_contracts() -> None:
    distribution = tomllib.loads((SDK / "pyproject.toml").read_text())["project"]
    assert (distribution["name"], distribution["version"]) == (
        "vaultgate-client",
        load_contract().document["info"]["version"],
    )


@pytest.fixture(scope="module")
def sdk_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a throwaway venv with `vaultgate-client` pip-installed from a copy of sdk/python.

    A venv made from .venv's python with `--system-site-packages` would see the base interpreter's packages, not
    .venv's: a plain path in a .pth file gives it .venv's (httpx, attrs, setuptools) without running the .pth
    files there, so the checkout's editable install stays out. The copy keeps the build's leftovers out of the
    checkout, and is deleted once installed.
    """
    directory = tmp_path_factory.mktemp("sdk")
    source = directory / "source"
    shutil.copytree(SDK, source, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    venv = directory / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site_packages) / "vaultgate-dev.pth").write_text(ours + "\n")
    # setuptools before 70.1 builds wheels only with the `wheel` package; without either in .venv, pip fetches a
    # build backend from the index into an isolated build environment (~25 s instead of ~3 s).
    isolation = ["--no-build-isolation"] if builds_wheels_offline() else []
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    installed = subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", *isolation, str(source)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr
    shutil.rmtree(source)  # what the scenario imports can only be the installed copy
    return python


@pytest.fixture
def live_gateway(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A `vaultgate serve` process on a fresh database of each kind, the spec's examples seeded: (API root, key)."""
    caller = Tenants(database_url).caller(scopes=load_contract().scopes, tier=Tier.enterprise)
    seed_spec_examples(database_url, tmp_path / "blobs", caller)
    dispose_engine(database_url)
    port = free_port()
    process = start_server(database_url, port, tmp_path / "server.log")
    try:
        yield f"http://127.0.0.1:{port}/api/v2", caller.key
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_installed_sdk_does_a_clients_work(sdk_python: Path, live_gateway: tuple[str, str], tmp_path: Path) -> None:
    api_root, key = live_gateway
    scenario = subprocess.run(
        [str(sdk_python), str(SDK / "tests" / "live_scenario.py"), api_root, key, str(ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert scenario.returncode == 0, scenario.stdout + scenario.stderr
    assert scenario.stdout.strip() == "sdk scenario passed"
