"""What the token and revocation endpoints do: redeem codes, rotate refresh tokens, revoke (RFC 6749, 7636, 7009).

A failure is a `TokenError` carrying the RFC 6749 §5.2 `error`. Some failures
must leave a trace before they are answered (a reused code or refresh token
revokes its whole grant), so each step's storage work runs in its own unit of
work that commits that revocation, and the error is raised once it has.
Access tokens are signed after the unit of work commits: signing may read the
key ids in a session of its own, which SQLite would make wait for ours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from gateway.oauth.clients import Client
from gateway.oauth.resources import OFFLINE_ACCESS, OAuthServer
from gateway.oauth.tokens import InvalidToken, looks_like_jwt
from storage import oauth
from storage.database import session_scope
from storage.models import OAuthGrant, utcnow

# RFC 7636 §4.1: 43 to 128 characters of the unreserved set.
CODE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# An S256 challenge is the base64url SHA-256 of the verifier, without padding: 43 characters.
S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")

_REVOKED = {
    "user": "the user revoked it",
    "refresh_token_reused": "a refresh token of it was used twice",
    "code_reused": "its authorization code was used twice",
    "password_changed": "the user's password changed",
    "user_removed": "the user was removed",
    "client_deleted": "the client was deleted",
    "revoked_by_client": "the client revoked it",
}


class TokenError(Exception):
    """An error answer of the token or revocation endpoint: 400, or 401 for `invalid_client` (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        # 503 while a metadata-document client cannot be looked up now (busy; Retry-After says when to try).
        self.status = {"invalid_client": 401, "temporarily_unavailable": 503}.get(error, 400)
        self.headers = headers or {}


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    scopes: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "scope": " ".join(self.scopes),
        }


@dataclass(frozen=True)
class _Minting:
    """What to sign once the unit of work that checked it has committed."""

    user_id: uuid.UUID
    audience: str
    client_id: str
    scopes: tuple[str, ...]
    grant_id: uuid.UUID
    refresh_token: str


def pkce_matches(code_verifier: str, code_challenge: str) -> bool:
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return hmac.compare_digest(expected, code_challenge)


def requested_scopes(server: OAuthServer, scope: str | None) -> tuple[str, ...] | None:
    """The read scopes a `scope` parameter names (None: it names none); `invalid_scope` for any other scope."""
    names = [name for name in (scope or "").split() if name != OFFLINE_ACCESS]
    if any(name not in server.read_scopes for name in names):
        # The message names the parameter, never its value: it would be attacker text in the client's page.
        raise TokenError(
            "invalid_scope",
            f"The scope parameter asks for more than read scopes ({' '.join(server.read_scopes)}), "
            "the only ones tokens hold.",
        )
    return tuple(sorted(set(names))) or None


def exchange_code(
    server: OAuthServer,
    client: Client,
    *,
    code: str | None,
    redirect_uri: str | None,
    code_verifier: str | None,
    resource: str | None,
) -> IssuedTokens:
    """grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 8707 §2.2)."""
    if not code:
        raise TokenError("invalid_request", "code is required.")
    if not code_verifier:
        raise TokenError("invalid_request", "code_verifier is required: every authorization uses PKCE (S256).")
    if not CODE_VERIFIER.fullmatch(code_verifier):
        raise TokenError(
            "invalid_request",
            "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 section 4.1).",
        )
    with session_scope(server.settings.database_url) as session:
        outcome = _redeem(server, session, client, code, redirect_uri, code_verifier, resource)
    if isinstance(outcome, TokenError):
        raise outcome
    return _sign(server, outcome)


def _redeem(
    server: OAuthServer,
    session: Session,
    client: Client,
    code: str,
    redirect_uri: str | None,
    code_verifier: str,
    resource: str | None,
) -> _Minting | TokenError:
    found = oauth.find_code(session, code)
    if found is None:
        return TokenError("invalid_grant", "The authorization code is unknown.")
    row, grant = found
    if grant.client_id != client.client_id:
        return TokenError("invalid_grant", "The authorization code was issued to another client.")
    if row.used_at is not None:
        # RFC 6749 §4.1.2: a code used twice may have been stolen; what the first use got must die too.
        oauth.revoke_grants(session, [grant.id], user_id=None, reason="code_reused")
        return TokenError(
            "invalid_grant", "The authorization code was already used; every token issued with it is now revoked."
        )
    if row.expires_at <= utcnow():
        return TokenError("invalid_grant", "The authorization code has expired; authorize again.")
    if not _same_redirect(row.redirect_uri, redirect_uri, client):
        return TokenError("invalid_grant", "redirect_uri is not the one the authorization request sent.")
    if not pkce_matches(code_verifier, row.code_challenge):
        return TokenError("invalid_grant", "code_verifier does not match the authorization request's code_challenge.")
    if resource is not None and server.resources.canonical(resource) != row.resource:
        return TokenError("invalid_target", f"The authorization was for the resource {row.resource} only.")
    refused = _refusal(session, grant)
    if refused is not None:
        return refused
    if not oauth.claim_code(session, row):
        oauth.revoke_grants(session, [grant.id], user_id=None, reason="code_reused")
        return TokenError(
            "invalid_grant", "The authorization code was already used; every token issued with it is now revoked."
        )
    return _mint(server, session, grant, row.resource, tuple(grant.scopes))


