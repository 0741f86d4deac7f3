"""The issuer, the resources tokens are minted for (RFC 8707), and the scopes a token may hold."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.secrets import InstanceKey
from core.settings import Settings
from gateway.agents.edge import PATH as MCP_PATH
from gateway.contract import Contract
from gateway.oauth.tokens import AccessTokens, SigningKeys
from gateway.signed_urls import public_base_url

# Asked for by clients that want a refresh token; every grant gets one, so it is accepted and not recorded.
OFFLINE_ACCESS = "offline_access"


@dataclass(frozen=True)
class Resources:
    """`<issuer>/api/v2`, `<issuer>/mcp` and each managed server's `<issuer>/mcp/{server_id}`.

    A token for `<issuer>/mcp` also opens every `/mcp/{server_id}` (the hierarchical parent); a token for one
    server's resource opens only that server.
    """

    issuer: str
    api_path: str

    @property
    def api(self) -> str:
        return f"{self.issuer}{self.api_path}"

    @property
    def mcp(self) -> str:
        return f"{self.issuer}{MCP_PATH}"

    def server(self, server_id: uuid.UUID) -> str:
        return f"{self.mcp}/{server_id}"

    def canonical(self, resource: str) -> str | None:
        """The resource a `resource` parameter names, or None when it names none of ours (`invalid_target`)."""
        # One trailing slash is the same resource (`https://host/mcp/` is `https://host/mcp`).
        candidate = resource.removesuffix("/")
        if candidate in (self.api, self.mcp):
            return candidate
        prefix = f"{self.mcp}/"
        if candidate.startswith(prefix):
            try:
                server_id = uuid.UUID(candidate[len(prefix) :])
            except ValueError:
                return None
            return self.server(server_id) if candidate == self.server(server_id) else None
        return None

    def audiences_for_rest(self) -> tuple[str, ...]:
        return (self.api,)

    def audiences_for_mcp(self, server_id: uuid.UUID | None) -> tuple[str, ...]:
        return (self.mcp,) if server_id is None else (self.mcp, self.server(server_id))


class OAuthServer:
    """What the authorization server's endpoints and the resource edges share, one per app."""

    def __init__(self, settings: Settings, contract: Contract, instance_key: InstanceKey) -> None:
        self.settings = settings
        self.contract = contract
        self.issuer = public_base_url(settings)
        self.resources = Resources(self.issuer, contract.base_path)
        self.keys = SigningKeys(settings, instance_key)
        self.tokens = AccessTokens(settings, self.issuer, self.keys)
        # Tokens only ever hold read scopes (spec §2, §5).
        self.read_scopes = [scope for scope in contract.scopes if scope.endswith(":read")]
