"""The consent page: sign in and approve read access (server-rendered HTML, no script), its CSRF guard and headers.

CSRF is a double submit bound to the page: the browser holds a random secret in
an HttpOnly, SameSite=Strict cookie, and the form carries an HMAC of that
secret and of the authorization request it was rendered for. A forged POST
lacks the cookie (SameSite) or cannot compute the field (the HMAC key derives
from the instance key), and a field copied from one page does not fit another
request. The secret is reused while the browser holds it, so two consent pages
open side by side both work.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

CSRF_COOKIE = "vg_oauth_csrf"
CSRF_FIELD = "csrf_token"
PAGE_PATH = "/oauth/authorize"
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
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


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(32)


def csrf_secret(request: Request) -> str:
    """The browser's CSRF secret: the one its cookie holds, else a new one (set by `page`)."""
    held = request.cookies.get(CSRF_COOKIE, "")
    return held if _SECRET.fullmatch(held) else new_csrf_secret()


def csrf_field(key: bytes, secret: str, binding: str) -> str:
    mac = hmac.new(key, f"{secret}\n{binding}".encode(), "sha256").digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_passes(key: bytes, request: Request, binding: str, sent: str | None) -> bool:
    held = request.cookies.get(CSRF_COOKIE, "")
    if not sent or not _SECRET.fullmatch(held):
        return False
    return hmac.compare_digest(csrf_field(key, held, binding), sent)


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


def page(
    body: str,
    status: int,
    *,
    redirect_uri: str | None = None,
    csrf: str | None = None,
    secure: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    """An HTML page with the security headers; `csrf` (the browser's secret) is (re)set in its cookie."""
    response = HTMLResponse(body, status_code=status, headers={**security_headers(redirect_uri), **(headers or {})})
    if csrf is not None:
        response.set_cookie(CSRF_COOKIE, csrf, path=PAGE_PATH, secure=secure, httponly=True, samesite="strict")
    return response


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


def _redirect_host(redirect_uri: str) -> str:
    parts = urlsplit(redirect_uri)
    host = parts.hostname or f"{parts.scheme}:"
    if host in ("127.0.0.1", "::1", "localhost"):
        return f"{host} (an app on this computer)"
    return host


def render_consent(view: ConsentView) -> str:
    name = escape(view.client_name)
    facts = [f"Your answer goes back to <strong>{escape(_redirect_host(view.redirect_uri))}</strong>."]
    if view.is_metadata_document:
        facts.append(
            f"The app's details are published by <strong>{escape(urlsplit(view.client_id).hostname or '')}</strong>."
        )
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


def render_error(title: str, message: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} · Vaultgate</title><style>{_STYLE}</style></head><body><main>"
        f'<h1>{escape(title)}</h1><p class="error">{escape(message)}</p>'
        "<p>Nothing was sent back to the application. Start again from it, or tell its developer.</p>"
        "</main></body></html>"
    )
