"""`wait()` for the objects a job produces: documents being ingested, workflow runs and template fills."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import overload

from vaultgate_client import AuthenticatedClient
from vaultgate_client.api.templates import templates_get_fill_status
from vaultgate_client.api.vault import vault_get_document
from vaultgate_client.api.workflows import workflows_get_run_status
from vaultgate_client.models import (
    Document,
    DocumentStatus,
    JobStatus,
    TemplateFill,
    TemplateFillStarted,
    WorkflowRun,
    WorkflowRunStarted,
)
from vaultgate_client.models.problem import Problem as ProblemBody

SETTLED_DOCUMENT = frozenset({DocumentStatus.READY, DocumentStatus.FAILED})
TERMINAL_JOB = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})


@overload
def wait(client: AuthenticatedClient, resource: Document, *, timeout: float = ...) -> Document: ...
@overload
def wait(
    client: AuthenticatedClient, resource: WorkflowRun | WorkflowRunStarted, *, timeout: float = ...
) -> WorkflowRun: ...
@overload
def wait(
    client: AuthenticatedClient, resource: TemplateFill | TemplateFillStarted, *, timeout: float = ...
) -> TemplateFill: ...
def wait(
    client: AuthenticatedClient,
    resource: Document | WorkflowRun | WorkflowRunStarted | TemplateFill | TemplateFillStarted,
    *,
    timeout: float = 600.0,
) -> Document | WorkflowRun | TemplateFill:
    """Poll until the document is `ready` or `failed`, or the run or fill has ended; answer its last state.

    Polls start at 0.25 s, since most ingestions end within a second, and grow by half each time up to the 5 s
    the contract asks of long jobs. A failed or cancelled job is an answer, not an exception. `TimeoutError` after `timeout` seconds.
    """
    poll: Callable[[], Document | WorkflowRun | TemplateFill | ProblemBody | None]
    if isinstance(resource, Document):
        poll = partial(vault_get_document.sync, resource.id, client=client)
    elif isinstance(resource, WorkflowRun | WorkflowRunStarted):
        poll = partial(workflows_get_run_status.sync, resource.run_id, client=client)
    else:
        poll = partial(templates_get_fill_status.sync, resource.job_id, client=client)
    deadline, interval = time.monotonic() + timeout, 0.25
    while True:
        state = poll()
        if isinstance(state, Document) and state.status in SETTLED_DOCUMENT:
            return state
        if isinstance(state, WorkflowRun | TemplateFill) and state.status in TERMINAL_JOB:
            return state
        if not isinstance(state, Document | WorkflowRun | TemplateFill):
            raise TypeError(f"polling answered {state!r}")
        if time.monotonic() + interval > deadline:
            raise TimeoutError(f"still {state.status} after {timeout} s")
        time.sleep(interval)
        interval = min(interval * 1.5, 5.0)
