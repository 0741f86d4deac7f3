"""Every kind of job this gateway runs, by the name stored in `jobs.kind`: registered by whoever starts workers.

`jobs/` knows the state machine, not the capabilities; the app factory and the
`vaultgate worker` command hand it these.
"""

from __future__ import annotations

from fills.job import TEMPLATE_FILL
from jobs.runtime import JobKind
from vault.ingest import INGEST_DOCUMENT
from workflows.runner import WORKFLOW_RUN

JOB_KINDS: dict[str, JobKind] = {kind.name: kind for kind in (INGEST_DOCUMENT, WORKFLOW_RUN, TEMPLATE_FILL)}
