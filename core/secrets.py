"""The instance key: the one secret kept outside the database, and every key derived from it.

Cursors and download links are signed, and kept idempotent answers sealed,
with keys derived from the instance key (HKDF-SHA256, one key per purpose).
The instance key itself lives in `VAULTGATE_SECRET_KEY` or a 0600 file, never
in the database, so a copy of the database alone yields no usable secret.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# 32 characters of hex (16 bytes) is the least we accept; `generate_instance_key` makes 64.
MINIMUM_KEY_LENGTH = 32
_NONCE_BYTES = 12


class InstanceKeyError(Exception):
    """The instance key is missing, too short or readable by other users: the gateway must not start."""


class UnreadableSeal(Exception):
    """A sealed value was made with another instance key, or was altered."""


@dataclass(frozen=True)
class InstanceKey:
    material: bytes = field(repr=False)
    _derived: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose ("cursor", "download", …): leaking one reveals no other."""
        if purpose not in self._derived:
            kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"vaultgate:{purpose}".encode())
            self._derived[purpose] = kdf.derive(self.material)
        return self._derived[purpose]

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt and authenticate `plaintext`; `context` binds it to its row, so it cannot be moved to another."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self.derive("seal")).encrypt(nonce, plaintext, context)

    def unseal(self, sealed: bytes, context: bytes) -> bytes:
        try:
            return AESGCM(self.derive("seal")).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context)
        except (InvalidTag, ValueError) as exc:
            raise UnreadableSeal("sealed with another instance key, or altered") from exc


def generate_instance_key() -> str:
    return secrets.token_hex(32)


def load_instance_key(configured: str | None, key_file: Path) -> InstanceKey:
    """The key from the environment if set, else from `key_file`; a clear error if neither is usable."""
    if configured is not None:
        return _checked(configured, "VAULTGATE_SECRET_KEY")
    try:
        mode = key_file.stat().st_mode
    except FileNotFoundError:
        raise InstanceKeyError(
            f"No instance key: set VAULTGATE_SECRET_KEY (the same value on every machine; "
            f"`vaultgate secret-key` prints a new one) or create {key_file} with mode 0600."
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InstanceKeyError(f"{key_file} is readable by other users; run `chmod 600 {key_file}`.")
    return _checked(key_file.read_text().strip(), str(key_file))


def _checked(value: str, source: str) -> InstanceKey:
    if len(value) < MINIMUM_KEY_LENGTH:
        raise InstanceKeyError(f"The instance key in {source} is shorter than {MINIMUM_KEY_LENGTH} characters.")
    return InstanceKey(value.encode())


def ensure_instance_key_file(key_file: Path) -> bool:
    """Create `key_file` (mode 0600) with a new key unless it exists; True if it was created."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once must not each write their own key.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as written:
        written.write(generate_instance_key() + "\n")
    return True
