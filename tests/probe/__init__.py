"""Handlers for tests/probe/openapi.yaml: a tiny contract exercising every error path of the gateway."""
