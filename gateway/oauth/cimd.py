"""Client ID Metadata Documents: a client named by an https URL, whose metadata this server fetches from it.

The fetch is a request an unauthenticated caller makes this server send, so it
is guarded (draft-ietf-oauth-client-id-metadata-document §6): the name is
resolved here and refused if any address it resolves to is not public
(loopback, private, link-local, …), and the connection goes to the vetted
address itself, so a DNS answer that changes between the check and the
connection (rebinding) cannot redirect it; TLS still verifies the name. No
redirect is followed, the whole fetch is bounded in time and size, and the
outcome is cached: good documents for minutes, failures for seconds (a host
that cannot be reached, for every path on it). Fetches are bounded too: one
at a time per URL (concurrent lookups share it), a few at a time per process,
and the caller may ration them (`before_fetch`).

Why a fetch failed (DNS, TLS, the answer's status) is logged, not told: the
caller could otherwise probe any host and port through this server. It is
told only what the document's author controls: a document that is not JSON,
too large, or names another client.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
import ssl
import time
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import anyio
import httpcore
import httpx
from anyio import to_thread

from gateway.oauth.client_metadata import ClientMetadata, InvalidClientMetadata, decode_json, parse_client_metadata

logger = logging.getLogger(__name__)

# Module constants rather than settings: tests shorten the timeout; nobody else needs to tune them.
FETCH_TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_URL_LENGTH = 2000
GOOD_FOR_SECONDS = 300.0
FAILURE_FOR_SECONDS = 30.0
MAX_CACHED = 1000
# Past this many fetches under way, a lookup that needs one is refused at once (`FetchesBusy`) rather than
# queued: each may last FETCH_TIMEOUT_SECONDS, and a queue would hold every request behind it that long.
MAX_CONCURRENT_FETCHES = 4

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
# No trailing dot: `host.` would be another spelling of a host, past the check that it is not this server.
_HOST_NAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class MetadataDocumentError(Exception):
    """The document at a client_id URL cannot serve as the client's metadata; the message, safe to show, says why."""


class FetchesBusy(Exception):
    """This process is fetching as many documents as it may at once; a retry in a moment may succeed."""


class _Unreachable(Exception):
    """The document could not be fetched; why is for the log only. `host_wide`: any path on the host would fail."""

    def __init__(self, detail: str, *, host_wide: bool) -> None:
        super().__init__(detail)
        self.host_wide = host_wide


@dataclass(frozen=True)
class _Cached:
    until: float
    # The metadata, or why the document failed.
    outcome: ClientMetadata | str


@dataclass
class _Flight:
    """A fetch under way, which lookups of the same URL wait for instead of fetching again."""

    done: anyio.Event = field(default_factory=anyio.Event)
    # Unset when the fetching lookup was cancelled: a waiter then fetches itself.
    outcome: ClientMetadata | str | None = None


# Shared by every request of the process on purpose (a document is the same for all of them); the event loop
# runs no two of their reads and writes at once (no await between a check and the write it decides), and
# MAX_CACHED bounds the caches.
_cache: dict[tuple[str, bool], _Cached] = {}
# Per host, port and allow_private: hosts that could not be reached, whatever the path (a dead host costs one
# fetch, not one per path). Never a failure one path can cause, or any URL could shut a good host's document out.
_host_failures: dict[tuple[str, int, bool], _Cached] = {}
_flights: dict[tuple[str, bool], _Flight] = {}
_fetching = 0
# Loading the CA bundle takes tens of milliseconds: once per process (per trust setting, which tests change).
_tls_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


async def fetch_client_metadata(
    url: str,
    *,
    scopes: list[str],
    allow_private: bool,
    before_fetch: Callable[[], Awaitable[None]] | None = None,
) -> ClientMetadata:
    """The metadata the document at `url` holds, checked and cached; `MetadataDocumentError` else.

    `before_fetch` runs when this lookup has to fetch (nothing cached, no fetch of the URL under way) and may
    refuse by raising. `FetchesBusy` when the process fetches all it may already.
    """
    parsed = check_url(url, allow_private=allow_private)
    key = (url, allow_private)
    host = (host_of(parsed), _port(parsed), allow_private)
    allowed = before_fetch is None
    while True:
        remembered = _remembered(key, host)
        if remembered is not None:
            return _settled(remembered)
        flight = _flights.get(key)
        if flight is not None:
            await flight.done.wait()
            if flight.outcome is not None:
                return _settled(flight.outcome)
            continue
        if not allowed and before_fetch is not None:
            await before_fetch()
            allowed = True
            continue  # the world may have moved while it awaited
        if _fetching >= MAX_CONCURRENT_FETCHES:
            raise FetchesBusy
        return _settled(await _fetch_once(url, parsed, key, host, scopes))


