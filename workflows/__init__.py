"""Workflows: YAML-defined multi-step automations over the vault, run as durable jobs."""
