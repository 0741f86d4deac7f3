from enum import StrEnum


class Scope(StrEnum):
    CHATREAD = "chat:read"
    KEYSADMIN = "keys:admin"
    MCPADMIN = "mcp:admin"
    METAREAD = "meta:read"
    TEMPLATESREAD = "templates:read"
    TEMPLATESWRITE = "templates:write"
    VAULTREAD = "vault:read"
    VAULTWRITE = "vault:write"
    WEBHOOKSADMIN = "webhooks:admin"
    WORKFLOWSREAD = "workflows:read"
    WORKFLOWSWRITE = "workflows:write"

    def __str__(self) -> str:
        return str(self.value)
