"""The MCP edge: the contract's operations as tools for AI agents, each call a REST call in process."""
