"""The packages import downwards only, so no package-level cycle can form (read from the source, not run)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import ROOT

# Lowest first. A package may import the ones before it, never one after it. Capabilities are layers too:
# a fill reads the vault, a workflow step fills templates; the edges (HTTP, then the handlers) come last.
LAYERS = ["core", "storage", "jobs", "vault", "chat", "fills", "workflows", "gateway", "handlers"]


def imported_packages(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    """Each of our packages that `package` imports, with where (`file:line`), including imports inside functions."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted((root / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in LAYERS and top != package:
                    found[top].add(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_every_package_is_placed_in_a_layer() -> None:
    packages = {path.parent.name for path in ROOT.glob("*/*.py")} - {"tests", "bench", "examples", "scripts"}

    assert packages == set(LAYERS)


def test_no_package_imports_a_higher_layer() -> None:
    upward = [
        f"{package} -> {target} at {where}"
        for package in LAYERS
        for target, places in imported_packages(package).items()
        if LAYERS.index(target) > LAYERS.index(package)
        for where in sorted(places)
    ]

    assert upward == []


def test_an_import_inside_a_function_counts(tmp_path: Path) -> None:
    (tmp_path / "storage").mkdir()
    (tmp_path / "storage" / "late.py").write_text("def later():\n    from gateway.app import create_app\n")

    assert imported_packages("storage", tmp_path) == {"gateway": {"storage/late.py:2"}}


def test_the_image_copies_every_package() -> None:
    # No Docker daemon here to build the image: a package missing from its COPY lines would pass every other test.
    copied = {line.split()[1] for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("COPY ")}

    assert set(LAYERS) <= copied
