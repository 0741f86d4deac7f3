"""OAuth clients: registered ones (RFC 7591) and Client ID Metadata Documents (an https client_id)."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
import weakref
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx
from anyio import to_thread

from gateway.oauth import cimd
from gateway.oauth.client_metadata import (
    LOOPBACK_HOSTS,
    MAX_NAME_LENGTH,
    ClientMetadata,
    is_acceptable_redirect,
    is_loopback_redirect,
    replace_unprintable,
)
from gateway.oauth.resources import OAuthServer
from gateway.rate_limits import Bucket, Buckets, Policy, buckets_for
from storage.database import session_scope
from storage.oauth_clients import live_client

# What a grant row holds of a client_id (OAuthGrant.client_id).
MAX_CLIENT_ID_LENGTH = 2048
# Documents one client address may make this server fetch (lookups the cache answers are free): a client
# fetches its own once per install; more is someone using this server to send requests.
FETCHES_PER_MINUTE_PER_ADDRESS = 10
# For lookups whose caller is not named: shared by all of them, so larger.
UNATTRIBUTED_FETCHES_PER_MINUTE = 60


class ClientError(Exception):
    """`invalid_client` (unknown client, unreachable or invalid metadata document): `description` says which.

    Or `temporarily_unavailable` (a document would have to be fetched, and this server is fetching all it may
    now, or this caller's last fetch is still under way, or it fetched its share): `retry_after` seconds, then
    the same request may succeed.
    """

    def __init__(self, description: str, error: str = "invalid_client", retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.retry_after = retry_after


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
            client_name=metadata.get("client_name") or _name_from_id(client_id),
            redirect_uris=tuple(metadata["redirect_uris"]),
            token_endpoint_auth_method=metadata["token_endpoint_auth_method"],
            secret_hash=secret_hash,
            is_metadata_document=is_metadata_document,
        )

    def admits_redirect(self, redirect_uri: str) -> bool:
        """Exact match with a registered redirect URI, except loopback ones, which match on any port (RFC 8252 §7.3)."""
        # The rules registration applies, again: a loopback URI with another port was never checked, and a
        # registration older than a rule was not checked by it.
        if not is_acceptable_redirect(redirect_uri):
            return False
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


def _name_from_id(client_id: str) -> str:
    """What to call a client that gave no name: its id, or a URL's host and path, cut to fit a grant's row.

    A URL's path may hold what a `client_name` may not (a bidirectional override, say): it is replaced.
    """
    if client_id.startswith(("https://", "http://")):
        try:
            # The host as a browser resolves it (a lookalike shows as `xn--…`), as the page's "published by" does.
            url = httpx.URL(client_id)
            host = cimd.host_of(url) + (f":{url.port}" if url.port else "")
        except (httpx.InvalidURL, UnicodeError, ValueError):
            host = urlsplit(client_id).netloc
        client_id = host + urlsplit(client_id).path
    name = replace_unprintable(client_id)
    return name if len(name) <= MAX_NAME_LENGTH else name[: MAX_NAME_LENGTH - 1] + "…"


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


async def find_client(server: OAuthServer, client_id: str, *, address: str | None = None) -> Client:
    """The client a `client_id` names: registered here, or fetched (SSRF-guarded, bounded, cached) from its URL.

    `address` is the caller's (`rate_limits.client_address`): the documents it makes this server fetch are
    rationed per address; without one, all unnamed callers share one ration. Raises `ClientError` when there
    is no such client (or the document cannot be fetched or is invalid, or fetching must wait).
    """
    # Both would reach the database as they are (a grant's row), which refuses NUL and ids past its column.
    if len(client_id) > MAX_CLIENT_ID_LENGTH or any(unicodedata.category(char) in ("Cc", "Cs") for char in client_id):
        raise ClientError("The client_id is too long or holds control characters.")
    if client_id.startswith(("https://", "http://")):
        metadata = await _fetched_metadata(server, client_id, address)
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


async def _fetched_metadata(server: OAuthServer, client_id: str, address: str | None) -> ClientMetadata:
    settings = server.settings
    try:
        return await cimd.fetch_client_metadata(
            client_id,
            scopes=server.read_scopes,
            allow_private=settings.oauth_allow_private_cimd,
            # A document on this server would make it fetch from itself, each fetch a request asking for the next
            # (the authorization endpoint is itself a URL that names a client_id).
            this_server=cimd.ThisServer(server.issuer, listens_on=(settings.host, settings.port)),
            caller=address,
            before_fetch=partial(_ration_fetch, server, address),
        )
    except cimd.MetadataDocumentError as exc:
        raise ClientError(str(exc)) from exc
    except cimd.FetchesBusy as exc:
        raise ClientError(f"{exc} Retry in a few seconds.", "temporarily_unavailable", retry_after=1) from exc


# One set of buckets per server (the app's), kept only as long as it is.
_fetch_buckets: weakref.WeakKeyDictionary[OAuthServer, Buckets] = weakref.WeakKeyDictionary()


async def _ration_fetch(server: OAuthServer, address: str | None) -> None:
    buckets = _fetch_buckets.get(server)
    if buckets is None:
        buckets = _fetch_buckets[server] = buckets_for(server.settings.redis_url)
    if address is None:
        bucket, per_minute = Bucket("unattributed", "oauth-metadata-fetch"), UNATTRIBUTED_FETCHES_PER_MINUTE
    else:
        bucket, per_minute = Bucket("address", f"oauth-metadata-fetch:{address}"), FETCHES_PER_MINUTE_PER_ADDRESS
    draw = await buckets.draw([bucket], Policy("oauth_metadata_fetch", per_minute, per_minute / 60), 1)
    if not draw.allowed:
        raise ClientError(
            f"Too many client metadata documents to fetch{'' if address is None else ' for this address'}; "
            f"retry in {draw.retry_after} s.",
            "temporarily_unavailable",
            retry_after=draw.retry_after,
        )
