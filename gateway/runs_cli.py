"""`vaultgate runs …`: a user's view of workflow runs, over the public API as a script would call it."""

from __future__ import annotations

import json
import sys
import time
import uuid
from contextlib import ExitStack
from typing import Any

import click
import httpx

from gateway.contract import load_contract
from storage.demo import DEMO_KEY_FILE
from storage.models import TERMINAL_STATUSES, JobStatus


class Api:
    """The public API, as a user's script would call it: problem+json errors become readable messages."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {api_key}"}, timeout=30
        )

    def call(self, method: str, operation_id: str, path_parameters: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        """Call the operation `operation_id` names; its path comes from the contract."""
        path = load_contract().url_for(operation_id, **path_parameters)
        while True:
            response = self.http.request(method, path, **kwargs)
            if response.status_code != 429:
                break
            # Rate limited: the bucket refills; wait as long as the server says, then try again.
            time.sleep(float(response.headers.get("Retry-After", "1")))
        if response.is_error:
            try:
                problem = response.json()
            except ValueError:
                raise click.ClickException(f"{response.status_code}: {response.text[:500]}") from None
            lines = [f"{problem.get('status')} {problem.get('code')}: {problem.get('detail')}"]
            lines += [
                f"  {e.get('pointer') or e.get('parameter')}: {e.get('detail')}" for e in problem.get("errors", [])
            ]
            raise click.ClickException("\n".join(lines))
        body: dict[str, Any] = response.json()
        return body


def _api_key(given: str | None) -> str:
    if given:
        return given
    if DEMO_KEY_FILE.exists():
        return DEMO_KEY_FILE.read_text().strip()
    raise click.UsageError("pass --api-key or set VAULTGATE_API_KEY (`make serve` writes a demo key to var/demo-key)")


@click.group("runs")
@click.option("--url", envvar="VAULTGATE_URL", default="http://127.0.0.1:8080", show_default=True)
@click.option("--api-key", envvar="VAULTGATE_API_KEY", default=None, help="Default: the demo key in var/demo-key.")
@click.pass_context
def runs_group(context: click.Context, url: str, api_key: str | None) -> None:
    """Start and watch workflow runs through the API."""
    api = Api(url, _api_key(api_key))
    context.call_on_close(api.http.close)
    context.obj = api


def _typed(spec: dict[str, Any], text: str) -> Any:
    """A command-line value as the input's declared type wants it."""
    try:
        match spec["type"]:
            case "integer":
                return int(text)
            case "number":
                return float(text)
            case "boolean":
                return {"true": True, "false": False}[text.lower()]
            case "document_ids":
                return [part.strip() for part in text.split(",") if part.strip()]
    except (ValueError, KeyError):
        return text  # the API names what is wrong with it
    return text


def _inputs(api: Api, workflow_id: str, pairs: tuple[str, ...]) -> dict[str, Any]:
    declared = {spec["name"]: spec for spec in api.call("GET", "workflows.get", {"workflow_id": workflow_id})["inputs"]}
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not name=value", param_hint="--input")
        values[name] = _typed(declared[name], text) if name in declared else text
    return values


@runs_group.command("start")
@click.argument("workflow_id")
@click.option("--input", "pairs", multiple=True, metavar="NAME=VALUE", help="A declared input; repeat.")
@click.option("--project", "project_id", default=None, help="The project to run in.")
@click.option("--idempotency-key", default=None, help="Default: a new random key (safe to retry by hand).")
@click.option("--wait", "then_wait", is_flag=True, help="Then wait for the run to finish.")
@click.pass_obj
def start_command(
    api: Api,
    workflow_id: str,
    pairs: tuple[str, ...],
    project_id: str | None,
    idempotency_key: str | None,
    then_wait: bool,
) -> None:
    """Start a run and print its id."""
    body: dict[str, Any] = {"inputs": _inputs(api, workflow_id, pairs)}
    if project_id:
        body["project_id"] = project_id
    key = idempotency_key or str(uuid.uuid4())
    started = api.call(
        "POST", "workflows.run", {"workflow_id": workflow_id}, json=body, headers={"Idempotency-Key": key}
    )
    click.echo(started["run_id"])
    if then_wait:
        sys.exit(_wait(api, started["run_id"], 3.0, 900.0))


@runs_group.command("status")
@click.argument("run_id")
@click.pass_obj
def status_command(api: Api, run_id: str) -> None:
    """Print a run's status as JSON."""
    click.echo(json.dumps(api.call("GET", "workflows.get_run_status", {"run_id": run_id}), indent=2))


def _wait(api: Api, run_id: str, interval: float, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    last: tuple[str, int, str] | None = None
    with ExitStack() as stack:
        # A bar on a terminal; one line per change otherwise (logs, CI).
        bar = None
        if sys.stderr.isatty():
            bar = stack.enter_context(click.progressbar(length=100, label="pending", file=sys.stderr, show_eta=False))
        while True:
            run = api.call("GET", "workflows.get_run_status", {"run_id": run_id})
            seen = (run["status"], run["progress"], run["stage"] or "")
            if bar is not None:
                bar.label = f"{run['status']}: {run['stage'] or ''}"
                bar.update(run["progress"] - bar.pos)
            elif seen != last:
                click.echo(f"{seen[0]} {seen[1]:3d}% {seen[2]}", err=True)
            last = seen
            if run["status"] in TERMINAL_STATUSES or time.monotonic() >= deadline:
                break
            time.sleep(interval)
    click.echo(json.dumps(run, indent=2))
    if run["status"] not in TERMINAL_STATUSES:
        click.echo(f"still {run['status']} after {timeout:g} s", err=True)
        return 2
    return 0 if run["status"] == JobStatus.completed else 1


@runs_group.command("wait")
@click.argument("run_id")
@click.option(
    "--interval", type=click.FloatRange(2, 5), default=3.0, show_default=True, help="Seconds between polls (2-5)."
)
@click.option("--timeout", type=click.FloatRange(1), default=900.0, show_default=True, help="Give up after this long.")
@click.pass_obj
def wait_command(api: Api, run_id: str, interval: float, timeout: float) -> None:
    """Poll a run until it ends, showing its stage and progress; exit 0 if it completed, 1 if not, 2 on timeout."""
    sys.exit(_wait(api, run_id, interval, timeout))
