"""Client metadata (RFC 7591 §2) as registered or served in a Client ID Metadata Document, and its redirect rules.

Both ways a client introduces itself pass the same checks: redirect URIs an
authorization response may safely be sent to, grant and response types this
server supports, read scopes only, and bounded sizes. Metadata this server
does not understand is dropped (RFC 7591 §2: "MUST ignore").
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from gateway.oauth.resources import OFFLINE_ACCESS

MAX_REDIRECT_URIS = 20
MAX_URI_LENGTH = 2000
MAX_NAME_LENGTH = 200
# RFC 8252 §7.3: a native app's loopback redirect may use any port; `localhost` is accepted beside the IP literals
# because clients (VS Code, the mcp SDK's examples) register it.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Schemes that run or embed content, or hand the URI to an operating system's own handler (Windows' `ms-*`
# family such as `ms-msdt:`, `search-ms:`, its help and shell handlers), instead of reaching an app: never a
# redirect target, whatever else the rules below allow.
_FORBIDDEN_SCHEMES = frozenset(
    {"javascript", "data", "vbscript", "file", "blob", "about", "filesystem", "view-source"}
    | {"search-ms", "search", "shell", "hcp", "mhtml", "jar"}
)
_FORBIDDEN_SCHEME_PREFIXES = ("ms-",)
# RFC 8252 §7.1: a private-use scheme is a reverse domain name the app controls (`com.example.app`); a scheme
# without a dot is some other program's handler. Except these, which MCP clients people use register as is:
_DOTLESS_APP_SCHEMES = frozenset(
    {
        "cursor",  # Cursor: cursor://anysphere.cursor-mcp/oauth/callback
        "claude",  # Claude's desktop app: claude://claude.ai/mcp-auth-callback/sdk
    }
)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
# A port as the number it is: leading zeros or an empty port would let two spellings name one redirect target
# (and pad a URI far past what is stored of it).
_PORT = re.compile(r"[1-9][0-9]{0,4}")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
AUTH_METHODS = ("none", "client_secret_post")


class InvalidClientMetadata(Exception):
    """RFC 7591 §3.2.2: `invalid_redirect_uri` or `invalid_client_metadata`, with a description naming the field."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def is_loopback_redirect(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def is_acceptable_redirect(uri: str) -> bool:
    """Whether `uri` passes the rules a registered redirect URI passes (a requested one must too)."""
    try:
        _redirect_uri(uri)
    except ValueError:
        return False
    return len(uri) <= MAX_URI_LENGTH


def _redirect_uri(uri: str) -> str:
    if _CONTROL_OR_SPACE.search(uri):
        raise ValueError("must not contain spaces or control characters")
    scheme, colon, rest = uri.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme) or not rest:
        raise ValueError("must be an absolute URI")
    if scheme in _FORBIDDEN_SCHEMES or scheme.startswith(_FORBIDDEN_SCHEME_PREFIXES):
        raise ValueError("this scheme is never a redirect target")
    if "#" in uri:
        raise ValueError("must not contain a fragment (RFC 6749 §3.1.2)")
    if scheme in ("http", "https"):
        _web_url(uri)
        parts = urlsplit(uri)
        if parts.username is not None:
            raise ValueError("must not contain user information")
        if scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError("plain http is allowed for loopback hosts only (127.0.0.1, [::1], localhost)")
    elif "." not in scheme and scheme not in _DOTLESS_APP_SCHEMES:
        raise ValueError(
            "the scheme is no app's private-use scheme: use a reverse domain name such as "
            "com.example.app: (RFC 8252 §7.1)"
        )
    if not _has_canonical_port(uri):
        raise ValueError("must write its port as a number from 1 to 65535 without leading zeros")
    return uri


def _has_canonical_port(uri: str) -> bool:
    authority = urlsplit(uri).netloc.rpartition("@")[2]
    if authority.endswith("]") or ":" not in authority:
        return True
    return _PORT.fullmatch(authority.rpartition(":")[2]) is not None


