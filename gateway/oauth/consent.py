"""The consent page: sign in and approve read access (server-rendered HTML, no script), its cookies and headers.

CSRF is a double submit bound to the page: the browser holds a secret in an
HttpOnly, SameSite=Strict cookie, and the form carries an HMAC of that secret
and of the authorization request it was rendered for. A forged POST lacks the
cookie (SameSite) or cannot compute the field (the HMAC key derives from the
instance key), and a field copied from one page does not fit another request.
The secret is reused while the browser holds it, so two consent pages open side
by side both work. Against login CSRF by a planted cookie, the secret must be
one this server issued (it carries its own HMAC), and over https the cookie
takes the `__Host-` prefix, which no sibling subdomain or plain-http page can set.

What the page shows of a client (its name, its hosts) is the client's own
text: hosts are shown in the ASCII form the browser sends, and characters that
change how text displays are shown as `?`, so it shows no other name than the
one it has.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlsplit

import idna
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

CSRF_COOKIE = "vg_oauth_csrf"
# The browser keeps a `__Host-` cookie only when it is Secure, has Path=/ and no Domain, and came from this very
# origin: a sibling subdomain or a man in the middle on plain http cannot plant one (RFC 6265bis §4.1.3.2).
HOST_CSRF_COOKIE = f"__Host-{CSRF_COOKIE}"
CSRF_FIELD = "csrf_token"
PAGE_PATH = "/oauth/authorize"
DEVICE_COOKIE = "vg_oauth_device"
DEVICE_COOKIE_SECONDS = 90 * 24 * 3600
# An issued secret is a nonce and its HMAC; a field is an HMAC alone; a device cookie is its issue time (Unix
# seconds), a nonce naming the device, and an HMAC of both and the email.
_SECRET = re.compile(r"([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})")
_FIELD = re.compile(r"[A-Za-z0-9_-]{43}")
_DEVICE = re.compile(r"([0-9]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})")
# Processes on other machines may run a little ahead: a cookie issued by one is not "from the future" on another.
_CLOCK_SKEW_SECONDS = 300
# A CSP source must not smuggle a directive in: only these characters make it into the header.
_SOURCE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(//[A-Za-z0-9.\-\[\]:]+)?")

# What each read scope lets the client do, in the words the page shows; a scope missing here shows its name only.
SCOPE_LINES = {
    "meta:read": "See who you are, your organization and what the gateway offers",
    "vault:read": "Read your projects and documents, and search them",
    "chat:read": "Ask questions answered from your documents",
    "workflows:read": "See your workflows and their runs",
    "templates:read": "See your templates and the documents filled from them",
}

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:30rem;margin:3rem auto;background:#fff;border-radius:10px;padding:2rem;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.3rem;margin:0 0 1rem}
.facts{color:#4a5263;font-size:.92rem;padding-left:1.1rem}
ul.scopes{padding-left:1.1rem}
code{background:#eef0f4;border-radius:4px;padding:0 .25rem;font-size:.88em}
fieldset{border:1px solid #d5d9e0;border-radius:6px;margin:1rem 0}
label.field{display:block;margin:.7rem 0}
label.field input{display:block;width:100%;box-sizing:border-box;padding:.5rem;margin-top:.2rem;
border:1px solid #b8beca;border-radius:6px;font:inherit}
.error{color:#a4161a;background:#fdecec;border-radius:6px;padding:.5rem .75rem}
.buttons{display:flex;gap:.75rem;margin-top:1.2rem}
button{font:inherit;padding:.55rem 1.3rem;border-radius:6px;border:1px solid #b8beca;background:#fff;cursor:pointer}
button.approve{background:#1f5fd6;border-color:#1f5fd6;color:#fff}
"""


