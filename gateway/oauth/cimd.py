"""Client ID Metadata Documents: a client named by an https URL, whose metadata this server fetches from it.

The fetch is a request an unauthenticated caller makes this server send, so it
is guarded (draft-ietf-oauth-client-id-metadata-document §6): the name is
resolved here and refused if any address it resolves to is not public
(loopback, private, link-local, …) or is this server's own, and the
connection goes to the vetted address itself, so a DNS answer that changes
between the check and the connection (rebinding) cannot redirect it; TLS
still verifies the name. No redirect is followed, nothing compressed is
accepted (a few bytes could inflate to gigabytes), and the whole fetch is
bounded in time (each step shorter still) and size. The outcome is cached:
good documents for minutes, failures for seconds (a host that refuses, or a
name that does not exist, for every path on it; never a timeout, which a
tarpit on one path or a slow name server could cause).

Fetches are bounded too: one at a time per URL (concurrent lookups share it),
one at a time per caller's address (its name lookup included, until that
ends), a few at a time per process, name lookups on a few threads of their
own; past a bound a lookup is told to retry (`FetchesBusy`), and the caller
may ration fetches further (`before_fetch`).

Why a fetch failed (DNS, TLS, the answer's status) is logged, not told: the
caller could otherwise probe any host and port through this server. It is
told only what the document's author controls: a document that is not JSON,
too large, or names another client.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
import socket
import ssl
import threading
import time
import typing
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import anyio
import httpcore
import httpx
from anyio import to_thread

from gateway.oauth.client_metadata import ClientMetadata, InvalidClientMetadata, decode_json, parse_client_metadata

logger = logging.getLogger(__name__)

# Module constants rather than settings: tests shorten the timeouts; nobody else needs to tune them.
FETCH_TIMEOUT_SECONDS = 5.0
# Each step of a fetch (the name lookup, the connection with its TLS handshake, every read) gets this long,
# within the whole fetch's time: a host that stalls one step frees the fetch's place sooner.
STEP_TIMEOUT_SECONDS = 2.0
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_URL_LENGTH = 2000
GOOD_FOR_SECONDS = 300.0
FAILURE_FOR_SECONDS = 30.0
MAX_CACHED = 1000
# Past this many fetches under way, a lookup that needs one is refused at once (`FetchesBusy`) rather than
# queued: each may last FETCH_TIMEOUT_SECONDS, and a queue would hold every request behind it that long.
MAX_CONCURRENT_FETCHES = 8
# Threads for name lookups (at most; tests lower it). A lookup whose fetch gave up keeps its thread until the
# system resolver gives up too, so these are counted until the lookup itself ends.
MAX_CONCURRENT_LOOKUPS = 4
# Sent on every fetch, with the issuer: a server can tell who is fetching, and this one can tell its own fetches.
USER_AGENT = "Vaultgate-CIMD/1"
POINTS_AT_THIS_SERVER = "A client_id URL must not point at this server."

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
# No trailing dot: `host.` would be another spelling of a host, past the check that it is not this server.
_HOST_NAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")
# A name service's answers that hold for every path on a host: the name does not exist, or has no address.
_NO_SUCH_NAME = frozenset({socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)})
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class MetadataDocumentError(Exception):
    """The document at a client_id URL cannot serve as the client's metadata; the message, safe to show, says why."""


class FetchesBusy(Exception):
    """A fetch must wait: this process or this caller fetches all it may; the message, safe to show, says which."""


class _Unreachable(Exception):
    """The document could not be fetched; why is for the log only. `host_wide`: any path on the host would fail."""

    def __init__(self, detail: str, *, host_wide: bool) -> None:
        super().__init__(detail)
        self.host_wide = host_wide


