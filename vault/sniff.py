"""What an upload is, read from its bytes (never from its name or declared type)."""

from __future__ import annotations

import codecs
from typing import IO

from charset_normalizer import from_bytes

from core.failures import Unsafe, Unsupported
from vault.docx_safety import TEMPLATE_LIMITS, VAULT_LIMITS, ZipLimits, check_docx

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
MARKDOWN = "text/markdown"

_SAMPLE_BYTES = 64 * 1024
_ZIP = b"PK\x03\x04"
# Legacy Word files and every password-protected Office file are OLE compound documents.
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_REFUSED = "Legacy Word (.doc) and password-protected Office files are not accepted; save it as .docx."
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_MARKDOWN_SUFFIXES = (".md", ".markdown")


def _looks_like_text(sample: bytes) -> bool:
    if sample.startswith(_BOMS):
        return True
    if b"\x00" in sample:
        return False
    # Cut at a line end so a multi-byte character is not split at the sample's edge.
    cut = sample.rfind(b"\n")
    best = from_bytes(sample[: cut + 1] if 0 < cut < len(sample) - 1 else sample).best()
    return best is not None


def sniff(source: IO[bytes], filename: str, docx_limits: ZipLimits = VAULT_LIMITS) -> str:
    """The vault content type of `source`, or Unsupported; a DOCX also passes the zip checklist."""
    source.seek(0)
    head = source.read(_SAMPLE_BYTES)
    source.seek(0)
    if not head:
        raise Unsupported("The file is empty.")
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(_ZIP):
        check_docx(source, docx_limits)
        source.seek(0)
        return DOCX
    if head.startswith(_OLE):
        raise Unsupported(_OLE_REFUSED)
    if _looks_like_text(head):
        return MARKDOWN if filename.lower().endswith(_MARKDOWN_SUFFIXES) else TEXT
    raise Unsupported("The file is not a PDF, DOCX, plain text or Markdown document.")


def require_docx(source: IO[bytes], limits: ZipLimits = TEMPLATE_LIMITS) -> None:
    """Unsupported unless `source` is a DOCX (by its bytes), Unsafe unless it passes the checklist.

    A template's result is shared as a vault document, so one that would load content from elsewhere when
    opened (a remote image, frame or attached template: a tracking beacon, or a credential leak) is refused.
    """
    source.seek(0)
    head = source.read(len(_OLE))
    source.seek(0)
    if head.startswith(_OLE):
        raise Unsupported(_OLE_REFUSED)
    if not head.startswith(_ZIP):
        raise Unsupported("The template is not a Word document; upload a .docx file.")
    remote = check_docx(source, limits, external_targets=True).loads_remote_content()
    source.seek(0)
    if remote:
        raise Unsafe(
            f"The template loads content from outside itself when opened ({remote[0][:200]}); "
            "embed it instead of linking it."
        )