def _mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), "sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class CsrfGuard:
    """The consent form's double submit: an issued secret in the cookie, and a field bound to it and the request."""

    field_key: bytes
    cookie_key: bytes
    # An https issuer: the cookie is Secure and takes the `__Host-` prefix (over http a Secure one is never sent).
    secure: bool

    @property
    def cookie_name(self) -> str:
        return HOST_CSRF_COOKIE if self.secure else CSRF_COOKIE

    def secret(self, request: Request) -> str:
        """The browser's secret when this server issued it, else a new one (for `set_cookie`)."""
        held = request.cookies.get(self.cookie_name, "")
        if self._issued(held):
            return held
        nonce = secrets.token_urlsafe(32)
        return f"{nonce}.{_mac(self.cookie_key, nonce)}"

    def field(self, secret: str, binding: str) -> str:
        return _mac(self.field_key, f"{secret}\n{binding}")

    def passes(self, request: Request, binding: str, sent: str | None) -> bool:
        held = request.cookies.get(self.cookie_name, "")
        # compare_digest refuses non-ASCII text: the field's shape is checked first.
        if not sent or not _FIELD.fullmatch(sent) or not self._issued(held):
            return False
        return hmac.compare_digest(self.field(held, binding), sent)

    def set_cookie(self, response: Response, secret: str) -> None:
        response.set_cookie(
            self.cookie_name,
            secret,
            path=_cookie_path(self.secure),
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def _issued(self, value: str) -> bool:
        match = _SECRET.fullmatch(value)
        return match is not None and hmac.compare_digest(_mac(self.cookie_key, match[1]), match[2])


def _cookie_path(secure: bool) -> str:
    # A `__Host-` cookie must have Path=/; over plain http the cookie stays with the page.
    return "/" if secure else PAGE_PATH


@dataclass(frozen=True)
class DeviceCookies:
    """A browser's signed word that it signed in as an email before (OWASP's "device cookies").

    Sign-ins from such a browser skip the per-email failure bucket, which addresses anywhere can keep empty,
    and draw from one of their own. The cookie names one email, the last this browser signed in as; it holds
    the email only inside its HMAC, and lasts `DEVICE_COOKIE_SECONDS` from that sign-in.
    """

    key: bytes
    # As `CsrfGuard.secure`: an https issuer's cookie is Secure and `__Host-` prefixed.
    secure: bool

    @property
    def cookie_name(self) -> str:
        return f"__Host-{DEVICE_COOKIE}" if self.secure else DEVICE_COOKIE

    def device(self, request: Request, email: str) -> str | None:
        """The id of the browser's device cookie when it is one this server issued for `email` (any case)."""
        match = _DEVICE.fullmatch(request.cookies.get(self.cookie_name, ""))
        if match is None:
            return None
        issued, nonce, sent = int(match[1]), match[2], match[3]
        if not -_CLOCK_SKEW_SECONDS <= time.time() - issued <= DEVICE_COOKIE_SECONDS:
            return None
        return nonce if hmac.compare_digest(self._mac(email, issued, nonce), sent) else None

    def value(self, email: str, issued: int, nonce: str) -> str:
        return f"{issued}.{nonce}.{self._mac(email, issued, nonce)}"

    def set_cookie(self, response: Response, email: str) -> None:
        value = self.value(email, int(time.time()), secrets.token_urlsafe(16))
        response.set_cookie(
            self.cookie_name,
            value,
            max_age=DEVICE_COOKIE_SECONDS,
            path=_cookie_path(self.secure),
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def _mac(self, email: str, issued: int, nonce: str) -> str:
        return _mac(self.key, "\n".join((email.lower(), str(issued), nonce)))


def _form_action(redirect_uri: str | None) -> str:
    """'self' and, for the answer's 303, the redirect's origin: Chromium checks form-action on a form's redirects."""
    if redirect_uri is None:
        return "'self'"
    parts = urlsplit(redirect_uri)
    source = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else f"{parts.scheme}:"
    return f"'self' {source}" if _SOURCE.fullmatch(source) else "'self'"


def security_headers(redirect_uri: str | None) -> dict[str, str]:
    """Not frameable (clickjacking, RFC 9700 §4.16), not cached, no script, no referrer carrying the request."""
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'unsafe-inline'; form-action {_form_action(redirect_uri)}; "
            "frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


def page(body: str, status: int, *, redirect_uri: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """An HTML page with the security headers."""
    return HTMLResponse(body, status_code=status, headers={**security_headers(redirect_uri), **(headers or {})})


def redirect(location: str, status: int) -> Response:
    return RedirectResponse(location, status_code=status, headers=security_headers(None))


@dataclass(frozen=True)
class ConsentView:
    """What the consent page shows, and the authorization request its form carries back."""

    client_name: str
    client_id: str
    is_metadata_document: bool
    redirect_uri: str
    resource: str
    resource_label: str
    scopes: tuple[str, ...]
    hidden: list[tuple[str, str]]
    csrf_field: str
    email: str = ""
    mode: str = "live"
    message: str | None = None


def displayable(text: str) -> str:
    """`text` with control and format characters (a bidirectional override, a zero-width joiner) shown as `?`.

    They would make the page show other text than the client's (U+202E then `ppa-diputs` reads "stupid-app");
    lone surrogates too, which no page can encode.
    """
    return "".join("?" if unicodedata.category(char) in ("Cc", "Cf", "Cs") else char for char in text)


def displayable_host(host: str) -> str:
    """A host in the ASCII form a browser sends: a homograph (github.com with U+0456 for its i) shows as `xn--…`.

    IDNA 2008 with UTS #46, as browsers map names: Python's own `idna` codec is IDNA 2003, which would show
    `faß.example` as `fass.example` while the browser goes to `xn--fa-hia.example`.
    """
    if host.isascii():
        return displayable(host)
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError is one
        # No valid name (an override, an empty or overlong label): its bytes escaped, never shown as text.
        return quote(host, safe=".-:[]", errors="replace")


def _redirect_host(redirect_uri: str) -> str:
    try:
        parts = urlsplit(redirect_uri)
        hostname = parts.hostname
    except ValueError:
        return "an address this page cannot show"
    if hostname is None:
        return displayable(f"{parts.scheme}:")
    host = displayable_host(hostname)
    if host in ("127.0.0.1", "::1", "localhost"):
        return f"{host} (an app on this computer)"
    return host


def render_consent(view: ConsentView) -> str:
    name = escape(displayable(view.client_name))
    facts = [f"Your answer goes back to <strong>{escape(_redirect_host(view.redirect_uri))}</strong>."]
    if view.is_metadata_document:
        publisher = displayable_host(urlsplit(view.client_id).hostname or "")
        facts.append(f"The app's details are published by <strong>{escape(publisher)}</strong>.")
    else:
        facts.append("The app registered itself with this gateway: its name is not verified.")
    facts.append(
        f"Access to {escape(view.resource_label)} (<code>{escape(view.resource)}</code>) is read-only: "
        "the app can never change your data."
    )
    scopes = "".join(
        f"<li><code>{escape(scope)}</code> {escape(SCOPE_LINES.get(scope, ''))}</li>" for scope in view.scopes
    )
    hidden = "".join(
        f'<input type="hidden" name="{escape(name_)}" value="{escape(value)}">' for name_, value in view.hidden
    )
    message = f'<p class="error" role="alert">{escape(view.message)}</p>' if view.message else ""
    live, test = ("checked", "") if view.mode != "test" else ("", "checked")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Authorize {name} · Vaultgate</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>{name} wants to read your Vaultgate data</h1>"
        f'<ul class="facts">{"".join(f"<li>{fact}</li>" for fact in facts)}</ul>'
        f'<p>It asks to:</p><ul class="scopes">{scopes}</ul>'
        f'<form method="post" action="{PAGE_PATH}">{hidden}'
        f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(view.csrf_field)}">'
        "<fieldset><legend>Which data</legend>"
        f'<label><input type="radio" name="mode" value="live" {live}> Live data</label> '
        f'<label><input type="radio" name="mode" value="test" {test}> Test data</label></fieldset>'
        '<label class="field">Email<input type="email" name="email" autocomplete="username" required '
        f'value="{escape(view.email)}"></label>'
        '<label class="field">Password<input type="password" name="password" '
        'autocomplete="current-password" required></label>'
        f"{message}"
        '<div class="buttons"><button class="approve" type="submit" name="action" value="approve">Approve</button>'
        '<button type="submit" name="action" value="deny" formnovalidate>Deny</button></div>'
        "</form></main></body></html>"
    )


def render_error(title: str, message: str, *, return_url: str | None = None) -> str:
    """The error page; with `return_url`, a link that takes the error back to the application when followed."""
    if return_url is None:
        after = "<p>Nothing was sent back to the application. Start again from it, or tell its developer.</p>"
    else:
        after = (
            "<p>The application has not been told yet. "
            f'<a href="{escape(return_url)}">Return to {escape(_redirect_host(return_url))}</a> with this error, '
            "or close this page.</p>"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} · Vaultgate</title><style>{_STYLE}</style></head><body><main>"
        f'<h1>{escape(title)}</h1><p class="error">{escape(displayable(message))}</p>{after}'
        "</main></body></html>"
    )