@dataclass(frozen=True)
class ThisServer:
    """Where this server answers: a document there would make it fetch from itself, each fetch asking for the next."""

    issuer: str
    # The address and port it listens on, which a proxy in front of it may not share with the issuer.
    listens_on: tuple[str, int] | None = None

    @property
    def user_agent(self) -> str:
        return f"{USER_AGENT} (+{self.issuer})"

    def is_named_by(self, parsed: httpx.URL) -> bool:
        """Whether the URL's host is the issuer's (whatever the port: the host covers the origin)."""
        return host_of(parsed) == host_of(httpx.URL(self.issuer))

    async def answers_at(self, addresses: list[Address], port: int) -> bool:
        """Whether a connection to one of `addresses` on `port` would reach this server under another name."""
        # Only non-public addresses are compared: a public one may be a front end shared with unrelated hosts
        # (a CDN's), and a fetch to a public address under another name fails TLS on this server anyway.
        if all(is_public(address) for address in addresses):
            return False
        issuer = httpx.URL(self.issuer)
        for host, own_port in [(host_of(issuer), _port(issuer)), *([self.listens_on] if self.listens_on else [])]:
            if own_port == port:
                own = await _own_addresses(host, port)
                if any(_same_machine(address, mine) for address in addresses for mine in own):
                    return True
        return False


async def _own_addresses(host: str, port: int) -> list[Address]:
    if _is_address(host):
        return [ipaddress.ip_address(host)]
    try:
        return await resolve(host, port)
    except _Unreachable:
        return []  # a name that does not resolve reaches nothing, this server included


def _same_machine(address: Address, mine: Address) -> bool:
    address, mine = _unmapped(address), _unmapped(mine)
    if is_public(mine):
        return False
    # Every loopback address (127.0.0.0/8, ::1) reaches a server listening on all of them, and connecting to
    # the unspecified address (0.0.0.0, ::) reaches this machine.
    return address == mine or (_is_local(address) and _is_local(mine))


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_local(address: Address) -> bool:
    return address.is_loopback or address.is_unspecified


@dataclass(frozen=True)
class _Job:
    """A document to fetch, with what the fetch must respect."""

    url: str
    parsed: httpx.URL
    allow_private: bool
    scopes: list[str]
    this_server: ThisServer
    # The caller's address, whose fetches go one at a time (None: unattributed, rationed elsewhere).
    caller: str | None

    @property
    def key(self) -> tuple[str, bool]:
        return (self.url, self.allow_private)

    @property
    def host(self) -> tuple[str, int, bool]:
        return (host_of(self.parsed), _port(self.parsed), self.allow_private)


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
# One per fetch under way (their number is bounded by MAX_CONCURRENT_FETCHES), and the callers they are for.
_flights: dict[tuple[str, bool], _Flight] = {}
_fetching_for: set[str] = set()
# Loading the CA bundle takes tens of milliseconds: once per process (per trust setting, which tests change).
_tls_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


async def fetch_client_metadata(
    url: str,
    *,
    scopes: list[str],
    allow_private: bool,
    this_server: ThisServer,
    caller: str | None = None,
    before_fetch: Callable[[], Awaitable[None]] | None = None,
) -> ClientMetadata:
    """The metadata the document at `url` holds, checked and cached; `MetadataDocumentError` else.

    `caller` (the client's address) fetches one document at a time. `before_fetch` runs when this lookup has
    to fetch (nothing cached, no fetch of the URL under way) and may refuse by raising. `FetchesBusy` when
    this process or this caller fetches all it may already.
    """
    parsed = check_url(url, allow_private=allow_private)
    if this_server.is_named_by(parsed):
        raise MetadataDocumentError(POINTS_AT_THIS_SERVER)
    job = _Job(url, parsed, allow_private, scopes, this_server, caller)
    allowed = before_fetch is None
    while True:
        remembered = _remembered(job)
        if remembered is not None:
            return _settled(remembered)
        flight = _flights.get(job.key)
        if flight is not None:
            await flight.done.wait()
            if flight.outcome is not None:
                return _settled(flight.outcome)
            continue
        # Before the ration: a refusal here should not cost the caller one of its fetches.
        _refuse_when_busy(caller)
        if not allowed and before_fetch is not None:
            await before_fetch()
            allowed = True
            continue  # the world may have moved while it awaited
        return _settled(await _fetch_once(job))


