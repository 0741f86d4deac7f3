"""The demo tenant `vaultgate serve --demo` creates on first start."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import api_keys
from storage.accounts import create_organization, create_user, find_user_by_email
from storage.models import ApiKey, Mode, Role, Tier, utcnow

DEMO_EMAIL = "demo@example.com"
# `serve --demo` writes the demo key here, for the demo's user and the `vaultgate runs` commands.
DEMO_KEY_FILE = Path("var") / "demo-key"
DEMO_KEY_NAME = "Demo key"


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
