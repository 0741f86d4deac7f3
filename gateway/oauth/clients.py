"""(being built) OAuth clients: registered ones (RFC 7591) and Client ID Metadata Documents (an https client_id)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.oauth.resources import OAuthServer


class ClientError(Exception):
    """`invalid_client` (unknown client, unreachable or invalid metadata document): `description` says which."""

    def __init__(self, description: str, error: str = "invalid_client") -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Client:
    client_id: str
    # What the consent page shows: the registered/metadata `client_name`, else the client_id.
    client_name: str
    redirect_uris: tuple[str, ...]
    # "none" (public client, PKCE only) or "client_secret_post".
    token_endpoint_auth_method: str
    # SHA-256 of the client secret (`client_secret_post` clients registered here); None otherwise.
    secret_hash: str | None
    # True for a Client ID Metadata Document client (client_id is its https URL).
    is_metadata_document: bool

    def admits_redirect(self, redirect_uri: str) -> bool:
        """Exact match with a registered redirect URI, except loopback ones, which match on any port (RFC 8252 §7.3)."""
        raise NotImplementedError

    def authenticates(self, client_secret: str | None) -> bool:
        """Whether the token/revocation request's credentials suit this client (constant-time secret check)."""
        raise NotImplementedError


async def find_client(server: OAuthServer, client_id: str) -> Client:
    """The client a `client_id` names: registered here, or fetched (SSRF-guarded, bounded, cached) from its URL.

    Raises `ClientError` when there is none (or the document cannot be fetched or is invalid).
    """
    raise NotImplementedError
