"""The authorization endpoint: the sign-in and consent page.

An authorization request is checked in RFC 6749 §4.1.2.1's order: the client
and its redirect URI first, and while either is in doubt nothing is sent to
the redirect URI (a 400 page says why). Every later error is for the redirect
URI, with `state` and `iss` (RFC 9207): sent there at once only when it is a
loopback one, else on a page that links to it (RFC 9700 §4.11.2, see
`_error_answer`). The answer to Approve or Deny goes there at once: the user
saw its host on the page. The page's form carries the request back and it is
checked again in full on POST.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from urllib.parse import urlencode, urlsplit, urlunsplit

from anyio import to_thread
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.oauth import consent, grants
from gateway.oauth.client_metadata import is_loopback_redirect
from gateway.oauth.clients import Client, ClientError, find_client
from gateway.oauth.forms import CONTROL, FormError, Params, Unreadable, read_form, single
from gateway.oauth.grants import S256_CHALLENGE, TokenError
from gateway.oauth.resources import OAuthServer
from gateway.oauth.responses import error_description
from gateway.rate_limits import Bucket, Buckets, Policy, buckets_for, client_address
from storage import oauth, passwords
from storage.accounts import verify_password
from storage.database import session_scope
from storage.models import Mode

# The authorization request's parameters, which the consent page's form carries back.
PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "code_challenge",
    "code_challenge_method",
    "state",
    "scope",
    "resource",
)
# Failed sign-ins over 15 minutes (a success counts nothing, so approving many apps never locks anyone out).
# Per email and address, tight: guessing from one place stays slow. Per address, moderate: one place guessing
# at many emails. Per email, loose: it bounds guessing at one account from many addresses. Five addresses
# keep that one empty, so a browser holding a device cookie for the email (it signed in as it before, OWASP's
# answer to such lockouts) skips it and draws from a bucket of its own cookie instead.
PAIR_FAILURES = Policy("sign-in-failures", 10, 10 / 900)
ADDRESS_FAILURES = Policy("sign-in-address-failures", 30, 30 / 900)
EMAIL_FAILURES = Policy("sign-in-email-failures", 50, 50 / 900)
DEVICE_FAILURES = Policy("sign-in-device-failures", 10, 10 / 900)
# Whichever was wrong (or a user without a password, or removed): saying which would confirm the email.
WRONG_SIGN_IN = "The email or the password is wrong."
LONGEST_EMAIL = 320


class PageError(Exception):
    """The client or its redirect URI is in doubt: a 400 page, never a redirect."""


class RedirectError(Exception):
    """An error the client hears at its redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: str, description: str, redirect_uri: str, state: str | None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state


@dataclass(frozen=True)
class AuthorizationRequest:
    client: Client
    # Where the answer goes, and the redirect_uri as sent ("" when none was: the client registered one).
    redirect_uri: str
    sent_redirect_uri: str
    state: str | None
    code_challenge: str
    scopes: tuple[str, ...]
    resource: str
    echoed: list[tuple[str, str]]


async def parse_authorization(server: OAuthServer, params: Params, *, address: str) -> AuthorizationRequest:
    """The request, checked; `PageError` while the client or redirect is in doubt, `RedirectError` after.

    `address` is the caller's: the metadata documents it makes this server fetch are rationed per address.
    """
    for name in PARAMETERS:
        if any(CONTROL.search(value) for value in params.getlist(name)):
            raise PageError(f"The request's {name} holds a control character.")
    try:
        client_id, sent_redirect = single(params, "client_id"), single(params, "redirect_uri")
    except Unreadable as exc:
        raise PageError(str(exc)) from exc
    if client_id is None:
        raise PageError("The request names no client_id.")
    try:
        client = await find_client(server, client_id, address=address)
    except ClientError as exc:
        raise PageError(exc.description) from exc
    if sent_redirect is not None:
        if not client.admits_redirect(sent_redirect):
            # The value is not shown: it is the sender's text, on a page in this gateway's name.
            raise PageError("The redirect_uri is not one this client registered.")
        redirect_uri = sent_redirect
    elif len(client.redirect_uris) == 1:
        redirect_uri = client.redirect_uris[0]
    else:
        raise PageError("The request names no redirect_uri, and this client registered several.")
    states = params.getlist("state")
    state = states[0] if states and states[0] else None

    def fail(error: str, description: str) -> RedirectError:
        return RedirectError(error, description, redirect_uri, state)

    try:
        response_type, challenge, method, scope, _ = (
            single(params, name)
            for name in ("response_type", "code_challenge", "code_challenge_method", "scope", "state")
        )
    except Unreadable as exc:
        raise fail("invalid_request", str(exc)) from exc
    if response_type is None:
        raise fail("invalid_request", "response_type is required (code).")
    if response_type != "code":
        raise fail("unsupported_response_type", "Only response_type=code is supported.")
    if challenge is None:
        raise fail("invalid_request", "code_challenge is required: every authorization uses PKCE (S256).")
    if method != "S256":
        raise fail("invalid_request", "code_challenge_method must be S256 (plain is not accepted).")
    if not S256_CHALLENGE.fullmatch(challenge):
        raise fail("invalid_request", "code_challenge must be the 43-character base64url SHA-256 of the verifier.")
    try:
        scopes = grants.requested_scopes(server, scope) or tuple(server.read_scopes)
    except TokenError as exc:
        raise fail(exc.error, exc.description) from exc
    resources = [value for value in params.getlist("resource") if value]
    if len(resources) > 1:
        raise fail("invalid_target", "Name one resource per authorization.")
    # The MCP SDK always names one; a client that names none gets what MCP clients use, `<issuer>/mcp`.
    resource = server.resources.canonical(resources[0]) if resources else server.resources.mcp
    if resource is None:
        raise fail("invalid_target", "The resource parameter names no resource of this server.")
    echoed = [(name, value) for name in PARAMETERS for value in params.getlist(name) if value]
    return AuthorizationRequest(client, redirect_uri, sent_redirect or "", state, challenge, scopes, resource, echoed)


