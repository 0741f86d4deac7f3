"""Users' passwords, the apps they approved (OAuth grants) and their removal, in storage and through the CLI."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from core.failures import Invalid
from core.settings import Settings, get_settings
from gateway.app import create_app
from gateway.cli import main
from storage import oauth, passwords
from storage.accounts import create_organization, create_user, remove_user, set_password, verify_password
from storage.database import session_scope
from storage.demo import DEMO_EMAIL, ensure_demo_key, ensure_demo_password
from storage.models import Mode, Role, Tier, User
from tests.conftest import Caller, Tenants

PASSWORD = "correct horse battery staple"


def _user(database_url: str, email: str, password: str | None = PASSWORD) -> uuid.UUID:
    with session_scope(database_url) as session:
        organization = create_organization(session, name="Acme", tier=Tier.pro)
        user = create_user(session, organization=organization, email=email, name="Ada", role=Role.admin, permissions=[])
        if password is not None:
            set_password(session, user, password)
        return user.id


def _grant(database_url: str, user_id: uuid.UUID, client_name: str = "Claude Code") -> uuid.UUID:
    with session_scope(database_url) as session:
        grant = oauth.create_grant(
            session,
            user=session.get_one(User, user_id),
            mode=Mode.live,
            client_id=f"client-{uuid.uuid4().hex[:8]}",
            client_name=client_name,
            scopes=["vault:read", "meta:read"],
        )
        return grant.id


def _grant_state(database_url: str, grant_id: uuid.UUID) -> str:
    """ "live", or why the grant's tokens no longer work."""
    with session_scope(database_url) as session:
        access = oauth.grant_access(session, grant_id, None)
        return access if isinstance(access, str) else "live"


def _signs_in(database_url: str, email: str, password: str) -> bool:
    with session_scope(database_url) as session:
        return verify_password(session, email, password) is not None


