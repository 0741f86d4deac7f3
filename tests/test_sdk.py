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

import httpx
import pytest

from gateway.contract import load_contract
from storage.database import dispose_engine
from storage.models import Tier
from tests.conftest import ROOT, Tenants, free_port, seed_spec_examples, start_server

SDK = ROOT / "sdk" / "python"
GENERATED = SDK / "vaultgate_client"
# The SDK is a distribution of its own, not installed in the dev venv: its unit tests import it from the checkout.
sys.path.insert(0, str(SDK))

from vaultgate_client import AuthenticatedClient  # noqa: E402
from vaultgate_client.models import ChatDeltaEvent, ChatDoneEvent, ChatQuestion  # noqa: E402
from vaultgate_client_ext import Problem, connect, download, paginate, stream_chat  # noqa: E402
from vaultgate_client_ext.chat import event_stream_lines, server_sent_events  # noqa: E402
from vaultgate_client_ext.transport import ResilientTransport, retry_after  # noqa: E402


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


# The hand-written additions' behaviour on hostile or unusual answers, against a mock transport (no server).

KEY = "vg_test_SECRET0123456789"


def mock_client(
    answers: list[httpx.Response], sleeps: list[float] | None = None, **options: int
) -> tuple[httpx.Client, list[httpx.Request]]:
    """An httpx client through `ResilientTransport` whose n-th request gets answers[n] (the last one thereafter)."""
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers[min(len(requests), len(answers)) - 1]

    transport = ResilientTransport(
        httpx.MockTransport(answer), sleep=(sleeps if sleeps is not None else []).append, **options
    )
    return httpx.Client(base_url="http://vault.test/api/v2", transport=transport), requests


def test_connected_client_never_shows_the_api_key() -> None:
    client = connect("http://vault.test/api/v2", KEY)
    assert client.get_httpx_client().headers["Authorization"] == f"Bearer {KEY}"  # still sent
    for shown in (repr(client), str(client), repr(client.with_headers({"X-Trace": "1"})), f"{client!r}"):
        assert "SECRET" not in shown, shown
        assert "vault.test" in shown


def test_download_does_not_rely_on_raise_for_status_answering_the_response(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx before 0.25 (the SDK allows 0.23.1) answers None from raise_for_status().
    checked: list[int] = []

    def old_raise_for_status(self: httpx.Response) -> None:
        checked.append(self.status_code)

    monkeypatch.setattr(httpx.Response, "raise_for_status", old_raise_for_status)
    monkeypatch.setattr(
        httpx, "HTTPTransport", lambda: httpx.MockTransport(lambda request: httpx.Response(200, content=b"%PDF"))
    )
    assert download(connect("http://vault.test/api/v2", KEY), "http://bucket.test/signed?sig=1") == b"%PDF"
    assert checked == [200]


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/problem+json", b'{"code": "x", "errors": null}', ("x", "", [])),
        ("application/problem+json", b'{"code": "x", "errors": {"a": 1}}', ("x", "", [])),
        ("application/problem+json", b'{"code": "x", "errors": ["limit is too big"]}', ("x", "", ["limit is too big"])),
        (
            "application/problem+json",
            b'{"errors": [{"foo": 1}, {"detail": 2, "pointer": 3}]}',
            ("unknown", "", ["", ""]),
        ),
        ("application/problem+json", b'{"code": null, "detail": null, "request_id": 7}', ("unknown", "", [])),
        ("application/problem+json", b"[1, 2]", ("unknown", "", [])),
        ("application/problem+json", b"not json", ("unknown", "", [])),
        ("Application/Problem+JSON", b'{"code": "x", "detail": "d"}', ("x", "d", [])),
        ("application/problem+json; charset=utf-8", b'{"code": "x", "detail": "d"}', ("x", "d", [])),
        (
            "application/problem+json",
            b'{"code": "validation_failed", "errors": [{"detail": "too big", "parameter": "limit", "hint": 1}]}',
            ("validation_failed", "", ["too big"]),
        ),
    ],
)
def test_every_problem_answer_raises_problem(
    content_type: str, body: bytes, expected: tuple[str, str, list[str]]
) -> None:
    client, _ = mock_client([httpx.Response(400, content=body, headers={"Content-Type": content_type})])
    with pytest.raises(Problem) as raised:
        client.get("/projects")
    problem = raised.value
    assert (problem.code, problem.detail, [error.detail for error in problem.errors]) == expected
    assert all(isinstance(value, str) for value in (problem.title, problem.request_id))


