"""The DOCX zip checklist: run before any parser sees an uploaded Word file.

A 185 KiB upload can hold a 105 MB document.xml that costs python-docx 2 GB,
and XML parts can carry DTDs (XXE, billion laughs). Everything here reads only
the zip directory and, for XML parts, at most the sizes it has already bounded.
"""

from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import IO

from lxml import etree

from vault.errors import UnsafeContent, UnsupportedContent

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_RELATIONSHIPS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_\-.\[\]/]+$")
_MACRO_MARKERS = ("macroenabled", "vbaproject", "vbadata", "activex")
_MAX_PACKAGE_PART_BYTES = 1024 * 1024
_PROLOG_BYTES = 64 * 1024
_START_TAG = re.compile(r"<[A-Za-z_]")


@dataclass(frozen=True)
class ZipLimits:
    """Bounds for one use: legitimate Word files seen had ≤ 37 entries and a worst ratio of 161."""

    max_entries: int = 1000
    max_entry_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 256 * 1024 * 1024
    max_ratio: int = 200
    # Small parts compress extremely well legitimately; ratios matter only above this size.
    ratio_floor_bytes: int = 1024 * 1024
    max_document_xml_bytes: int = 64 * 1024 * 1024


VAULT_LIMITS = ZipLimits()
# Templates are rendered in memory by python-docx/docxtpl, so their body is kept small.
TEMPLATE_LIMITS = ZipLimits(max_document_xml_bytes=5 * 1000 * 1000)


@dataclass
class DocxReport:
    """What the checklist found in a DOCX that passed it."""

    main_part: str
    parts: list[str]
    # (relationship type, target) of every part the document loads from outside itself, hyperlinks included.
    external: list[tuple[str, str]] = field(default_factory=list)

    def loads_remote_content(self) -> list[str]:
        """External targets Word fetches on opening (images, frames, attached templates), not links people click."""
        return [target for kind, target in self.external if not kind.endswith("/hyperlink")]


def safe_xml_parser() -> etree.XMLParser:
    """An lxml parser that never loads a DTD, expands an entity or touches the network."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


def _parse_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> etree._Element:
    """Parse a small package part ([Content_Types].xml, .rels) into a tree; anything large is refused first."""
    if info.file_size > _MAX_PACKAGE_PART_BYTES:
        raise UnsafeContent(f"The DOCX part '{info.filename}' is {info.file_size} bytes; package parts are small.")
    try:
        tree = etree.fromstring(archive.read(info), safe_xml_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise UnsafeContent(f"The DOCX part '{info.filename}' is not well-formed XML.") from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeContent(f"The DOCX part '{info.filename}' declares a DTD; DTDs and entities are refused.")
    return tree.getroot()


def _declares_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether an XML part has a DOCTYPE or ENTITY, read from its prolog only.

    A DTD can only come before the root element, so the first 64 KiB decide; the
    part is never built into a tree here (that happens in the bounded child).
    """
    with archive.open(info) as member:
        head = member.read(_PROLOG_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="ignore")
    else:
        # UTF-8 and every ASCII-compatible encoding spell the markup alike.
        text = head.decode("latin-1")
    root = _START_TAG.search(text)
    prolog = text[: root.start()] if root else text
    return "<!DOCTYPE" in prolog or "<!ENTITY" in prolog


def _check_directory(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    if len(infos) > limits.max_entries:
        raise UnsafeContent(f"The DOCX has {len(infos)} zip entries; at most {limits.max_entries} are accepted.")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if not _SAFE_NAME.match(name) or name.startswith("/") or ".." in name.split("/"):
            raise UnsafeContent(f"The DOCX holds an entry with an unsafe name: {name!r}.")
        if name.lower() in seen:
            raise UnsafeContent(f"The DOCX holds the entry {name!r} twice.")
        seen.add(name.lower())
        if info.flag_bits & 0x1:
            raise UnsupportedContent("The DOCX is encrypted; upload it without a password.")
        if info.file_size > limits.max_entry_bytes:
            raise UnsafeContent(f"The DOCX entry {name!r} unpacks to {info.file_size} bytes, over the limit.")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            raise UnsafeContent(
                f"The DOCX entry {name!r} is compressed {ratio:.0f}:1 (a zip bomb?); at most {limits.max_ratio}:1."
            )
        total += info.file_size
    if total > limits.max_total_bytes:
        raise UnsafeContent(f"The DOCX unpacks to {total} bytes; at most {limits.max_total_bytes} are accepted.")


def _main_part(archive: zipfile.ZipFile) -> str:
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        raise UnsupportedContent("The zip file is not an Office document (no [Content_Types].xml).") from None
    types = _parse_part(archive, info)
    main = None
    for entry in types:
        content_type = (entry.get("ContentType") or "").lower()
        if any(marker in content_type for marker in _MACRO_MARKERS):
            raise UnsupportedContent("Macro-enabled Word files (.docm) are not accepted; save it as .docx.")
        if entry.tag == f"{_CONTENT_TYPES_NS}Override" and content_type == DOCX_MAIN:
            main = (entry.get("PartName") or "").lstrip("/")
    if main is None:
        raise UnsupportedContent("The Office file is not a Word document (.docx).")
    return main


def check_docx(source: IO[bytes], limits: ZipLimits = VAULT_LIMITS) -> DocxReport:
    """Raise UnsupportedContent/UnsafeContent unless `source` is a DOCX safe to hand to a parser.

    Memory stays bounded whatever the zip claims: only small package parts are parsed,
    and other XML parts are read up to their prolog.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise UnsupportedContent("The file starts like a zip archive but is not a readable one.") from exc
    try:
        with archive:
            return _check_archive(archive, limits)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError, RuntimeError) as exc:
        # Bad CRCs, unknown compression methods, corrupt streams: a damaged file, not a server fault.
        raise UnsafeContent(f"The DOCX is damaged: {exc}.") from exc


def _check_archive(archive: zipfile.ZipFile, limits: ZipLimits) -> DocxReport:
    infos = archive.infolist()
    _check_directory(infos, limits)
    main = _main_part(archive)
    names = {info.filename: info for info in infos}
    if main not in names:
        raise UnsupportedContent("The Word document's main part is missing.")
    if names[main].file_size > limits.max_document_xml_bytes:
        raise UnsafeContent(
            f"The document body unpacks to {names[main].file_size} bytes; "
            f"at most {limits.max_document_xml_bytes} are accepted."
        )
    if any(name.lower().endswith(("vbaproject.bin", "vbadata.xml")) for name in names):
        raise UnsupportedContent("Macro-enabled Word files (.docm) are not accepted; save it as .docx.")
    report = DocxReport(main_part=main, parts=sorted(names))
    for info in infos:
        if info.filename.endswith(".rels"):
            root = _parse_part(archive, info)
            report.external.extend(
                (rel.get("Type", ""), rel.get("Target", ""))
                for rel in root.iter(f"{_RELATIONSHIPS_NS}Relationship")
                if rel.get("TargetMode") == "External"
            )
        elif info.filename.endswith(".xml") and _declares_dtd(archive, info):
            raise UnsafeContent(f"The DOCX part '{info.filename}' declares a DTD; DTDs and entities are refused.")
    return report