def test_a_password_is_kept_as_an_argon2id_hash_with_the_measured_parameters(database_url: str) -> None:
    user_id = _user(database_url, "ada@acme.test")

    with session_scope(database_url) as session:
        stored = session.get_one(User, user_id).password_hash
    assert stored is not None
    assert stored.startswith("$argon2id$v=19$m=49152,t=2,p=2$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


def test_sign_in_takes_the_right_password_with_the_email_in_any_case_and_nothing_else(database_url: str) -> None:
    _user(database_url, "Ada@Acme.test")
    _user(database_url, "nopassword@acme.test", password=None)

    assert _signs_in(database_url, "ada@acme.TEST", PASSWORD)
    assert _signs_in(database_url, "Ada@Acme.test", PASSWORD)
    assert not _signs_in(database_url, "ada@acme.test", PASSWORD.upper())
    assert not _signs_in(database_url, "ada@acme.test", "")
    assert not _signs_in(database_url, "nobody@acme.test", PASSWORD)
    assert not _signs_in(database_url, "nopassword@acme.test", "")
    assert not _signs_in(database_url, "ada@acme.test", PASSWORD + "x" * 2000)


def test_every_sign_in_costs_one_verification_whether_or_not_the_email_exists(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _user(database_url, "ada@acme.test")
    removed = _user(database_url, "gone@acme.test")
    with session_scope(database_url) as session:
        remove_user(session, session.get_one(User, removed))
    _user(database_url, "nopassword@acme.test", password=None)
    verified: list[str] = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            verified.append(str(hash))
            return super().verify(hash, password)

    hasher = passwords.HASHER
    counting = CountingHasher(hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len)
    monkeypatch.setattr(passwords, "HASHER", counting)
    attempts = [
        ("ada@acme.test", PASSWORD),
        ("ada@acme.test", "wrong password!"),
        ("nobody@acme.test", PASSWORD),
        ("gone@acme.test", PASSWORD),
        ("nopassword@acme.test", PASSWORD),
    ]
    for email, password in attempts:
        _signs_in(database_url, email, password)

    assert len(verified) == len(attempts)
    # The stand-in hash costs what a real one does: the same parameters.
    assert not passwords.needs_rehash(passwords.DUMMY_HASH)
    assert passwords.DUMMY_HASH.split("$")[3] == verified[0].split("$")[3]


@pytest.mark.parametrize(
    ("password", "refusal"),
    [("short pass!", "at least 12 characters"), ("p" * 1025, "at most 1024 characters")],
)
def test_a_password_outside_12_to_1024_characters_is_refused_and_nothing_is_stored(
    database_url: str, password: str, refusal: str
) -> None:
    user_id = _user(database_url, "ada@acme.test")

    with pytest.raises(Invalid) as refused, session_scope(database_url) as session:
        set_password(session, session.get_one(User, user_id), password)

    assert refusal in str(refused.value)
    assert [error.pointer for error in refused.value.errors] == ["/password"]
    assert _signs_in(database_url, "ada@acme.test", PASSWORD)


def test_changing_a_password_revokes_every_app_the_user_approved_and_no_one_elses(database_url: str) -> None:
    ada = _user(database_url, "ada@acme.test")
    bob = _user(database_url, "bob@acme.test")
    adas = [_grant(database_url, ada), _grant(database_url, ada, "VS Code")]
    bobs = _grant(database_url, bob)

    with session_scope(database_url) as session:
        revoked = set_password(session, session.get_one(User, ada), "a brand new passphrase")

    assert revoked == 2
    assert [_grant_state(database_url, grant) for grant in adas] == ["revoked", "revoked"]
    assert _grant_state(database_url, bobs) == "live"
    assert _signs_in(database_url, "ada@acme.test", "a brand new passphrase")
    assert not _signs_in(database_url, "ada@acme.test", PASSWORD)


def test_a_hash_made_with_older_parameters_is_upgraded_at_the_next_sign_in(database_url: str) -> None:
    user_id = _user(database_url, "ada@acme.test", password=None)
    with session_scope(database_url) as session:
        weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
        session.get_one(User, user_id).password_hash = weaker

    assert _signs_in(database_url, "ada@acme.test", PASSWORD)

    with session_scope(database_url) as session:
        upgraded = session.get_one(User, user_id).password_hash
    assert upgraded is not None
    assert upgraded != weaker
    assert not passwords.needs_rehash(upgraded)
    assert _signs_in(database_url, "ada@acme.test", PASSWORD)


def test_a_corrupt_stored_hash_refuses_sign_in_instead_of_failing(database_url: str) -> None:
    user_id = _user(database_url, "ada@acme.test", password=None)
    with session_scope(database_url) as session:
        session.get_one(User, user_id).password_hash = "not a PHC string"

    assert not _signs_in(database_url, "ada@acme.test", PASSWORD)


# The operator's CLI, in this process, on the test's database.


@pytest.fixture
def vaultgate(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    monkeypatch.setenv("VAULTGATE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, **kwargs: Any) -> Result:
        return runner.invoke(main, list(args), **kwargs)

    yield invoke
    get_settings.cache_clear()


def test_set_password_reads_stdin_and_says_how_many_app_grants_it_revoked(
    database_url: str, vaultgate: Callable[..., Result]
) -> None:
    user_id = _user(database_url, "ada@acme.test", password=None)
    grant = _grant(database_url, user_id)

    done = vaultgate("users", "set-password", "--email", "ada@acme.test", "--password-stdin", input=PASSWORD + "\n")
    too_short = vaultgate("users", "set-password", "--email", "ada@acme.test", "--password-stdin", input="hunter2\n")
    unknown = vaultgate("users", "set-password", "--email", "nobody@acme.test", "--password-stdin", input=PASSWORD)

    assert done.exit_code == 0, done.output
    assert "1 app grant(s) revoked" in done.output
    assert PASSWORD not in done.output
    assert _signs_in(database_url, "ada@acme.test", PASSWORD)  # the newline `echo` adds is not part of it
    assert _grant_state(database_url, grant) == "revoked"
    assert too_short.exit_code == 1
    assert "at least 12 characters" in too_short.output
    assert not _signs_in(database_url, "ada@acme.test", "hunter2")
    assert unknown.exit_code == 1
    assert "no user with email nobody@acme.test" in unknown.output


def test_set_password_prompts_twice_hidden_and_asks_again_for_a_short_one(
    database_url: str, vaultgate: Callable[..., Result]
) -> None:
    _user(database_url, "ada@acme.test", password=None)

    result = vaultgate(
        "users", "set-password", "--email", "ada@acme.test", input=f"too short\n{PASSWORD}\n{PASSWORD}\n"
    )

    assert result.exit_code == 0, result.output
    assert "at least 12 characters" in result.output
    assert PASSWORD not in result.output
    assert _signs_in(database_url, "ada@acme.test", PASSWORD)


def test_grants_lists_the_users_apps_and_revoke_grant_ends_only_the_users_own(
    database_url: str, vaultgate: Callable[..., Result]
) -> None:
    ada = _user(database_url, "ada@acme.test")
    bob = _user(database_url, "bob@acme.test")
    claude, vscode = _grant(database_url, ada, "Claude Code"), _grant(database_url, ada, "VS Code")
    bobs = _grant(database_url, bob, "Cursor")
    _user(database_url, "carol@acme.test")

    listed = vaultgate("users", "grants", "--email", "ada@acme.test")
    revoked = vaultgate("users", "revoke-grant", "--email", "ada@acme.test", str(claude))
    again = vaultgate("users", "revoke-grant", "--email", "ada@acme.test", str(claude))
    others = vaultgate("users", "revoke-grant", "--email", "ada@acme.test", str(bobs))
    unknown = vaultgate("users", "revoke-grant", "--email", "ada@acme.test", str(uuid.uuid4()))
    after = vaultgate("users", "grants", "--email", "ada@acme.test")
    nothing = vaultgate("users", "grants", "--email", "carol@acme.test")

    header, *rows = listed.output.splitlines()
    assert header.split() == ["GRANT", "CLIENT", "CLIENT", "ID", "MODE", "SCOPES", "CREATED", "LAST", "USED", "REVOKED"]
    assert [row.split()[:2] for row in rows] == [[str(claude), "Claude"], [str(vscode), "VS"]]
    assert "live" in rows[0]
    assert "meta:read vault:read" in rows[0]
    assert rows[0].endswith("-")
    assert revoked.exit_code == 0, revoked.output
    assert f"revoked {claude} (Claude Code)" in revoked.output
    assert "already revoked (user)" in again.output
    assert _grant_state(database_url, claude) == "revoked"
    assert _grant_state(database_url, vscode) == "live"
    for refused in (others, unknown):
        assert refused.exit_code == 1
        assert "No OAuth grant with id" in refused.output
    assert _grant_state(database_url, bobs) == "live"
    assert after.output.splitlines()[1].endswith("(user)")
    assert nothing.output == "carol@acme.test has approved no app\n"


def test_a_removed_user_signs_in_nowhere_and_their_keys_and_grants_stop_working(
    settings: Settings, tenants: Tenants, vaultgate: Callable[..., Result]
) -> None:
    caller: Caller = tenants.caller()
    colleague: Caller = tenants.caller(organization_id=caller.organization_id)
    with session_scope(settings.database_url) as session:
        ada = session.get_one(User, caller.user_id)
        email = ada.email
        set_password(session, ada, PASSWORD)
    grant = _grant(settings.database_url, caller.user_id)
    uncached = settings.model_copy(update={"credential_cache_seconds": 0})

    with TestClient(create_app(uncached)) as client:
        before = client.get("/api/v2/meta/whoami", headers=caller.headers)
        unconfirmed = vaultgate("users", "remove", "--email", email, input="n\n")
        still = client.get("/api/v2/meta/whoami", headers=caller.headers)
        removed = vaultgate("users", "remove", "--email", email, "--yes")
        after = client.get("/api/v2/meta/whoami", headers=caller.headers)
        colleagues = client.get("/api/v2/meta/whoami", headers=colleague.headers)
    new_key = vaultgate("keys", "create", "--email", email)
    new_password = vaultgate("users", "set-password", "--email", email, "--password-stdin", input="another passphrase")

    assert (before.status_code, still.status_code) == (200, 200)
    assert unconfirmed.exit_code == 1
    assert removed.exit_code == 0, removed.output
    assert "1 API key(s) and 1 app grant(s) revoked" in removed.output
    assert after.status_code == 401
    assert colleagues.status_code == 200
    assert not _signs_in(settings.database_url, email, PASSWORD)
    assert _grant_state(settings.database_url, grant) == "revoked"
    assert new_key.exit_code == 1
    assert "was removed" in new_key.output
    assert new_password.exit_code == 1
    assert "was removed" in new_password.output


def test_rotate_signing_key_signs_with_a_new_key_and_keeps_the_old_one_verifying(
    database_url: str, vaultgate: Callable[..., Result]
) -> None:
    with session_scope(database_url) as session:
        old = oauth.ensure_signing_key(session).kid

    rotated = vaultgate("oauth", "rotate-signing-key")

    assert rotated.exit_code == 0, rotated.output
    with session_scope(database_url) as session:
        kids = [key.kid for key in oauth.signing_keys(session, verify_window=timedelta(minutes=15))]
    assert kids[1:] == [old]
    assert f"new signing key {kids[0]}" in rotated.output


def test_the_demo_password_is_kept_while_it_signs_in_and_replaced_when_it_does_not(database_url: str) -> None:
    with session_scope(database_url) as session:
        ensure_demo_key(session, None, ["meta:read"])
        first = ensure_demo_password(session, None)
    with session_scope(database_url) as session:
        kept = ensure_demo_password(session, first)
        replaced = ensure_demo_password(session, "a stale or mistyped password")

    assert len(first) >= passwords.MIN_LENGTH
    assert kept == first
    assert replaced != first
    assert _signs_in(database_url, DEMO_EMAIL, replaced)
    assert not _signs_in(database_url, DEMO_EMAIL, first)
