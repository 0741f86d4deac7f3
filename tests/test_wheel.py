"""A wheel built from this tree, installed in a fresh venv, serves the contract, /docs and the demo with no
checkout in sight."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.contract import SAFE_LOADER
from gateway.docs import SCALAR_BUNDLE_URL
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT_BUNDLE = ROOT / "gateway" / "static" / "scalar" / "standalone.js"
# Not part of the distribution: skipped to keep the copy quick and clear of files that tests write meanwhile
# (build/ would also feed the build stale files).
NOT_SOURCE = shutil.ignore_patterns(
    ".*", "var", "build", "dist", "*.egg-info", "__pycache__", "node_modules", "tests", "bench", "sdk"
)


@dataclass(frozen=True)
class InstalledServer:
    venv: Path
    url: str
    demo_key: str
    banner: str


def _run(command: list[str | Path], cwd: Path | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(directory: Path) -> Path:
    """Build the wheel from a copy of the tree, so the build leaves no build/ folder in the checkout."""
    source = directory / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    # Offline, with the dev venv's setuptools and wheel (pinned dev dependencies, as build-system.requires asks).
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    _run([*pip_wheel, "--wheel-dir", directory / "dist", source])
    (wheel,) = (directory / "dist").glob("vaultgate-*.whl")
    return wheel


def install_in_fresh_venv(wheel: Path, venv: Path) -> Path:
    """A venv that sees the dev venv's dependencies but not its editable install of this checkout."""
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    # `--system-site-packages` would not do: a venv made from a venv sees the base interpreter's site-packages.
    # A plain path in a .pth adds the dev venv's without running the .pth files in it, so the editable
    # finder that maps `gateway` to this checkout is never installed.
    site_packages = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    dependencies = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site_packages / "dev-venv-dependencies.pth").write_text("".join(f"{path}\n" for path in dependencies))
    # --ignore-installed: pip sees the dev venv's vaultgate too and must neither uninstall nor skip for it.
    pip: list[str | Path] = [venv / "bin" / "python", "-m", "pip"]
    _run([*pip, "install", "--quiet", "--no-deps", "--no-index", "--ignore-installed", wheel])
    return venv


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/api/v2/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the installed server did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def installed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InstalledServer]:
    assert CHECKOUT_BUNDLE.is_file(), "no Scalar bundle to package: run scripts/fetch-scalar.sh (make test does)"
    directory = tmp_path_factory.mktemp("wheel")
    venv = install_in_fresh_venv(build_wheel(directory), directory / "venv")
    cwd = directory / "run"
    cwd.mkdir()
    # The demo makes its own instance key, database and blobs under the temporary cwd's var/.
    env = {name: value for name, value in os.environ.items() if not name.startswith("VAULTGATE_")}
    env.pop("PYTHONPATH", None)
    port = free_port()
    log = directory / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [venv / "bin" / "vaultgate", "serve", "--demo", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(url, process, log)
        key = re.search(r"Demo API key \(test mode\): (\S+)", log.read_text())
        assert key is not None, log.read_text()
        yield InstalledServer(venv, url, key.group(1), log.read_text())
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_venv_imports_the_installed_gateway_not_the_checkout(installed_server: InstalledServer) -> None:
    found = _run(
        [
            installed_server.venv / "bin" / "python",
            "-c",
            "import gateway.contract as c; print(c.__file__, c.SPEC_PATH)",
        ],
        cwd=installed_server.venv,
    )
    module, spec = (Path(path) for path in found.split())
    assert module.is_relative_to(installed_server.venv)
    assert spec.is_relative_to(installed_server.venv)
    assert spec.is_file()


def test_openapi_json_is_the_contract(installed_server: InstalledServer) -> None:
    response = httpx.get(f"{installed_server.url}/api/v2/openapi.json")
    assert response.status_code == 200
    spec = yaml.load((ROOT / "openapi" / "openapi.yaml").read_text(), SAFE_LOADER)
    assert response.json() == json.loads(json.dumps(spec, default=date.isoformat))


def test_docs_page_loads_the_packaged_scalar_bundle(installed_server: InstalledServer) -> None:
    page = httpx.get(f"{installed_server.url}/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert SCALAR_BUNDLE_URL in page.text
    bundle = httpx.get(f"{installed_server.url}{SCALAR_BUNDLE_URL}")
    assert bundle.status_code == 200
    assert hashlib.sha256(bundle.content).digest() == hashlib.sha256(CHECKOUT_BUNDLE.read_bytes()).digest()


def test_demo_vault_is_seeded_from_the_packaged_examples(installed_server: InstalledServer) -> None:
    metadata = json.loads((ROOT / "examples" / "demo" / "metadata.json").read_text())
    response = httpx.get(
        f"{installed_server.url}/api/v2/vault/documents",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {installed_server.demo_key}"},
    )
    assert response.status_code == 200, response.text
    assert sorted(document["filename"] for document in response.json()["data"]) == sorted(metadata)


def test_demo_banner_names_the_packaged_template(installed_server: InstalledServer) -> None:
    template = re.search(r"-F file=@(\S+) ", installed_server.banner)
    assert template is not None, installed_server.banner
    assert Path(template.group(1)).is_relative_to(installed_server.venv)
    assert (
        Path(template.group(1)).read_bytes() == (ROOT / "examples" / "templates" / "submittal-review.docx").read_bytes()
    )
