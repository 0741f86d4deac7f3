"""Gateway-signed download URLs: the signature is the credential, bound to one document and an expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import uuid
from datetime import UTC, datetime, timedelta

from core.settings import Settings
from gateway.contract import load_contract
from gateway.problems import Problem
from storage.blobs import BlobStore
from storage.models import Document

# How long a signed download link works; the spec says it in words (tests/test_limits_documented.py).
DOWNLOAD_TTL_SECONDS = 3600


def public_base_url(settings: Settings) -> str:
    """Where links to this gateway point: `VAULTGATE_PUBLIC_URL`, else the address `vaultgate serve` listens on.

    Never the request's `Host`: the caller writes that header, and a forged one would make the gateway hand out
    signed links to the attacker's host (links shared or opened later, by someone else, leak the signature).
    """
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{settings.port}"  # a name, e.g. localhost
    if address.is_unspecified:
        # Listening on every interface names none a client can use; behind anything, set VAULTGATE_PUBLIC_URL.
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    return f"http://[{address}]:{settings.port}" if address.version == 6 else f"http://{address}:{settings.port}"


def sign_download(secret: bytes, document_id: uuid.UUID, expires: int) -> str:
    mac = hmac.new(secret, f"download:{document_id}:{expires}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def download_link(
    store: BlobStore, secret: bytes, document: Document, base_url: str, now: datetime
) -> tuple[str, datetime]:
    """A URL for the document's bytes valid `DOWNLOAD_TTL_SECONDS`, and when it expires: the store's own
    presigned URL if it makes one (S3), else a gateway URL to `vault.get_document_content` signed with `secret`."""
    expires_at = now.replace(microsecond=0) + timedelta(seconds=DOWNLOAD_TTL_SECONDS)
    url = store.presigned_url(document.blob_key, document.filename, document.content_type, DOWNLOAD_TTL_SECONDS)
    if url is None:
        expires = int(expires_at.timestamp())
        path = load_contract().url_for("vault.get_document_content", document_id=document.id)
        url = f"{base_url.rstrip('/')}{path}?expires={expires}&signature={sign_download(secret, document.id, expires)}"
    return url, expires_at


def verify_download(secret: bytes, document_id: uuid.UUID, expires: int, signature: str, now: datetime) -> None:
    """Raise 403 `invalid_signature` unless the URL is intact and unexpired."""
    if not hmac.compare_digest(signature.encode(), sign_download(secret, document_id, expires).encode()):
        raise Problem("invalid_signature", "This download link has been altered; ask for a new one.")
    if now.timestamp() >= expires:
        expired_at = datetime.fromtimestamp(expires, UTC).isoformat()
        raise Problem("invalid_signature", f"This download link expired at {expired_at}; ask for a new one.")
