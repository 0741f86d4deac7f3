"""The demo tenant `vaultgate serve --demo` creates on first start."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import api_keys
from storage.accounts import create_organization, create_user, find_user_by_email, set_password, verify_password
from storage.models import ApiKey, Mode, Role, Tier, utcnow

DEMO_EMAIL = "demo@example.com"
# `serve --demo` writes the demo key here, for the demo's user and the `vaultgate runs` commands.
DEMO_KEY_FILE = Path("var") / "demo-key"
DEMO_KEY_NAME = "Demo key"
# ...and the demo admin's password here, for signing in on the OAuth consent page.
DEMO_PASSWORD_FILE = Path("var") / "demo-password"


def ensure_demo_key(session: Session, remembered_key: str | None, scopes: list[str]) -> str:
    """A working test-mode key for the demo admin, holding `scopes`: `remembered_key` if still valid, else a new one."""
    user = find_user_by_email(session, DEMO_EMAIL)
    if user is None:
        organization = create_organization(session, name="Demo Organization", tier=Tier.pro)
        user = create_user(
            session,
            organization=organization,
            email=DEMO_EMAIL,
            name="Demo Admin",
            role=Role.admin,
            permissions=["template_fill"],
        )
    if remembered_key and api_keys.is_well_formed(remembered_key):
        key = api_keys.find_credential(session, remembered_key)
        if key is not None and api_keys.unusable_reason(key.revoked_at, key.expires_at, utcnow()) is None:
            return remembered_key
    # The old demo key's secret is gone; retire it so only one demo key is live.
    for stale in session.scalars(select(ApiKey).where(ApiKey.user_id == user.id, ApiKey.name == DEMO_KEY_NAME)):
        api_keys.revoke_key(session, stale, utcnow())
    return api_keys.create_key(session, user=user, mode=Mode.test, name=DEMO_KEY_NAME, scopes=scopes).secret


def ensure_demo_password(session: Session, remembered_password: str | None) -> str:
    """The demo admin's password (after `ensure_demo_key`): `remembered_password` if it still signs in, else a
    new random one (which, like any password change, revokes the apps approved with the old one)."""
    if remembered_password and verify_password(session, DEMO_EMAIL, remembered_password) is not None:
        return remembered_password
    user = find_user_by_email(session, DEMO_EMAIL)
    assert user is not None, "ensure_demo_key creates the demo admin"
    password = secrets.token_urlsafe(12)
    set_password(session, user, password)
    return password