def _refuse_when_busy(caller: str | None) -> None:
    if caller is not None and (caller in _fetching_for or _lookups.running_for(caller)):
        raise FetchesBusy("A client metadata document this address asked for is still being fetched.")
    if len(_flights) >= MAX_CONCURRENT_FETCHES:
        raise FetchesBusy("This server is fetching other clients' metadata documents.")


def _remembered(job: _Job) -> ClientMetadata | str | None:
    now = time.monotonic()
    for cached in (_cache.get(job.key), _host_failures.get(job.host)):
        if cached is not None and cached.until > now:
            return cached.outcome
    return None


def _settled(outcome: ClientMetadata | str) -> ClientMetadata:
    if isinstance(outcome, str):
        raise MetadataDocumentError(outcome)
    return outcome


async def _fetch_once(job: _Job) -> ClientMetadata | str:
    flight = _flights[job.key] = _Flight()
    if job.caller is not None:
        _fetching_for.add(job.caller)
    try:
        flight.outcome = await _fetch_and_remember(job)
        return flight.outcome
    finally:
        del _flights[job.key]
        if job.caller is not None:
            _fetching_for.discard(job.caller)
        flight.done.set()


async def _fetch_and_remember(job: _Job) -> ClientMetadata | str:
    try:
        body, max_age = await _fetch(job)
        metadata = _metadata(job.url, body, job.scopes)
    except _Unreachable as exc:
        logger.info("The client metadata document %s could not be fetched: %s", job.url, exc)
        failure = _Cached(
            time.monotonic() + FAILURE_FOR_SECONDS,
            f"The client's metadata document at {job.host[0]} could not be fetched or is not a valid client "
            "metadata document.",
        )
        if exc.host_wide:
            _remember(_host_failures, job.host, failure)
        else:
            _remember(_cache, job.key, failure)
        return failure.outcome
    except MetadataDocumentError as exc:
        _remember(_cache, job.key, _Cached(time.monotonic() + FAILURE_FOR_SECONDS, str(exc)))
        return str(exc)
    lifetime = GOOD_FOR_SECONDS if max_age is None else min(GOOD_FOR_SECONDS, max_age)
    _remember(_cache, job.key, _Cached(time.monotonic() + lifetime, metadata))
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


class _Lookups:
    """Name lookups, on threads of their own, each counted (with the caller it is for) until it ends.

    A name server that never answers holds a lookup's thread until the system resolver gives up, long after
    the fetch stopped waiting for it: on a shared pool such lookups would queue everyone else's behind them.
    Here a lookup gets a thread at once or is refused (`FetchesBusy`).
    """

    def __init__(self) -> None:
        self._threads = ThreadPoolExecutor(MAX_CONCURRENT_LOOKUPS, thread_name_prefix="cimd-lookup")
        # Lookups end on their own threads, and are counted on the event loop's.
        self._lock = threading.Lock()
        self._running: Counter[str | None] = Counter()

    def running_for(self, caller: str) -> bool:
        with self._lock:
            return caller in self._running

    async def addresses(self, host: str, port: int, caller: str | None) -> list[str]:
        with self._lock:
            if self._running.total() >= MAX_CONCURRENT_LOOKUPS:
                raise FetchesBusy("This server is looking up other clients' metadata documents.")
            self._running[caller] += 1
        lookup = self._threads.submit(_system_lookup, host, port)
        lookup.add_done_callback(lambda _: self._end(caller))
        # Cancelled, it leaves the thread to finish (and be counted until then); not yet started, it never starts.
        return await asyncio.wrap_future(lookup)

    def _end(self, caller: str | None) -> None:
        with self._lock:
            self._running[caller] -= 1
            if not self._running[caller]:
                del self._running[caller]


