"""Organizations and their users: created by operators through the CLI, not the public API."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.failures import NotFound
from storage.models import Organization, Role, Tier, User, utcnow

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
    """(being built) Hash (argon2id) and store the password; revoke every OAuth grant of the user (returns how many)."""
    raise NotImplementedError


def verify_password(session: Session, email: str, password: str) -> User | None:
    """(being built) The user whose email and password these are (not removed, password set), else None.

    Costs one hash verification whether or not the email exists, so timing does not tell which emails do.
    """
    raise NotImplementedError