def _same_redirect(authorized: str, sent: str | None, client: Client) -> bool:
    """RFC 6749 §4.1.3: the same redirect_uri string, when the authorization request sent one."""
    if authorized:
        # As bytes: compare_digest refuses text that is not ASCII, and `sent` is whatever the client sent.
        return sent is not None and hmac.compare_digest(sent.encode(), authorized.encode())
    # The authorization request sent none (the client registered one): the token request may name that one.
    return sent is None or client.redirect_uris == (sent,)


def refresh(
    server: OAuthServer, client: Client, *, refresh_token: str | None, scope: str | None, resource: str | None
) -> IssuedTokens:
    """grant_type=refresh_token (RFC 6749 §6), rotating the token; a rotated one used again revokes the grant.

    `scope` may narrow the access token's scopes (the refresh token keeps the grant's); `resource` may only name
    the resource the grant was approved for: a token for one managed server must not become one for the whole API.
    """
    if not refresh_token:
        raise TokenError("invalid_request", "refresh_token is required.")
    narrowed = requested_scopes(server, scope)
    with session_scope(server.settings.database_url) as session:
        outcome = _rotate(server, session, client, refresh_token, narrowed, resource)
    if isinstance(outcome, TokenError):
        raise outcome
    return _sign(server, outcome)


def _rotate(
    server: OAuthServer,
    session: Session,
    client: Client,
    refresh_token: str,
    narrowed: tuple[str, ...] | None,
    resource: str | None,
) -> _Minting | TokenError:
    found = oauth.find_refresh_token(session, refresh_token)
    if found is None:
        return TokenError("invalid_grant", "The refresh token is unknown.")
    token, grant = found
    if grant.client_id != client.client_id:
        return TokenError("invalid_grant", "The refresh token was issued to another client.")
    reused = TokenError(
        "invalid_grant",
        "The refresh token was already used, so it may have been stolen: every token of this authorization is "
        "now revoked; authorize again.",
    )
    if token.rotated_at is not None:
        oauth.revoke_grants(session, [grant.id], user_id=None, reason="refresh_token_reused")
        return reused
    refused = _refusal(session, grant)
    if refused is not None:
        return refused
    if token.expires_at <= utcnow():
        return TokenError("invalid_grant", "The refresh token has expired; authorize again.")
    if narrowed is not None and not set(narrowed) <= set(grant.scopes):
        return TokenError(
            "invalid_scope", f"A refresh may only narrow the approved scopes ({' '.join(sorted(grant.scopes))})."
        )
    if resource is not None and server.resources.canonical(resource) != token.resource:
        return TokenError("invalid_target", f"This refresh token is for the resource {token.resource} only.")
    if not oauth.rotate_refresh_token(session, token):
        oauth.revoke_grants(session, [grant.id], user_id=None, reason="refresh_token_reused")
        return reused
    return _mint(server, session, grant, token.resource, narrowed or tuple(grant.scopes))


def _refusal(session: Session, grant: OAuthGrant) -> TokenError | None:
    """Why the grant may no longer mint tokens (revoked, its user removed), or None."""
    access = oauth.grant_access(session, grant.id, None)
    if not isinstance(access, str):
        return None
    if access == "user_removed":
        return TokenError("invalid_grant", "The user who approved this authorization was removed.")
    reason = _REVOKED.get(grant.revoked_reason or "", "it was revoked")
    return TokenError("invalid_grant", f"The authorization was revoked ({reason}); authorize again.")


def _mint(server: OAuthServer, session: Session, grant: OAuthGrant, resource: str, scopes: tuple[str, ...]) -> _Minting:
    oauth.mark_grant_used(session, grant.id)
    refresh_token = oauth.create_refresh_token(
        session,
        grant_id=grant.id,
        resource=resource,
        lifetime=timedelta(days=server.settings.oauth_refresh_token_days),
    )
    return _Minting(grant.user_id, resource, grant.client_id, scopes, grant.id, refresh_token)


def _sign(server: OAuthServer, minting: _Minting) -> IssuedTokens:
    access_token, _ = server.tokens.issue(
        user_id=minting.user_id,
        audience=minting.audience,
        client_id=minting.client_id,
        scopes=list(minting.scopes),
        grant_id=minting.grant_id,
    )
    return IssuedTokens(
        access_token=access_token,
        expires_in=server.settings.oauth_access_token_seconds,
        refresh_token=minting.refresh_token,
        scopes=minting.scopes,
    )


def revoke(server: OAuthServer, client: Client, token: str | None) -> None:
    """RFC 7009: end a refresh token's whole grant, or one access token (by `jti`); unknown tokens are ignored.

    Only the client a token was issued to may revoke it (§2.1); another client is refused `unauthorized_client`.
    """
    if not token:
        raise TokenError("invalid_request", "token is required.")
    claims = None
    if looks_like_jwt(token):
        try:
            claims = server.tokens.read(token, check_expiry=False)
        except InvalidToken:
            return
    with session_scope(server.settings.database_url) as session:
        if claims is not None:
            if claims.client_id != client.client_id:
                raise _not_yours()
            oauth.revoke_access_token(session, claims.token_id, claims.accepted_until)
            return
        found = oauth.find_refresh_token(session, token)
        if found is None:
            return
        _, grant = found
        if grant.client_id != client.client_id:
            raise _not_yours()
        oauth.revoke_grants(session, [grant.id], user_id=None, reason="revoked_by_client")


def _not_yours() -> TokenError:
    return TokenError("unauthorized_client", "The token was issued to another client, which alone may revoke it.")
