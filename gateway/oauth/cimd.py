"""Client ID Metadata Documents: a client named by an https URL, whose metadata this server fetches from it.

The fetch is a request an unauthenticated caller makes this server send, so it
is guarded (draft-ietf-oauth-client-id-metadata-document §6): the name is
resolved here and refused if any address it resolves to is not public
(loopback, private, link-local, …), and the connection goes to the vetted
address itself, so a DNS answer that changes between the check and the
connection (rebinding) cannot redirect it; TLS still verifies the name. No
redirect is followed, the whole fetch is bounded in time and size, and the
outcome is cached: good documents for minutes, failures for seconds.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import ssl
import time
import typing
from dataclasses import dataclass

import anyio
import httpcore
import httpx

from gateway.oauth.client_metadata import ClientMetadata, InvalidClientMetadata, parse_client_metadata

# Module constants rather than settings: tests shorten the timeout; nobody else needs to tune them.
FETCH_TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_URL_LENGTH = 2000
GOOD_FOR_SECONDS = 300.0
FAILURE_FOR_SECONDS = 30.0
MAX_CACHED = 1000

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class MetadataDocumentError(Exception):
    """The document at a client_id URL cannot serve as the client's metadata; the message says why."""


@dataclass(frozen=True)
class _Cached:
    until: float
    # The metadata, or why the document failed.
    outcome: ClientMetadata | str


# Shared by every request of the process on purpose (a document is the same for all of them); the event loop
# runs no two of its reads and writes at once, and MAX_CACHED bounds it.
_cache: dict[tuple[str, bool], _Cached] = {}


async def fetch_client_metadata(url: str, *, scopes: list[str], allow_private: bool) -> ClientMetadata:
    """The metadata the document at `url` holds, checked and cached; `MetadataDocumentError` else."""
    key = (url, allow_private)
    cached = _cache.get(key)
    if cached is not None and cached.until > time.monotonic():
        if isinstance(cached.outcome, str):
            raise MetadataDocumentError(cached.outcome)
        return cached.outcome
    try:
        body, max_age = await _fetch(url, allow_private=allow_private)
        metadata = _metadata(url, body, scopes)
    except MetadataDocumentError as exc:
        _remember(key, _Cached(time.monotonic() + FAILURE_FOR_SECONDS, str(exc)))
        raise
    lifetime = GOOD_FOR_SECONDS if max_age is None else min(GOOD_FOR_SECONDS, max_age)
    _remember(key, _Cached(time.monotonic() + lifetime, metadata))
    return metadata


def _remember(key: tuple[str, bool], entry: _Cached) -> None:
    if len(_cache) >= MAX_CACHED:
        now = time.monotonic()
        for stale in [k for k, cached in _cache.items() if cached.until <= now]:
            del _cache[stale]
        while len(_cache) >= MAX_CACHED:
            del _cache[next(iter(_cache))]
    _cache[key] = entry


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """The client_id URL, if it may name a metadata document (https, a path, no fragment or credentials)."""
    if len(url) > MAX_URL_LENGTH:
        raise MetadataDocumentError(f"The client_id URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise MetadataDocumentError(f"The client_id is not a valid URL ({exc}).") from exc
    # Plain http only where the operator allowed private documents: tests and development serve them on loopback.
    schemes = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in schemes:
        raise MetadataDocumentError("A client_id URL must use https.")
    if not parsed.host or parsed.userinfo or parsed.fragment or "#" in url:
        raise MetadataDocumentError("A client_id URL must name a host, with no credentials and no fragment.")
    segments = parsed.path.split("/")
    if parsed.path in ("", "/") or "." in segments or ".." in segments:
        raise MetadataDocumentError("A client_id URL must have a path, without . or .. segments.")
    return parsed


async def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (the name service's order)."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise MetadataDocumentError(f"The client_id host {host} does not resolve ({exc}).") from exc
    addresses: list[Address] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def is_public(address: Address) -> bool:
    # `is_global` alone lets multicast through; an IPv4-mapped IPv6 address is judged as the IPv4 one it holds.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


async def _fetch(url: str, *, allow_private: bool) -> tuple[bytes, float | None]:
    parsed = check_url(url, allow_private=allow_private)
    try:
        with anyio.fail_after(FETCH_TIMEOUT_SECONDS):
            addresses = await resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))
            refused = [str(address) for address in addresses if not is_public(address)]
            if refused and not allow_private:
                raise MetadataDocumentError(
                    f"The client_id host {parsed.host} resolves to {', '.join(refused)}, which is not a public "
                    "address: metadata documents are fetched from public addresses only."
                )
            if not addresses:
                raise MetadataDocumentError(f"The client_id host {parsed.host} has no address.")
            async with (
                httpx.AsyncClient(transport=_PinnedTransport(addresses), follow_redirects=False) as client,
                client.stream("GET", url, headers={"Accept": "application/json"}) as response,
            ):
                _check_response(response)
                body = await _read_bounded(response)
                return body, _max_age(response.headers.get("cache-control", ""))
    except TimeoutError as exc:
        raise MetadataDocumentError(
            f"The metadata document at the client_id URL did not arrive within {FETCH_TIMEOUT_SECONDS:g} s."
        ) from exc
    except httpx.HTTPError as exc:
        raise MetadataDocumentError(
            f"The metadata document at the client_id URL could not be fetched ({exc})."
        ) from exc