def _csrf_binding(params: Params) -> str:
    """What a page's CSRF field is bound to: the request it was rendered for."""
    return "\n".join((params.get(name) or "") for name in ("client_id", "redirect_uri", "code_challenge"))


def answer_url(redirect_uri: str, values: dict[str, str | None]) -> str:
    """The redirect URI with the answer added to its query (RFC 6749 §3.1.2 keeps a query it already has)."""
    parts = urlsplit(redirect_uri)
    added = urlencode({name: value for name, value in values.items() if value is not None})
    return urlunsplit(parts._replace(query=f"{parts.query}&{added}" if parts.query else added))


@dataclass
class _SignInAllowance:
    """One sign-in attempt's token in each failure bucket: taken before the password is checked."""

    # Taken first and given back after a success, rather than counted after a failure: guesses sent all at once
    # cannot pass a look at a full bucket together, and an attempt refused costs no password hash.

    buckets: Buckets
    wanted: tuple[tuple[Policy, Bucket], ...]
    taken: list[tuple[Policy, Bucket]] = field(default_factory=list)

    async def take(self) -> int | None:
        """Seconds to wait when a bucket is empty (then nothing stays taken), else None."""
        for policy, bucket in self.wanted:
            draw = await self.buckets.draw([bucket], policy, 1)
            if not draw.allowed:
                await self.give_back()
                return draw.retry_after
            self.taken.append((policy, bucket))
        return None

    async def give_back(self) -> None:
        # A negative cost puts the token back; a bucket never holds more than its capacity once refilled.
        for policy, bucket in self.taken:
            await self.buckets.draw([bucket], policy, -1)
        self.taken.clear()


