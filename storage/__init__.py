"""Persistence: models, tenant-scoped queries and migrations. Knows nothing about HTTP."""