def _remembered(key: tuple[str, bool], host: tuple[str, int, bool]) -> ClientMetadata | str | None:
    now = time.monotonic()
    for cached in (_cache.get(key), _host_failures.get(host)):
        if cached is not None and cached.until > now:
            return cached.outcome
    return None


def _settled(outcome: ClientMetadata | str) -> ClientMetadata:
    if isinstance(outcome, str):
        raise MetadataDocumentError(outcome)
    return outcome


async def _fetch_once(
    url: str, parsed: httpx.URL, key: tuple[str, bool], host: tuple[str, int, bool], scopes: list[str]
) -> ClientMetadata | str:
    global _fetching
    flight = _Flight()
    _flights[key], _fetching = flight, _fetching + 1
    try:
        flight.outcome = await _fetch_and_remember(url, parsed, key, host, scopes)
        return flight.outcome
    finally:
        _fetching -= 1
        del _flights[key]
        flight.done.set()


async def _fetch_and_remember(
    url: str, parsed: httpx.URL, key: tuple[str, bool], host: tuple[str, int, bool], scopes: list[str]
) -> ClientMetadata | str:
    try:
        body, max_age = await _fetch(url, parsed, allow_private=key[1])
        metadata = _metadata(url, body, scopes)
    except _Unreachable as exc:
        logger.info("The client metadata document %s could not be fetched: %s", url, exc)
        failure = _Cached(
            time.monotonic() + FAILURE_FOR_SECONDS,
            f"The client's metadata document at {host[0]} could not be fetched or is not a valid client "
            "metadata document.",
        )
        if exc.host_wide:
            _remember(_host_failures, host, failure)
        else:
            _remember(_cache, key, failure)
        return failure.outcome
    except MetadataDocumentError as exc:
        _remember(_cache, key, _Cached(time.monotonic() + FAILURE_FOR_SECONDS, str(exc)))
        return str(exc)
    lifetime = GOOD_FOR_SECONDS if max_age is None else min(GOOD_FOR_SECONDS, max_age)
    _remember(_cache, key, _Cached(time.monotonic() + lifetime, metadata))
    return metadata


_Key = typing.TypeVar("_Key")