class _Endpoints:
    def __init__(self, server: OAuthServer) -> None:
        self.server = server
        self.buckets = buckets_for(server.settings.redis_url)
        instance_key = server.keys.instance_key
        self.csrf = consent.CsrfGuard(
            field_key=instance_key.derive("oauth-consent-csrf"),
            cookie_key=instance_key.derive("oauth-consent-csrf-cookie"),
            secure=server.issuer.startswith("https://"),
        )
        self.devices = consent.DeviceCookies(instance_key.derive("oauth-device-cookie"), secure=self.csrf.secure)

    # The authorization endpoint

    async def authorize(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._decide(request)
        try:
            authorization = await parse_authorization(self.server, request.query_params, address=self._address(request))
        except PageError as exc:
            return _error_page(str(exc))
        except RedirectError as exc:
            return self._error_answer(exc, 302)
        return self._consent(request, authorization, 200)

    def _consent(
        self,
        request: Request,
        authorization: AuthorizationRequest,
        status: int,
        *,
        email: str = "",
        mode: str = "live",
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        secret = self.csrf.secret(request)
        params: Params = ImmutableMultiDict(authorization.echoed)
        view = consent.ConsentView(
            client_name=authorization.client.client_name,
            client_id=authorization.client.client_id,
            is_metadata_document=authorization.client.is_metadata_document,
            redirect_uri=authorization.redirect_uri,
            resource=authorization.resource,
            resource_label=self._resource_label(authorization.resource),
            scopes=authorization.scopes,
            hidden=authorization.echoed,
            csrf_field=self.csrf.field(secret, _csrf_binding(params)),
            email=email,
            mode=mode,
            message=message,
        )
        response = consent.page(
            consent.render_consent(view), status, redirect_uri=authorization.redirect_uri, headers=headers
        )
        self.csrf.set_cookie(response, secret)
        return response

    def _resource_label(self, resource: str) -> str:
        resources = self.server.resources
        if resource == resources.api:
            return "the REST API"
        if resource == resources.mcp:
            return "the MCP server"
        return "one managed MCP server"

    def _error_location(self, exc: RedirectError) -> str:
        values = {"error": exc.error, "error_description": error_description(exc.description), "state": exc.state}
        return answer_url(exc.redirect_uri, {**values, "iss": self.server.issuer})

    def _error_answer(self, exc: RedirectError, status: int) -> Response:
        """The error sent to a loopback redirect URI at once, to any other only by a link on a page.

        RFC 9700 §4.11.2: errors go automatically only to redirect URIs the server trusts. Anyone may register
        or publish any https redirect URI, so a link to this gateway would otherwise bounce a user anywhere,
        wearing its name; a loopback one reaches an app on the user's own computer. The link still brings the
        client its error with `state` and `iss` (RFC 6749 §4.1.2.1, RFC 9207), at the user's click.
        """
        location = self._error_location(exc)
        if is_loopback_redirect(exc.redirect_uri):
            return consent.redirect(location, status)
        return _error_page(exc.description, return_url=location)

    async def _decide(self, request: Request) -> Response:
        try:
            form = await read_form(request)
        except FormError as exc:
            return _error_page(str(exc))
        # Before anything else (a metadata document fetch included): a forged POST gets nothing done.
        if not self.csrf.passes(request, _csrf_binding(form), form.get(consent.CSRF_FIELD)):
            return _error_page(
                "This form has expired or did not come from this page (its CSRF check failed). "
                "Start again from the application."
            )
        try:
            authorization = await parse_authorization(self.server, form, address=self._address(request))
        except PageError as exc:
            return _error_page(str(exc))
        except RedirectError as exc:
            return self._error_answer(exc, 303)
        action = form.get("action")
        if action == "deny":
            denied = RedirectError(
                "access_denied", "The user denied the request.", authorization.redirect_uri, authorization.state
            )
            return consent.redirect(self._error_location(denied), 303)
        if action != "approve":
            return _error_page("The form names neither Approve nor Deny.")
        return await self._sign_in(request, form, authorization)

    async def _sign_in(self, request: Request, form: Params, authorization: AuthorizationRequest) -> Response:
        email, password = (form.get("email") or "").strip(), form.get("password") or ""
        mode = form.get("mode") or "live"
        again = partial(self._consent, request, authorization, email=email[:LONGEST_EMAIL], mode=mode)
        if mode not in Mode.__members__:
            return again(400, message="Choose live or test data.")
        if not email or not password:
            return again(400, message="Enter your email and password.")
        allowance = self._sign_in_allowance(request, email)
        wait = await allowance.take()
        if wait is not None:
            message = f"Too many failed sign-ins; retry in {wait} s."
            return again(429, message=message, headers={"Retry-After": str(wait)})
        code = None
        # An email no user can have never reaches the database (PostgreSQL refuses NUL in text).
        if len(email) <= LONGEST_EMAIL and len(password) <= passwords.MAX_LENGTH and not CONTROL.search(email):
            code = await to_thread.run_sync(self._approve, authorization, email, password, Mode[mode])
        if code is None:
            return again(400, message=WRONG_SIGN_IN)
        await allowance.give_back()
        answer = {"code": code, "state": authorization.state, "iss": self.server.issuer}
        response = consent.redirect(answer_url(authorization.redirect_uri, answer), 303)
        self.devices.set_cookie(response, email)
        return response

    def _address(self, request: Request) -> str:
        return client_address(request.scope, trust_forwarded_for=self.server.settings.trust_forwarded_for)

    def _sign_in_allowance(self, request: Request, email: str) -> _SignInAllowance:
        address = self._address(request)
        # The email is hashed: the limiter's store (Redis, perhaps) need not hold addresses of users.
        email_key = hashlib.sha256(email.lower().encode()).hexdigest()
        device = self.devices.device(request, email)
        if device is None:
            account = (EMAIL_FAILURES, Bucket(EMAIL_FAILURES.name, f"sign-in-failures:email:{email_key}"))
        else:
            account = (DEVICE_FAILURES, Bucket(DEVICE_FAILURES.name, f"sign-in-failures:device:{device}"))
        wanted = (
            (PAIR_FAILURES, Bucket(PAIR_FAILURES.name, f"sign-in-failures:pair:{email_key}:{address}")),
            (ADDRESS_FAILURES, Bucket(ADDRESS_FAILURES.name, f"sign-in-failures:address:{address}")),
            account,
        )
        return _SignInAllowance(self.buckets, wanted)

    def _approve(self, authorization: AuthorizationRequest, email: str, password: str, mode: Mode) -> str | None:
        """The code for a new grant when the email and password are right, else None."""
        settings = self.server.settings
        with session_scope(settings.database_url) as session:
            user = verify_password(session, email, password)
            if user is None:
                return None
            grant = oauth.create_grant(
                session,
                user=user,
                mode=mode,
                client_id=authorization.client.client_id,
                client_name=authorization.client.client_name,
                scopes=list(authorization.scopes),
            )
            return oauth.create_code(
                session,
                grant_id=grant.id,
                redirect_uri=authorization.sent_redirect_uri,
                code_challenge=authorization.code_challenge,
                resource=authorization.resource,
                lifetime=timedelta(seconds=settings.oauth_code_seconds),
            )


def _error_page(message: str, *, return_url: str | None = None) -> Response:
    title = "This authorization request cannot go on"
    return consent.page(consent.render_error(title, message, return_url=return_url), 400)


def routes(server: OAuthServer) -> list[BaseRoute]:
    endpoints = _Endpoints(server)
    return [
        Route("/oauth/authorize", endpoints.authorize, methods=["GET", "POST"]),
    ]