def _web_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (parsing the port is the check: a malformed one raises)
    except ValueError as exc:
        raise ValueError("must be a valid URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    return url


Uri = Annotated[str, Field(max_length=MAX_URI_LENGTH)]
RedirectUri = Annotated[Uri, AfterValidator(_redirect_uri)]
WebUrl = Annotated[Uri, AfterValidator(_web_url)]


def _printable(text: str) -> str:
    if any(_is_unprintable(character) for character in text):
        raise ValueError("must not contain control or formatting characters")
    return text


def replace_unprintable(text: str) -> str:
    """`text` with each character a name must not hold (`client_name`'s rule) replaced by `?`."""
    return "".join("?" if _is_unprintable(character) else character for character in text)


def _is_unprintable(character: str) -> bool:
    # Control characters would reach an operator's terminal (`vaultgate users grants`), and format characters
    # (bidirectional overrides) could make the consent page show a name other than the one registered.
    return unicodedata.category(character) in ("Cc", "Cf")


Text = Annotated[str, Field(max_length=MAX_NAME_LENGTH), AfterValidator(_printable)]


class ClientMetadata(BaseModel):
    """What this server keeps of a client's metadata."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    redirect_uris: list[RedirectUri] = Field(min_length=1, max_length=MAX_REDIRECT_URIS)
    # Absent: the caller's default (RFC 7591's own default, `client_secret_basic`, is not supported).
    token_endpoint_auth_method: Literal["none", "client_secret_post"] | None = None
    grant_types: list[Literal["authorization_code", "refresh_token"]] = Field(
        default=["authorization_code", "refresh_token"], min_length=1, max_length=2
    )
    response_types: list[Literal["code"]] = Field(default=["code"], min_length=1, max_length=1)
    scope: Annotated[str, Field(max_length=1000)] | None = None
    client_name: Text | None = None
    client_uri: WebUrl | None = None
    logo_uri: WebUrl | None = None
    tos_uri: WebUrl | None = None
    policy_uri: WebUrl | None = None
    contacts: list[Text] | None = Field(default=None, max_length=10)
    software_id: Text | None = None
    software_version: Text | None = None
    application_type: Literal["web", "native"] | None = None

    @field_validator("grant_types")
    @classmethod
    def _grants_code(cls, grant_types: list[str]) -> list[str]:
        if "authorization_code" not in grant_types:
            raise ValueError("must include authorization_code: it is the only way this server issues tokens")
        return grant_types

    @field_validator("scope")
    @classmethod
    def _read_scopes(cls, scope: str | None, info: ValidationInfo) -> str | None:
        allowed = {*info.context["scopes"], OFFLINE_ACCESS} if info.context else set()
        unknown = sorted(set((scope or "").split()) - allowed)
        if unknown:
            # Not the unknown names themselves: a metadata document's text must not reach the consent page's errors.
            raise ValueError(f"asks for scopes beyond {' '.join(sorted(allowed))}, the only ones a client may hold")
        return scope

    def document(self) -> dict[str, Any]:
        """The metadata as stored and shown back (no nulls)."""
        return self.model_dump(exclude_none=True)


def decode_json(body: bytes) -> object:
    """The JSON value `body` holds; `ValueError` when it holds none."""
    try:
        return json.loads(body)
    except RecursionError as exc:
        # The parser recurses once per nested array or object: 60,000 `[` (well under any size bound) exhaust it.
        raise ValueError("The JSON nests too deeply.") from exc


def parse_client_metadata(data: object, *, scopes: list[str], default_auth_method: str) -> ClientMetadata:
    """Metadata a client sent, checked; `InvalidClientMetadata` naming the first field at fault."""
    if not isinstance(data, dict):
        raise InvalidClientMetadata("invalid_client_metadata", "Client metadata must be a JSON object.")
    try:
        metadata = ClientMetadata.model_validate(data, context={"scopes": scopes})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        error = "invalid_redirect_uri" if first["loc"][:1] == ("redirect_uris",) else "invalid_client_metadata"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidClientMetadata(error, f"{field}: {message}") from exc
    if metadata.token_endpoint_auth_method is None:
        metadata = metadata.model_copy(update={"token_endpoint_auth_method": default_auth_method})
    return metadata