def test_retry_after_takes_ascii_digits_only() -> None:
    def unavailable(value: str) -> httpx.Response:
        return httpx.Response(503, headers=[(b"Retry-After", value.encode())])  # as sent: UTF-8 bytes

    for value in ("²", "٣", "1²"):
        assert retry_after(unavailable(value)) is None, value
    assert retry_after(unavailable("3")) == 3.0
    sleeps: list[float] = []
    client, _ = mock_client([unavailable("²"), httpx.Response(204)], sleeps)
    assert client.post("/projects", json={}).status_code == 204
    assert sleeps == [1.0]  # as without a Retry-After


def test_a_write_still_in_flight_is_retried_after_its_retry_after() -> None:
    in_flight = httpx.Response(
        409,
        json={"code": "idempotency_key_in_use", "detail": "still in flight"},
        headers={"Content-Type": "application/problem+json", "Retry-After": "2"},
    )
    sleeps: list[float] = []
    client, requests = mock_client([in_flight, in_flight, httpx.Response(201, json={})], sleeps)
    assert client.post("/projects", json={"name": "p"}).status_code == 201
    assert sleeps == [2.0, 2.0]
    assert len({request.headers["Idempotency-Key"] for request in requests}) == 1
    # Bounded like 429/503: max_attempts in all, then the problem.
    client, requests = mock_client([in_flight], max_attempts=2)
    with pytest.raises(Problem, match="idempotency_key_in_use"):
        client.post("/projects", json={})
    assert len(requests) == 2
    # Any other conflict is an answer, not a reason to repeat the request.
    conflict = httpx.Response(
        409, json={"code": "conflict"}, headers={"Content-Type": "application/problem+json", "Retry-After": "1"}
    )
    client, requests = mock_client([conflict])
    with pytest.raises(Problem, match="conflict"):
        client.post("/projects", json={})
    assert len(requests) == 1


def test_paginate_stops_on_a_repeated_cursor() -> None:
    class Page:
        def __init__(self, cursor: str) -> None:
            self.data: list[str] = [cursor]
            self.next_cursor: str | None = cursor
            self.has_more = True

    cursors = iter(["a", "b", "a", "c"])
    calls: list[object] = []

    def list_things(**arguments: object) -> Page:
        calls.append(arguments["cursor"])
        return Page(next(cursors))

    items: list[str] = []
    with pytest.raises(RuntimeError, match="'a' twice"):
        items.extend(paginate(list_things, client=connect("http://vault.test/api/v2", KEY)))
    assert items == ["a", "b", "a"]
    assert len(calls) == 3


def test_event_stream_lines_end_at_cr_lf_and_crlf_only() -> None:
    unusual = "\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e"
    body = f'event: delta\r\ndata: {{"text": "a{unusual}b"}}\r\rdata: x\n\n'.encode()
    whole = list(event_stream_lines([body]))
    assert whole == ["event: delta", f'data: {{"text": "a{unusual}b"}}', "", "data: x", ""]
    # Chunk boundaries anywhere (inside a CRLF, inside a UTF-8 sequence) change nothing; a leading BOM is dropped.
    bom = "\ufeff".encode()
    assert list(event_stream_lines([bom + body[:1], *(body[i : i + 1] for i in range(1, len(body)))])) == whole
    assert list(event_stream_lines([body[:13], body[13:]])) == whole  # body[12] is the CR of a CRLF


def test_stream_chat_reads_unusual_text_and_skips_empty_data() -> None:
    done = '{"answered": true, "citations": 0, "answerer": "extractive", "fallback": false}'
    stream = (
        f'event: delta\ndata: {{"text": "line\u2028sep\x85"}}\n\nevent: delta\ndata:\n\nevent: done\ndata: {done}\n\n'
    ).encode()
    answer = httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=stream)
    client = AuthenticatedClient(base_url="http://vault.test/api/v2", token=KEY)
    client.set_httpx_client(mock_client([answer])[0])
    events = list(stream_chat(client, ChatQuestion(question="q")))
    assert [type(event) for event in events] == [ChatDeltaEvent, ChatDoneEvent]
    assert isinstance(events[0], ChatDeltaEvent)
    assert events[0].text == "line\u2028sep\x85"
    assert list(server_sent_events(["data:", ""])) == [("message", "")]  # the reader keeps to the spec