def _remember(cache: dict[_Key, _Cached], key: _Key, entry: _Cached) -> None:
    if len(cache) >= MAX_CACHED:
        now = time.monotonic()
        for stale in [k for k, cached in cache.items() if cached.until <= now]:
            del cache[stale]
        while len(cache) >= MAX_CACHED:
            del cache[next(iter(cache))]
    cache[key] = entry


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """The client_id URL, if it may name a metadata document (https, a path, no fragment or credentials)."""
    if len(url) > MAX_URL_LENGTH:
        raise MetadataDocumentError(f"The client_id URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parsed = httpx.URL(url)
        # Reading the host decodes an IDNA name, which fails for a malformed one (`xn--zz`).
        parsed.host  # noqa: B018
        host, port = host_of(parsed), parsed.port
        # The path as written: httpx resolves `a/../b`, and the draft refuses such a client_id rather than reading it.
        segments = [unquote(segment) for segment in urlsplit(url).path.split("/")]
    except (httpx.InvalidURL, ValueError) as exc:  # ValueError: UnicodeError and idna's errors included
        raise MetadataDocumentError("The client_id is not a valid URL.") from exc
    # Plain http only where the operator allowed private documents: tests and development serve them on loopback.
    schemes = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in schemes:
        raise MetadataDocumentError("A client_id URL must use https.")
    if not host or parsed.userinfo or parsed.fragment or "#" in url:
        raise MetadataDocumentError("A client_id URL must name a host, with no credentials and no fragment.")
    if not (_is_address(host) or _HOST_NAME.fullmatch(host)) or (port is not None and not 0 < port < 65536):
        raise MetadataDocumentError("The client_id URL's host or port is not valid.")
    if parsed.path in ("", "/") or "." in segments or ".." in segments:
        raise MetadataDocumentError("A client_id URL must have a path, without . or .. segments.")
    return parsed


def host_of(parsed: httpx.URL) -> str:
    """The host as sent on the wire: ASCII (an IDNA name encoded), lower case, an IPv6 address unbracketed."""
    return parsed.raw_host.decode("ascii").lower()


def _port(parsed: httpx.URL) -> int:
    return parsed.port or (443 if parsed.scheme == "https" else 80)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (the name service's order)."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:  # ValueError: a name the IDNA codec refuses
        raise _Unreachable(f"{host} does not resolve ({exc})", host_wide=True) from exc
    addresses: list[Address] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def is_public(address: Address) -> bool:
    # `is_global` alone lets multicast through; an address that carries an IPv4 one (IPv4-mapped, 6to4) is
    # judged as the IPv4 one it holds. Site-local (fec0::/10, deprecated) and Teredo (2001::/32) addresses
    # reach networks this check cannot see into: never public here.
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_site_local or address.teredo is not None:
            return False
        address = address.ipv4_mapped or address.sixtofour or address
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


async def _tls_context() -> ssl.SSLContext:
    # httpx reads SSL_CERT_FILE and SSL_CERT_DIR, so a test (or an operator) can trust its own CA.
    trust = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    context = _tls_contexts.get(trust)
    if context is None:
        # Off the event loop: loading the CA bundle would stall every other request meanwhile.
        context = _tls_contexts[trust] = await to_thread.run_sync(httpx.create_ssl_context)
    return context


async def _fetch(url: str, parsed: httpx.URL, *, allow_private: bool) -> tuple[bytes, float | None]:
    host = host_of(parsed)
    backend: _PinnedBackend | None = None
    try:
        with anyio.fail_after(FETCH_TIMEOUT_SECONDS):
            addresses = await resolve(host, _port(parsed))
            refused = [str(address) for address in addresses if not is_public(address)]
            if refused and not allow_private:
                raise _Unreachable(f"{host} resolves to {', '.join(refused)}, not a public address", host_wide=True)
            if not addresses:
                raise _Unreachable(f"{host} has no address", host_wide=True)
            backend = _PinnedBackend(addresses)
            async with (
                httpx.AsyncClient(
                    transport=_PinnedTransport(backend, await _tls_context()), follow_redirects=False
                ) as client,
                client.stream("GET", url, headers={"Accept": "application/json"}) as response,
            ):
                _check_response(response)
                body = await _read_bounded(response)
                return body, _max_age(response.headers.get("cache-control", ""))
    except TimeoutError as exc:
        # Slow before a connection is a slow host; slow after it, perhaps only this path.
        raise _Unreachable(
            f"no answer within {FETCH_TIMEOUT_SECONDS:g} s", host_wide=backend is None or not backend.connected
        ) from exc
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        # TLS failures (an untrusted certificate, a name it does not hold) are connection errors too.
        raise _Unreachable(f"no connection ({exc})", host_wide=True) from exc
    except httpx.HTTPError as exc:
        raise _Unreachable(f"the exchange failed ({exc})", host_wide=False) from exc


def _check_response(response: httpx.Response) -> None:
    if response.status_code != 200:
        # Redirects included: following one would fetch from a host nobody vetted.
        raise _Unreachable(f"answered HTTP {response.status_code}", host_wide=False)
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise _Unreachable(f"answered {media_type or 'no content type'}, not application/json", host_wide=False)


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
        document = decode_json(body)
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
        self.connected = False

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
                stream = await self._backend.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
            else:
                self.connected = True
                return stream
        assert failure is not None
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a pool that connects to the vetted addresses; TLS still checks the URL's name."""

    def __init__(self, backend: _PinnedBackend, context: ssl.SSLContext) -> None:
        super().__init__(verify=context)
        self._pool = httpcore.AsyncConnectionPool(ssl_context=context, max_connections=1, network_backend=backend)
