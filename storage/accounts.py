"""Organizations and their users (passwords, approved apps, removal): managed by operators through the CLI."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.failures import Conflict, NotFound
from storage import api_keys, passwords
from storage.models import ApiKey, OAuthGrant, Organization, Role, Tier, User, utcnow
from storage.oauth import revoke_grants

# A per-user permission an organization can turn off (its admins always hold it): without it a user cannot
# fill templates, by `templates.start_fill` (403 `permission_denied`) or a workflow's `fill_template` step.
TEMPLATE_FILL = "template_fill"


def holds_permission(role: Role, permissions: Iterable[str], permission: str) -> bool:
    """An organization can turn a permission off for a user; its admins always hold it."""
    return role is Role.admin or permission in permissions


def user_holds_permission(session: Session, user_id: uuid.UUID, permission: str) -> bool:
    user = session.get(User, user_id)
    return user is not None and holds_permission(user.role, user.permissions, permission)


def create_organization(session: Session, *, name: str, tier: Tier) -> Organization:
    organization = Organization(id=uuid.uuid4(), name=name, tier=tier, created_at=utcnow())
    session.add(organization)
    session.flush()
    return organization


def create_user(
    session: Session,
    *,
    organization: Organization,
    email: str,
    name: str,
    role: Role,
    permissions: list[str],
) -> User:
    user = User(
        id=uuid.uuid4(),
        organization_id=organization.id,
        email=email,
        name=name,
        role=role,
        permissions=sorted(set(permissions)),
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def get_organization(session: Session, organization_id: uuid.UUID) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound("organization", organization_id)
    return organization


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))


def set_password(session: Session, user: User, password: str) -> int:
    """Hash (argon2id) and store the password; revoke every OAuth grant of the user (returns how many).

    The approvals were given by whoever knew the old password: after a change, each app must be approved again.
    """
    if user.removed_at is not None:
        raise Conflict(f"User {user.email} was removed and cannot sign in again.")
    user.password_hash = passwords.hash_password(password)
    return revoke_grants(session, None, user_id=user.id, reason="password_changed")


def verify_password(session: Session, email: str, password: str) -> User | None:
    """The user whose email (any case) and password these are (not removed, password set), else None.

    Costs one hash verification whether or not the email exists, so timing does not tell which emails do.
    """
    user = _signing_in(session, email)
    if user is None or user.removed_at is not None or user.password_hash is None:
        passwords.matches(None, password)
        return None
    if not passwords.matches(user.password_hash, password):
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.HASHER.hash(password)
    return user


def _signing_in(session: Session, email: str) -> User | None:
    """Emails are stored as typed, so two may differ only in case: the exact one wins, else the first."""
    candidates = session.scalars(select(User).where(func.lower(User.email) == email.lower()).order_by(User.email)).all()
    return next((user for user in candidates if user.email == email), candidates[0] if candidates else None)


def list_grants(session: Session, user: User) -> list[OAuthGrant]:
    """The apps the user approved on the consent page, oldest first, revoked ones included."""
    return list(
        session.scalars(
            select(OAuthGrant).where(OAuthGrant.user_id == user.id).order_by(OAuthGrant.created_at, OAuthGrant.id)
        )
    )


def revoke_grant(session: Session, user: User, grant_id: uuid.UUID) -> tuple[OAuthGrant, bool]:
    """End one of the user's grants and every token issued under it; another user's grant is `NotFound`.

    Answers the grant and whether this call revoked it (False: it already was).
    """
    grant = session.scalar(select(OAuthGrant).where(OAuthGrant.id == grant_id, OAuthGrant.user_id == user.id))
    if grant is None:
        raise NotFound("OAuth grant", grant_id)
    revoked = revoke_grants(session, [grant.id], user_id=user.id, reason="user") == 1
    session.refresh(grant)
    return grant, revoked


@dataclass(frozen=True)
class Removal:
    """What removing a user ended: live OAuth grants and API keys."""

    grants_revoked: int
    keys_revoked: int


def remove_user(session: Session, user: User) -> Removal:
    """The user authenticates nowhere from now on; their row stays, since their keys and work name it.

    Their API keys are revoked rather than checked against the user on every request: the key lookup stays one
    row, a revocation already reaches every process within the credential cache's second, and revoking a key
    also ends the managed MCP server tokens that act through it.
    """
    now = utcnow()
    if user.removed_at is None:
        user.removed_at = now
    user.password_hash = None
    grants = revoke_grants(session, None, user_id=user.id, reason="user_removed")
    live_keys = [
        key
        for key in session.scalars(select(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None)))
        if api_keys.unusable_reason(key.revoked_at, key.expires_at, now) is None
    ]
    for key in live_keys:
        api_keys.revoke_key(session, key, now)
    session.flush()
    return Removal(grants_revoked=grants, keys_revoked=len(live_keys))
