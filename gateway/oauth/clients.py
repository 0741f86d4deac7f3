"""OAuth clients: registered ones (RFC 7591) and Client ID Metadata Documents (an https client_id)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from anyio import to_thread

from gateway.oauth import cimd
from gateway.oauth.client_metadata import LOOPBACK_HOSTS, ClientMetadata, is_loopback_redirect
from gateway.oauth.resources import OAuthServer
from storage.database import session_scope
from storage.oauth_clients import live_client


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

    @classmethod
    def of(
        cls, client_id: str, metadata: dict[str, Any], *, secret_hash: str | None, is_metadata_document: bool
    ) -> Client:
        return cls(
            client_id=client_id,
            client_name=metadata.get("client_name") or client_id,
            redirect_uris=tuple(metadata["redirect_uris"]),
            token_endpoint_auth_method=metadata["token_endpoint_auth_method"],
            secret_hash=secret_hash,
            is_metadata_document=is_metadata_document,
        )

    def admits_redirect(self, redirect_uri: str) -> bool:
        """Exact match with a registered redirect URI, except loopback ones, which match on any port (RFC 8252 §7.3)."""
        if redirect_uri in self.redirect_uris:
            return True
        if not is_loopback_redirect(redirect_uri):
            return False
        asked = _without_port(redirect_uri)
        return asked is not None and any(
            is_loopback_redirect(registered) and _without_port(registered) == asked for registered in self.redirect_uris
        )

    def authenticates(self, client_secret: str | None) -> bool:
        """Whether the token/revocation request's credentials suit this client (constant-time secret check)."""
        if self.token_endpoint_auth_method == "none":
            # A public client that sends a secret is confused about what it is: refuse rather than ignore.
            return not client_secret
        if not client_secret or self.secret_hash is None:
            return False
        return hmac.compare_digest(hashlib.sha256(client_secret.encode()).hexdigest(), self.secret_hash)


def _without_port(uri: str) -> tuple[str, str, str, str] | None:
    """What must match between loopback redirect URIs: all but the port (None for a malformed or odd one)."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (a malformed port raises)
    except ValueError:
        return None
    if parts.username is not None or parts.fragment or parts.hostname not in LOOPBACK_HOSTS:
        return None
    return (parts.scheme, parts.hostname, parts.path, parts.query)


async def find_client(server: OAuthServer, client_id: str) -> Client:
    """The client a `client_id` names: registered here, or fetched (SSRF-guarded, bounded, cached) from its URL.

    Raises `ClientError` when there is none (or the document cannot be fetched or is invalid).
    """
    if client_id.startswith(("https://", "http://")):
        try:
            metadata: ClientMetadata = await cimd.fetch_client_metadata(
                client_id, scopes=server.read_scopes, allow_private=server.settings.oauth_allow_private_cimd
            )
        except cimd.MetadataDocumentError as exc:
            raise ClientError(str(exc)) from exc
        return Client.of(client_id, metadata.document(), secret_hash=None, is_metadata_document=True)

    def registered() -> Client | None:
        with session_scope(server.settings.database_url) as session:
            record = live_client(session, client_id)
            if record is None:
                return None
            return Client.of(
                record.client_id, record.client_metadata, secret_hash=record.secret_hash, is_metadata_document=False
            )

    client = await to_thread.run_sync(registered)
    if client is None:
        raise ClientError("No client is registered with this client_id (or it was deleted).")
    return client
