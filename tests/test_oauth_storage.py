"""What the OAuth tables keep, and for how long."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage import oauth
from storage.database import session_scope
from storage.models import OAuthRevokedToken, utcnow


def test_a_revoked_access_token_is_kept_until_it_would_have_expired(database_url: str) -> None:
    now = utcnow()
    with session_scope(database_url) as session:
        oauth.revoke_access_token(session, "expired-already", now - timedelta(seconds=1))
        oauth.revoke_access_token(session, "still-live", now + timedelta(minutes=5))
    with session_scope(database_url) as session:
        oauth.revoke_access_token(session, "another", now + timedelta(minutes=5))
        # Revoking the same token twice keeps one row.
        oauth.revoke_access_token(session, "another", now + timedelta(minutes=5))
    with session_scope(database_url) as session:
        kept = set(session.scalars(select(OAuthRevokedToken.jti)))
    assert kept == {"still-live", "another"}
