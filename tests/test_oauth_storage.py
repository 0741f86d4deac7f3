"""What the OAuth tables keep, and for how long."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import oauth
from storage.accounts import create_organization, create_user
from storage.database import session_scope
from storage.models import Mode, OAuthRevokedToken, Role, Tier, utcnow


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


def test_a_grant_does_not_follow_its_user_into_another_organization(database_url: str) -> None:
    with session_scope(database_url) as session:
        first = create_organization(session, name="First", tier=Tier.free)
        second = create_organization(session, name="Second", tier=Tier.free)
        user = create_user(
            session, organization=first, email="ada@example.com", name="Ada", role=Role.member, permissions=[]
        )
        grant = oauth.create_grant(
            session, user=user, mode=Mode.live, client_id="app", client_name="App", scopes=["vault:read"]
        )
        assert not isinstance(oauth.grant_access(session, grant.id, None), str)
        user.organization_id = second.id
        session.flush()
        session.expire_all()

        assert oauth.grant_access(session, grant.id, None) == "revoked"


def test_a_token_revoked_twice_at_once_is_one_row_and_no_error(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    until = utcnow() + timedelta(minutes=5)
    with session_scope(database_url) as session:
        oauth.revoke_access_token(session, "raced", until)
    with session_scope(database_url) as session:
        # The other request's row landed after this one looked: its insert meets the primary key.
        monkeypatch.setattr(session, "get", lambda *args, **kwargs: None)
        oauth.revoke_access_token(session, "raced", until)
        oauth.revoke_access_token(session, "next", until)
    with session_scope(database_url) as session:
        kept = sorted(session.scalars(select(OAuthRevokedToken.jti)))
    assert kept == ["next", "raced"]
