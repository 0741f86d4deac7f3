"""Access tokens: ES256 JWTs (joserfc) signed with keys derived from the instance key, verified by audience.

No private key is stored anywhere: a key's id (`kid`) is, and the key is
HKDF(instance key, "oauth-signing-key:<kid>") read as a P-256 scalar. Every
gateway process therefore signs and verifies with the same keys, and a database
copy alone cannot mint a token.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from joserfc.jwt import JWTClaimsRegistry

from core.secrets import InstanceKey
from core.settings import Settings
from storage import oauth
from storage.database import session_scope

ALGORITHM = "ES256"
# A token is refused this long after its `exp` at the latest: clocks of the processes differ a little.
LEEWAY_SECONDS = 30
# How often a process rereads the key ids (a rotation elsewhere), and at most how often an unknown `kid` may
# make it reread early (a forged `kid` must not cost a query per request).
REFRESH_SECONDS = 300.0
UNKNOWN_KID_SECONDS = 5.0


class InvalidToken(Exception):
    """The bearer string is not an access token this issuer signed for this resource, live now."""


@dataclass(frozen=True)
class AccessClaims:
    issuer: str
    user_id: uuid.UUID
    audience: str
    client_id: str
    scopes: tuple[str, ...]
    token_id: str
    grant_id: uuid.UUID
    expires_at: datetime

    @property
    def accepted_until(self) -> datetime:
        """The last instant `verify` accepts the token (its `exp` plus the leeway): what a revocation must outlast
        and a cached principal must not."""
        return self.expires_at + timedelta(seconds=LEEWAY_SECONDS)


def _private_key(instance_key: InstanceKey, kid: str) -> ec.EllipticCurvePrivateKey:
    seed = int.from_bytes(instance_key.derive(f"oauth-signing-key:{kid}"), "big")
    # The P-256 group order; a scalar in [1, n-1].
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    return ec.derive_private_key(seed % (order - 1) + 1, ec.SECP256R1())


class SigningKeys:
    """This process's view of the signing keys: which signs, which verify (reread from the database now and then)."""

    def __init__(self, settings: Settings, instance_key: InstanceKey) -> None:
        self.settings = settings
        self.instance_key = instance_key
        self._lock = threading.Lock()
        self._keys: dict[str, ECKey] = {}
        self._signing_kid: str | None = None
        self._read_at = float("-inf")
        self._unknown_at = float("-inf")

    @property
    def verify_window(self) -> timedelta:
        # Another process may go on signing with a retired key until it rereads the key ids (`REFRESH_SECONDS`),
        # and the last token it signs lives its full lifetime after that.
        return timedelta(seconds=self.settings.oauth_access_token_seconds + REFRESH_SECONDS + LEEWAY_SECONDS)

    def _reload(self) -> None:
        with session_scope(self.settings.database_url) as session:
            oauth.ensure_signing_key(session)
            rows = oauth.signing_keys(session, verify_window=self.verify_window)
            kids = [(row.kid, row.retired_at is None) for row in rows]
        keys = {
            kid: self._keys.get(kid)
            or ECKey.import_key(_private_key(self.instance_key, kid), {"kid": kid, "use": "sig", "alg": ALGORITHM})
            for kid, _ in kids
        }
        self._keys = keys
        self._signing_kid = next(kid for kid, signing in kids if signing)
        self._read_at = time.monotonic()

    def _current(self) -> dict[str, ECKey]:
        with self._lock:
            if time.monotonic() - self._read_at >= REFRESH_SECONDS:
                self._reload()
            return self._keys

    def reload(self) -> None:
        """Reread now (after a rotation through this process)."""
        with self._lock:
            self._reload()

    def signing(self) -> ECKey:
        keys = self._current()
        assert self._signing_kid is not None
        return keys[self._signing_kid]

    def verifying(self, kid: str) -> ECKey | None:
        keys = self._current()
        if kid in keys:
            return keys[kid]
        with self._lock:
            if time.monotonic() - self._unknown_at < UNKNOWN_KID_SECONDS:
                return None
            self._unknown_at = time.monotonic()
            self._reload()
            return self._keys.get(kid)

    def jwks(self) -> dict[str, Any]:
        """The public keys (RFC 7517), signing key first."""
        keys = self._current()
        ordered: list[Any] = sorted(keys.values(), key=lambda k: k.kid != self._signing_kid)
        return dict(KeySet(ordered).as_dict(private=False))


class AccessTokens:
    def __init__(self, settings: Settings, issuer: str, keys: SigningKeys) -> None:
        self.settings = settings
        self.issuer = issuer
        self.keys = keys

    def issue(
        self, *, user_id: uuid.UUID, audience: str, client_id: str, scopes: list[str], grant_id: uuid.UUID
    ) -> tuple[str, AccessClaims]:
        now = int(time.time())
        lifetime = self.settings.oauth_access_token_seconds
        claims = AccessClaims(
            issuer=self.issuer,
            user_id=user_id,
            audience=audience,
            client_id=client_id,
            scopes=tuple(sorted(scopes)),
            token_id=secrets.token_urlsafe(16),
            grant_id=grant_id,
            expires_at=datetime.fromtimestamp(now + lifetime, UTC),
        )
        key = self.keys.signing()
        payload = {
            "iss": claims.issuer,
            "sub": str(claims.user_id),
            "aud": claims.audience,
            "client_id": claims.client_id,
            "scope": " ".join(claims.scopes),
            "jti": claims.token_id,
            "gid": str(claims.grant_id),
            "iat": now,
            "exp": now + lifetime,
        }
        # RFC 9068 names the type of a JWT access token, so it is never taken for an ID token.
        token = jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": "at+jwt"}, payload, key, algorithms=[ALGORITHM])
        return token, claims

    def verify(self, token: str, audiences: tuple[str, ...]) -> AccessClaims:
        """The claims of a live token this issuer signed for one of `audiences` (RFC 8707); `InvalidToken` else."""
        claims = self.read(token)
        if claims.audience not in audiences:
            raise InvalidToken(f"The access token is for {claims.audience}, not this resource.")
        return claims

    def read(self, token: str, *, check_expiry: bool = True) -> AccessClaims:
        """The claims of a token this issuer signed (any audience); `InvalidToken` else."""
        try:
            kid = jws.extract_compact(token.encode()).headers().get("kid")
        except (JoseError, ValueError, UnicodeError) as exc:
            raise InvalidToken("The access token is malformed.") from exc
        key = self.keys.verifying(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("The access token is not signed by a key of this issuer.")
        try:
            decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
            if decoded.header.get("typ") != "at+jwt":
                raise InvalidToken("The token is not an access token.")
            registry = JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.issuer},
                sub={"essential": True},
                aud={"essential": True},
                jti={"essential": True},
                exp={"essential": True},
            )
            if check_expiry:
                registry.validate(decoded.claims)
            values = decoded.claims
            return AccessClaims(
                issuer=values["iss"],
                user_id=uuid.UUID(values["sub"]),
                audience=values["aud"],
                client_id=values["client_id"],
                scopes=tuple(str(values.get("scope", "")).split()),
                token_id=values["jti"],
                grant_id=uuid.UUID(values["gid"]),
                expires_at=datetime.fromtimestamp(int(values["exp"]), UTC),
            )
        except InvalidToken:
            raise
        except (JoseError, KeyError, ValueError, TypeError) as exc:
            raise InvalidToken("The access token is invalid or has expired.") from exc


def looks_like_jwt(token: str) -> bool:
    """A JWS compact serialization has two dots; API keys and server tokens have none."""
    return token.count(".") == 2
