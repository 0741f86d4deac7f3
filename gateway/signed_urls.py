"""Gateway-signed download URLs: the signature is the credential, bound to one document and an expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime

from gateway.problems import Problem

DOWNLOAD_TTL_SECONDS = 3600


def _signature(secret: bytes, document_id: uuid.UUID, expires: int) -> str:
    mac = hmac.new(secret, f"download:{document_id}:{expires}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def sign_download(secret: bytes, document_id: uuid.UUID, expires: int) -> str:
    return _signature(secret, document_id, expires)


def verify_download(secret: bytes, document_id: uuid.UUID, expires: int, signature: str, now: datetime) -> None:
    """Raise 403 `invalid_signature` unless the URL is intact and unexpired."""
    if not hmac.compare_digest(signature.encode(), _signature(secret, document_id, expires).encode()):
        raise Problem("invalid_signature", "This download link has been altered; ask for a new one.")
    if now.timestamp() >= expires:
        expired_at = datetime.fromtimestamp(expires, UTC).isoformat()
        raise Problem("invalid_signature", f"This download link expired at {expired_at}; ask for a new one.")
