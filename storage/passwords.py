"""Password hashing for the OAuth sign-in: argon2id PHC strings, and the length policy a new password meets."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.failures import Invalid

# Measured on the 2-core reference machine: time 2, 48 MiB, 2 lanes verifies in ~60 ms (argon2-cffi's default,
# RFC 9106's low-memory profile of time 3, 64 MiB, 4 lanes, took ~125 ms there); above OWASP's argon2id floor
# (19 MiB, time 2). Hashes made with other parameters are upgraded at the next successful sign-in.
HASHER = PasswordHasher(time_cost=2, memory_cost=48 * 1024, parallelism=2)

MIN_LENGTH = 12
# argon2 takes any length, but a sign-in form must not make the server hash megabytes.
MAX_LENGTH = 1024

# Verified when there is no real hash to check (unknown email, removed user, no password set), so the answer
# takes as long as a real check: its parameters must stay HASHER's (a test holds them together).
DUMMY_HASH = "$argon2id$v=19$m=49152,t=2,p=2$z07Nscco5Tuz9RHklYBwyw$jAGbFUpG+bMqwwJHQgLxPsIYWJ33LGtIsji1I/ePdhw"


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid.at("/password", f"A password needs at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise Invalid.at("/password", f"A password has at most {MAX_LENGTH} characters.")


def hash_password(password: str) -> str:
    """The PHC string of a password that meets the policy (`Invalid` otherwise)."""
    check_policy(password)
    return HASHER.hash(password)


def matches(stored_hash: str | None, password: str) -> bool:
    """Whether `password` is the one hashed; costs one verification even when there is nothing to match."""
    if stored_hash is None or len(password) > MAX_LENGTH:
        _verify(DUMMY_HASH, "")
        return False
    return _verify(stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
