"""Text extraction: PDF by page, DOCX and text by paragraph. Runs in a resource-limited child process.

A DOCX reaching this module has passed `vault.docx_safety.check_docx`.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes
from lxml import etree
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from core.failures import Failure, Unsafe, Unsupported
from vault.docx_safety import DocxPackage, safe_xml_parser
from vault.sniff import DOCX, MARKDOWN, PDF

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_HEADER_FOOTER = ("/header", "/footer")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_ATX_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Segment:
    """A page (PDF) or a non-empty paragraph (everything else), numbered from 1."""

    location_type: str
    number: int
    text: str


@dataclass(frozen=True)
class Extracted:
    title: str | None
    page_count: int | None
    segments: list[Segment]


def extract(path: str, content_type: str) -> Extracted:
    """Read the text of the file at `path`; Failure says why it cannot be read."""
    readers = {PDF: _pdf, DOCX: _docx}
    try:
        extracted = readers.get(content_type, _text)(Path(path), content_type)
    except MemoryError:
        raise Failure("extraction_limit", "The file needs more memory to read than the limit allows.") from None
    if not any(segment.text.strip() for segment in extracted.segments):
        raise Failure("no_text", "The file contains no extractable text (a scanned PDF needs OCR first).")
    return extracted


def _pdf(path: Path, _content_type: str) -> Extracted:
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Failure("pdf_encrypted", "The PDF is encrypted; upload it without a password.")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except Failure:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError) as exc:
        raise Failure("pdf_unreadable", f"The PDF is damaged or truncated and cannot be read ({exc}).") from exc
    segments = [Segment("page", number, text.strip()) for number, text in enumerate(pages, 1) if text.strip()]
    return Extracted(_clean_title(title), len(pages), segments)


_RUN_TEXT = {f"{W}t": None, f"{W}tab": "\t", f"{W}noBreakHyphen": "-", f"{W}br": "\n", f"{W}cr": "\n"}


def _paragraph_text(paragraph: etree._Element) -> str:
    parts: list[str] = []
    for node in paragraph.iter(*_RUN_TEXT):
        # mc:Fallback repeats its mc:Choice (text boxes) for older readers.
        if any(ancestor.tag == _MC_FALLBACK for ancestor in node.iterancestors()):
            continue
        parts.append(_RUN_TEXT[node.tag] or node.text or "")
    return "".join(parts).strip()


def _blocks(container: etree._Element) -> list[str]:
    """Paragraph texts in reading order; a table row is one paragraph, its cells joined by ' | '."""
    texts: list[str] = []
    for child in container:
        if child.tag == f"{W}p":
            texts.append(_paragraph_text(child))
        elif child.tag == f"{W}tbl":
            for row in child.iter(f"{W}tr"):
                cells = [" ".join(filter(None, _blocks(cell))) for cell in row.iter(f"{W}tc")]
                texts.append(" | ".join(cells))
        elif child.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}body"):
            # Content controls (and custom XML) wrap paragraphs that python-docx would skip.
            texts.extend(_blocks(child))
    return texts


def _docx(path: Path, _content_type: str) -> Extracted:
    try:
        with zipfile.ZipFile(path) as archive:
            # The body Word opens, found as the checklist found it (never by a content type alone).
            package = DocxPackage(archive)
            main = package.main_part()
            parser = safe_xml_parser()
            paragraphs = _blocks(etree.fromstring(archive.read(main), parser))
            for part in _headers_and_footers(package, main):
                paragraphs.extend(_blocks(etree.fromstring(archive.read(part), parser)))
            title = None
            core = package.info("docProps/core.xml")
            if core is not None:
                title = etree.fromstring(archive.read(core), parser).findtext(_DC_TITLE)
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, OSError, Unsafe, Unsupported) as exc:
        raise Failure("docx_unreadable", f"The DOCX is damaged and cannot be read ({exc}).") from exc
    return Extracted(_clean_title(title), None, _numbered(paragraphs))


def _headers_and_footers(package: DocxPackage, main: str) -> list[str]:
    """The body's header and footer parts, each once, in relationship order."""
    parts: list[str] = []
    for rel in package.relationships(main):
        info = package.info(rel.target)
        if rel.external or not rel.kind.endswith(_HEADER_FOOTER) or info is None:
            continue
        if info.filename not in parts:
            parts.append(info.filename)
    return parts


def _decode(data: bytes) -> str:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None:
            raise Failure("text_unreadable", "The text's encoding could not be determined.") from None
        return str(best)


def _text(path: Path, content_type: str) -> Extracted:
    text = _decode(path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n")
    title = None
    if content_type == MARKDOWN:
        heading = _ATX_HEADING.search(text)
        title = heading.group(1) if heading else None
    return Extracted(_clean_title(title), None, _numbered(_BLANK_LINE.split(text)))


def _numbered(paragraphs: list[str]) -> list[Segment]:
    kept = [p.strip() for p in paragraphs if p.strip()]
    return [Segment("paragraph", number, text) for number, text in enumerate(kept, 1)]


def _clean_title(title: str | None) -> str | None:
    title = " ".join((title or "").split())
    return title[:500] or None
