"""Every kind of job the workers know, by the name stored in `jobs.kind`."""

from __future__ import annotations

from jobs.runtime import JobKind
from vault.ingest import INGEST_DOCUMENT

KINDS: dict[str, JobKind] = {kind.name: kind for kind in (INGEST_DOCUMENT,)}
