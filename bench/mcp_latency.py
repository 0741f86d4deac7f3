"""MCP tool-call latency next to the same REST call, against one live `vaultgate serve` (SQLite).

Three operations — `meta.whoami`, `workflows.get_run_status` on a finished run, `vault.search` over the demo
documents — each timed over a fixed number of sequential calls after a warm-up:
- the REST call (baseline): `httpx`, one keep-alive connection, the JSON body parsed;
- the MCP tool call through the official `mcp` client, over a session already open and its tools listed (as
  clients do; it also arms the client's output-schema check), in both protocol revisions;
- the same `tools/call` as one raw JSON-RPC POST over `httpx`, without the client SDK: the server's share.
Then `meta.whoami` with a few callers at once. The goal (issue 15): an MCP call within 2x the REST call.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bench import workflows as workflows_bench
from bench.harness import vaultgate_client
from gateway.agents.tools import tool_name
from gateway.contract import load_contract
from storage.database import dispose_engine
from workflows.ids import workflow_public_id

CALLS = int(os.environ.get("BENCH_MCP_CALLS", "100"))
WARM_UP = 20
BLOCK = 25
CALLERS = 4
CALLS_PER_CALLER = 25
CALLER_WARM_UP = 5
GOAL = 2.0
LEGACY, MODERN = "2025-11-25", "2026-07-28"
# Client modes: the 2025-11-25 handshake, or the newest revision both sides speak (2026-07-28, no handshake).
CLIENT_MODES = {LEGACY: "legacy", MODERN: "auto"}
REST = "REST GET, httpx (baseline)"
ACCEPT = "application/json, text/event-stream"
SEARCH_QUERY = "galvanized anchors"


class Case:
    """One operation: its REST request and the tool call that makes it."""

    def __init__(self, operation_id: str, rest_path: str, arguments: dict[str, Any]) -> None:
        self.operation_id = operation_id
        self.rest_path = rest_path
        self.tool = tool_name(operation_id)
        self.arguments = arguments

    def json_rpc(self, revision: str) -> tuple[bytes, dict[str, str]]:
        """The raw `tools/call` as the `mcp` client sends it in `revision` (body and headers)."""
        params: dict[str, Any] = {"name": self.tool, "arguments": self.arguments}
        headers = {"Accept": ACCEPT, "Content-Type": "application/json", "MCP-Protocol-Version": revision}
        if revision == MODERN:
            # 2026-07-28 carries the client's identity in every request, and names the call in headers.
            params["_meta"] = {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientInfo": {"name": "vaultgate-bench", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {},
            }
            headers |= {"Mcp-Method": "tools/call", "Mcp-Name": self.tool}
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
        return json.dumps(body).encode(), headers


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


Call = Callable[[], Awaitable[object]]


async def _interleaved(calls: dict[str, Call], count: int, warm_up: int = WARM_UP) -> dict[str, list[float]]:
    """Each call `count` times after `warm_up`, in blocks of `BLOCK` taken in turns, so that a load coming and
    going on the machine weighs on every variant alike. A block's first call is not counted: it may still meet
    work the previous variant left running after its answer (a transport's teardown)."""
    timings: dict[str, list[float]] = {label: [] for label in calls}
    for call in calls.values():
        for _ in range(warm_up):
            await call()
    while any(len(values) < count for values in timings.values()):
        for label, call in calls.items():
            await call()
            for _ in range(min(BLOCK, count - len(timings[label]))):
                started = time.perf_counter()
                await call()
                timings[label].append(time.perf_counter() - started)
    return timings


def _rest_call(client: httpx.AsyncClient, case: Case) -> Call:
    async def call() -> object:
        response = await client.get(case.rest_path)
        assert response.status_code == 200, response.text
        return response.json()

    return call


def _raw_tool_call(client: httpx.AsyncClient, url: str, case: Case, revision: str) -> Call:
    body, headers = case.json_rpc(revision)

    async def call() -> object:
        response = await client.post(url, content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert '"isError":true' not in response.text, response.text
        return response.text

    return call


def _sdk_call(client: Client, case: Case) -> Call:
    async def call() -> object:
        result = await client.call_tool(case.tool, case.arguments)
        assert not result.is_error, result.structured_content
        return result

    return call


@asynccontextmanager
async def _sessions(base: str, key: str) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Client]]]:
    """A keep-alive `httpx` client, and one open `mcp` client session per protocol revision, tools listed (as
    clients do before calling; it also arms the client's output-schema check)."""
    headers = {"Authorization": f"Bearer {key}"}
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=base + load_contract().base_path, headers=headers, timeout=30)
        )
        sessions = {}
        for revision, mode in CLIENT_MODES.items():
            transport = await stack.enter_async_context(httpx2.AsyncClient(headers=headers, timeout=30))
            client = Client(streamable_http_client(f"{base}/mcp", http_client=transport), mode=mode)
            sessions[revision] = await stack.enter_async_context(client)
            await sessions[revision].list_tools()
        yield http, sessions


def _sequential(base: str, key: str, cases: list[Case]) -> dict[str, dict[str, list[float]]]:
    """Per case: the REST call, the tool call through the `mcp` client and as a raw POST, in both revisions."""

    async def main() -> dict[str, dict[str, list[float]]]:
        async with _sessions(base, key) as (http, sessions):
            results = {}
            for case in cases:
                calls = {REST: _rest_call(http, case)}
                calls |= {_sdk_label(r): _sdk_call(sessions[r], case) for r in CLIENT_MODES}
                calls |= {_raw_label(r): _raw_tool_call(http, f"{base}/mcp", case, r) for r in CLIENT_MODES}
                results[case.operation_id] = await _interleaved(calls, CALLS)
            return results

    return anyio.run(main)


