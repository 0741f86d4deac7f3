from enum import StrEnum


class PrincipalAuthKind(StrEnum):
    API_KEY = "api_key"
    MCP_SERVER_TOKEN = "mcp_server_token"
    OAUTH = "oauth"

    def __str__(self) -> str:
        return str(self.value)