def _check_response(response: httpx.Response) -> None:
    if response.is_redirect:
        raise MetadataDocumentError(
            f"The client_id URL answered {response.status_code} (a redirect): metadata documents are not followed "
            "through redirects."
        )
    if response.status_code != 200:
        raise MetadataDocumentError(f"The client_id URL answered HTTP {response.status_code}.")
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise MetadataDocumentError(
            f"The client_id URL answered {media_type or 'no content type'}, not application/json."
        )


async def _read_bounded(response: httpx.Response) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        raise MetadataDocumentError(f"The metadata document is larger than {MAX_DOCUMENT_BYTES // 1024} KiB.")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_DOCUMENT_BYTES:
            raise MetadataDocumentError(f"The metadata document is larger than {MAX_DOCUMENT_BYTES // 1024} KiB.")
    return bytes(body)


def _max_age(cache_control: str) -> float | None:
    directives = cache_control.lower()
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    match = _MAX_AGE.search(directives)
    return float(match.group(1)) if match else None


def _metadata(url: str, body: bytes, scopes: list[str]) -> ClientMetadata:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise MetadataDocumentError("The metadata document is not valid JSON.") from exc
    if not isinstance(document, dict):
        raise MetadataDocumentError("The metadata document is not a JSON object.")
    if document.get("client_id") != url:
        raise MetadataDocumentError("The metadata document's client_id is not the URL it was fetched from.")
    # A document anyone can read holds no shared secret: its client is public and proves itself by PKCE.
    if "client_secret" in document or document.get("token_endpoint_auth_method", "none") != "none":
        raise MetadataDocumentError(
            "A metadata document's client is public: token_endpoint_auth_method must be none, with no client_secret."
        )
    try:
        return parse_client_metadata(document, scopes=scopes, default_auth_method="none")
    except InvalidClientMetadata as exc:
        raise MetadataDocumentError(f"The metadata document is invalid: {exc.description}") from exc


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the vetted addresses, whatever name the connection is for (no second lookup)."""

    def __init__(self, addresses: list[Address]) -> None:
        self._addresses = addresses
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: httpcore.ConnectError | None = None
        for address in self._addresses:
            try:
                return await self._backend.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a pool that connects to the vetted addresses; TLS still checks the URL's name."""

    def __init__(self, addresses: list[Address]) -> None:
        # SSL_CERT_FILE is honoured, so a test (or an operator) can trust its own CA for an https document.
        context: ssl.SSLContext = httpx.create_ssl_context()
        super().__init__(verify=context)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context, max_connections=1, network_backend=_PinnedBackend(addresses)
        )
