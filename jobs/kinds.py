"""Every kind of job the workers know, by the name stored in `jobs.kind`."""

from __future__ import annotations

from fills.job import TEMPLATE_FILL
from jobs.runtime import JobKind
from vault.ingest import INGEST_DOCUMENT
from workflows.runner import WORKFLOW_RUN

KINDS: dict[str, JobKind] = {kind.name: kind for kind in (INGEST_DOCUMENT, WORKFLOW_RUN, TEMPLATE_FILL)}