def _concurrent(base: str, key: str, case: Case) -> dict[str, tuple[list[float], float]]:
    """`CALLERS` callers at once, each `CALLS_PER_CALLER` calls: every call's latency, and calls per second."""

    async def at_once(calls: list[Call]) -> tuple[list[float], float]:
        for call in calls:
            for _ in range(CALLER_WARM_UP):
                await call()
        timings: list[float] = []

        async def caller(call: Call) -> None:
            for _ in range(CALLS_PER_CALLER):
                started = time.perf_counter()
                await call()
                timings.append(time.perf_counter() - started)

        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for call in calls:
                group.start_soon(caller, call)
        return timings, len(timings) / (time.perf_counter() - started)

    async def main() -> dict[str, tuple[list[float], float]]:
        async with AsyncExitStack() as stack:
            sessions = [await stack.enter_async_context(_sessions(base, key)) for _ in range(CALLERS)]
            results = {REST: await at_once([_rest_call(http, case) for http, _ in sessions])}
            for revision in CLIENT_MODES:
                results[_sdk_label(revision)] = await at_once([_sdk_call(s[revision], case) for _, s in sessions])
            return results

    return anyio.run(main)


def _sdk_label(revision: str) -> str:
    return f"MCP, mcp Client {CLIENT_MODES[revision]} ({revision})"


def _raw_label(revision: str) -> str:
    return f"MCP, raw JSON-RPC POST, no SDK ({revision})"


def _print_row(label: str, timings: list[float], baseline: float | None, extra: str = "") -> None:
    median = statistics.median(timings)
    line = f"    {label:<46} {median * 1000:7.2f} ms {_p95(timings) * 1000:7.2f} ms"
    if baseline is not None:
        ratio = median / baseline
        line += f"  {ratio:5.2f}x  {'ok' if ratio <= GOAL else 'OVER'}"
    else:
        line += "   1.00x  baseline"
    print(line + extra)


def _seed() -> tuple[str, Path, str, str, str]:
    """The workflows benchmark's database (demo documents in a project, the example workflow) and a key: the
    database URL, its directory, the key, the workflow's public id and the project id."""
    database_url, directory, _tenant, user_id, project_id, workflow_id = workflows_bench._seed()
    key = workflows_bench.bench_key(database_url, user_id)
    dispose_engine(database_url)
    return database_url, directory, key, workflow_public_id(workflow_id), str(project_id)


def _finished_run(client: httpx.Client, workflow: str, project_id: str) -> str:
    body = {"inputs": workflows_bench._inputs(), "project_id": project_id}
    response = client.post(f"/workflows/{workflow}/runs", json=body)
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    deadline = time.monotonic() + 30
    while client.get(f"/workflows/runs/{run_id}").json()["status"] != "completed":
        assert time.monotonic() < deadline, "the benchmark's workflow run did not complete"
        time.sleep(0.05)
    return run_id


def run() -> None:
    database_url, directory, key, workflow, project_id = _seed()
    with vaultgate_client(database_url, directory / "blobs", key) as client:
        base = str(client.base_url).removesuffix("/").removesuffix(load_contract().base_path)
        run_id = _finished_run(client, workflow, project_id)
        cases = [
            Case("meta.whoami", "/meta/whoami", {}),
            Case("workflows.get_run_status", f"/workflows/runs/{run_id}", {"run_id": run_id}),
            Case("vault.search", f"/vault/search?q={SEARCH_QUERY.replace(' ', '+')}", {"q": SEARCH_QUERY}),
        ]
        started = time.perf_counter()
        sequential = _sequential(base, key, cases)
        concurrent = _concurrent(base, key, cases[0])
        elapsed = time.perf_counter() - started
    _report(cases, sequential, concurrent, elapsed)


def _report(
    cases: list[Case],
    sequential: dict[str, dict[str, list[float]]],
    concurrent: dict[str, tuple[list[float], float]],
    elapsed: float,
) -> None:
    print("\n== MCP tool call vs the same REST call: 1 `vaultgate serve` process (2 idle job workers), SQLite ==")
    print(f"  {CALLS} calls of each after {WARM_UP} warm-up, the variants taken in turns in blocks of {BLOCK}, each on")
    print("  its own open keep-alive connection, one call at a time; rate limits on; client on the same machine.")
    print("  An MCP tool call is one HTTP POST: a JSON-RPC `tools/call` request in; the edge's Origin/Host/Accept")
    print("  checks and key lookup; the REST call made in process (same scope, rate limit, handler); a JSON-RPC")
    print(f"  result out, in {LEGACY} framed as one SSE event (text/event-stream), in {MODERN} a plain")
    print("  application/json body. The `mcp` Client rows add the client SDK (JSON-RPC dispatch over memory")
    print("  streams, pydantic parsing, the tool's output-schema check); raw rows are the same POST from httpx.")
    print(f"  Goal (issue 15): MCP p50 <= {GOAL:.0f}x REST p50.")
    for case in cases:
        timings = sequential[case.operation_id]
        baseline = statistics.median(timings[REST])
        print(f"\n  {case.operation_id:<48} {'p50':>8} {'p95':>10}  MCP/REST (p50)")
        for label, values in timings.items():
            _print_row(label, values, None if label == REST else baseline)
    print(
        f"\n  meta.whoami, {CALLERS} callers at once, {CALLS_PER_CALLER} calls each"
        f" {'p50':>9} {'p95':>10}  MCP/REST (p50)"
    )
    baseline = statistics.median(concurrent[REST][0])
    for label, (values, rate) in concurrent.items():
        _print_row(label, values, None if label == REST else baseline, f"  {rate:5.0f} calls/s")
    print(f"\n  (measured in {elapsed:.0f} s)")
