"""The OAuth 2.1 authorization server (SPEC §5): read-only tokens for third-party apps and MCP clients."""