def _system_lookup(host: str, port: int) -> list[str]:
    return [str(sockaddr[0]) for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


_lookups = _Lookups()


async def resolve(host: str, port: int, *, caller: str | None = None) -> list[Address]:
    """Every address `host` resolves to (the name service's order), within STEP_TIMEOUT_SECONDS."""
    try:
        with anyio.fail_after(STEP_TIMEOUT_SECONDS):
            found = await _lookups.addresses(host, port, caller)
    except TimeoutError as exc:
        # A slow name server (perhaps slow on purpose) says nothing about the name: the host is not held to it.
        raise _Unreachable(f"{host} did not resolve within {STEP_TIMEOUT_SECONDS:g} s", host_wide=False) from exc
    except socket.gaierror as exc:
        raise _Unreachable(f"{host} does not resolve ({exc})", host_wide=exc.errno in _NO_SUCH_NAME) from exc
    except (OSError, ValueError) as exc:  # ValueError: a name the IDNA codec refuses
        raise _Unreachable(f"{host} does not resolve ({exc})", host_wide=isinstance(exc, ValueError)) from exc
    addresses: list[Address] = []
    for text in found:
        address = ipaddress.ip_address(text.split("%", 1)[0])
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


async def _vetted_addresses(job: _Job) -> list[Address]:
    host, port, _ = job.host
    addresses = await resolve(host, port, caller=job.caller)
    refused = [str(address) for address in addresses if not is_public(address)]
    if refused and not job.allow_private:
        raise _Unreachable(f"{host} resolves to {', '.join(refused)}, not a public address", host_wide=True)
    if not addresses:
        raise _Unreachable(f"{host} has no address", host_wide=True)
    # Another spelling of this server's address (`localhost`, `127.1`, `2130706433`) passes the check by name.
    if await job.this_server.answers_at(addresses, port):
        raise MetadataDocumentError(POINTS_AT_THIS_SERVER)
    return addresses


async def _fetch(job: _Job) -> tuple[bytes, float | None]:
    headers = {
        "Accept": "application/json",
        # Compressed answers are refused: a few hundred bytes of nested gzip inflate to gigabytes.
        "Accept-Encoding": "identity",
        "User-Agent": job.this_server.user_agent,
    }
    try:
        with anyio.fail_after(FETCH_TIMEOUT_SECONDS):
            backend = _PinnedBackend(await _vetted_addresses(job))
            async with (
                httpx.AsyncClient(
                    transport=_PinnedTransport(backend, await _tls_context()),
                    follow_redirects=False,
                    timeout=STEP_TIMEOUT_SECONDS,
                ) as client,
                client.stream("GET", job.url, headers=headers) as response,
            ):
                _check_response(response)
                body = await _read_bounded(response)
                return body, _max_age(response.headers.get("cache-control", ""))
    except TimeoutError as exc:
        # Never held against the host: a path can be slow on purpose, which says nothing about its other paths.
        raise _Unreachable(f"no answer within {FETCH_TIMEOUT_SECONDS:g} s", host_wide=False) from exc
    except httpx.ConnectError as exc:
        # Refused or unreachable, or TLS failed (an untrusted certificate, a name it does not hold): every path
        # would fail so. A connection that times out is not one of these (httpx.ConnectTimeout, below).
        raise _Unreachable(f"no connection ({exc})", host_wide=True) from exc
    except httpx.HTTPError as exc:
        raise _Unreachable(f"the exchange failed ({type(exc).__name__}: {exc})", host_wide=False) from exc


def _check_response(response: httpx.Response) -> None:
    if response.status_code != 200:
        # Redirects included: following one would fetch from a host nobody vetted.
        raise _Unreachable(f"answered HTTP {response.status_code}", host_wide=False)
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise _Unreachable(f"answered {media_type or 'no content type'}, not application/json", host_wide=False)
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise _Unreachable(f"answered Content-Encoding {encoding}, though asked for identity", host_wide=False)


async def _read_bounded(response: httpx.Response) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        raise MetadataDocumentError(f"The metadata document is larger than {MAX_DOCUMENT_BYTES // 1024} KiB.")
    body = bytearray()
    # The bytes as they arrived: httpx would otherwise undo any Content-Encoding the answer claims, however deep.
    async for chunk in response.aiter_raw():
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

    def __init__(self, backend: _PinnedBackend, context: ssl.SSLContext) -> None:
        super().__init__(verify=context)
        self._pool = httpcore.AsyncConnectionPool(ssl_context=context, max_connections=1, network_backend=backend)
