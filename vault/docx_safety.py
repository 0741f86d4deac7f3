"""The DOCX zip checklist: run before any parser sees an uploaded Word file.

It reads the package as Word and python-docx do: the body is the part `_rels/.rels` names
`officeDocument`, and it must be the one part `[Content_Types].xml` overrides as a Word body (a
decoy typed as the body while another part is opened is refused). A 185 KiB upload can hold a
105 MB document.xml that costs python-docx 2 GB, and XML parts can carry DTDs (XXE, billion
laughs): every part that is XML is size-capped and read by an XML parser up to its root element,
where any DTD must already have appeared. A part is XML when its content type says so, when the
extractor or docxtpl reads it as XML whatever its type (the body, the parts the body relates to
but media and embedded files, the core properties), or when an XML parser reads it so (every
part but the pictures and files recognised by their first bytes is tried, decoded as lxml decodes
it). Only the relationship parts that decide something are parsed, bounded in bytes and
relationships, so memory and CPU stay bounded whatever the zip claims.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import IO, Any

from lxml import etree

from core.failures import Unsafe, Unsupported

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_CONTENT_TYPES = "[Content_Types].xml"
_CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
# Transitional and Strict OOXML spell the package's main relationship differently; Word reads both.
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
    "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_\-.\[\]/]+$")
_MACRO_MARKERS = ("macroenabled", "vbaproject", "vbadata", "activex")
_MAX_PACKAGE_PART_BYTES = 1024 * 1024
# All relationship parts one check parses, together: legitimate files have a few KiB of them.
_MAX_RELATIONSHIP_BYTES = 4 * 1024 * 1024
_MAX_RELATIONSHIPS = 20_000
_PROLOG_CHUNK_BYTES = 4096
# A legitimate part reaches its root element within a few hundred bytes; the total bounds a zip
# of many parts with long prologs (a legitimate file reads at most one chunk a part).
_MAX_PROLOG_BYTES = 256 * 1024
_MAX_PROLOGS_BYTES = 8 * 1024 * 1024
_XML_TYPES = ("application/xml", "text/xml")
# The byte-order marks lxml reads an XML document by, UTF-32 before the UTF-16 mark that starts UTF-32LE's.
_BOM_ENCODINGS = (
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF32_LE, "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "UTF-32BE"),
    (codecs.BOM_UTF16_LE, "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "UTF-16BE"),
)
# How the binary files Word embeds start (pictures, OLE objects, packages, media). None of these is a
# byte-order mark, XML whitespace or '<', so no XML parser reads a document starting so: such a part,
# unless typed or read as XML, is not parsed to find out.
BINARY_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"BM",  # BMP
    b"II*\x00",  # TIFF
    b"MM\x00*",
    b"II\xbc",  # JPEG XR (HD Photo)
    b"\x01\x00\x00\x00",  # EMF
    b"\xd7\xcd\xc6\x9a",  # WMF
    b"\x01\x00\x09\x00",
    b"\x02\x00\x09\x00",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # OLE compound file
    b"PK\x03\x04",  # an embedded package
    b"%PDF-",
    b"RIFF",  # WAV, AVI
    b"glTF",  # 3D model
)
# Relationships to media and embedded files: their targets are not read as XML by the extractor or docxtpl.
_BINARY_RELATIONSHIPS = tuple(
    f"/{kind}".lower()
    for kind in (
        "image",
        "oleObject",
        "package",
        "aFChunk",
        "audio",
        "video",
        "media",
        "hdphoto",
        "model3d",
        "font",
        "printerSettings",
        "attachedToolbars",
    )
)
_CORE_PROPERTIES_RELATIONSHIP = "/metadata/core-properties"
# The extractor reads the core properties by this name, whatever the package relationships say.
_CORE_PROPERTIES = "docprops/core.xml"


@dataclass(frozen=True)
class ZipLimits:
    """Bounds for one use: legitimate Word files seen had ≤ 37 entries and a worst ratio of 161."""

    max_entries: int = 1000
    max_entry_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 256 * 1024 * 1024
    max_ratio: int = 200
    # Small parts compress extremely well legitimately; ratios matter only above this size.
    ratio_floor_bytes: int = 1024 * 1024
    # Every XML part, the body and whatever else python-docx or Word would parse into memory.
    max_xml_part_bytes: int = 64 * 1024 * 1024


VAULT_LIMITS = ZipLimits()
# Templates are rendered in memory by python-docx/docxtpl, so their XML parts are kept small.
TEMPLATE_LIMITS = ZipLimits(max_xml_part_bytes=5 * 1000 * 1000)


@dataclass
class DocxReport:
    """What the checklist found in a DOCX that passed it."""

    main_part: str
    parts: list[str]
    # (relationship type, target) of every external relationship of a part Word loads, hyperlinks included;
    # collected only when asked for (templates).
    external: list[tuple[str, str]] = field(default_factory=list)

    def loads_remote_content(self) -> list[str]:
        """External targets Word fetches on opening (images, frames, attached templates), not links people click."""
        return [target for kind, target in self.external if not kind.endswith("/hyperlink")]


@dataclass(frozen=True)
class Relationship:
    """One relationship of a part: `target` is a part name when internal, as written when external."""

    kind: str
    target: str
    external: bool


def safe_xml_parser() -> etree.XMLParser:
    """An lxml parser that never loads a DTD, expands an entity or touches the network."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


def _parse_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> etree._Element:
    """Parse a small package part ([Content_Types].xml, .rels) into a tree; anything large is refused first."""
    if info.file_size > _MAX_PACKAGE_PART_BYTES:
        raise Unsafe(f"The DOCX part '{info.filename}' is {info.file_size} bytes; package parts are small.")
    try:
        tree = etree.fromstring(archive.read(info), safe_xml_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise Unsafe(f"The DOCX part '{info.filename}' is not well-formed XML.") from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise Unsafe(f"The DOCX part '{info.filename}' declares a DTD; DTDs and entities are refused.")
    return tree.getroot()


def _media_type(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def _extension(name: str) -> str:
    last = name.rsplit("/", 1)[-1]
    return last.rpartition(".")[2].lower() if "." in last else ""


def _rels_name(part: str) -> str:
    """Where a part's relationships live: `word/document.xml` → `word/_rels/document.xml.rels`."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _resolve(source: str, target: str) -> str:
    """The part a relationship of `source` points at, as OPC resolves it against the source's folder."""
    absolute = target if target.startswith("/") else posixpath.join("/", posixpath.dirname(source), target)
    return posixpath.normpath(absolute).lstrip("/")


class DocxPackage:
    """A DOCX's zip read as an OPC package: content types and relationships, parsed within bounds.

    Part names compare case-insensitively, as in OPC and Word; `[Content_Types].xml` is read on creation.
    """

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self._parts = {info.filename.lower(): info for info in archive.infolist() if not info.is_dir()}
        self._relationships: dict[str, list[Relationship]] = {}
        self._relationship_bytes_left = _MAX_RELATIONSHIP_BYTES
        self._relationships_left = _MAX_RELATIONSHIPS
        self._defaults: dict[str, str] = {}
        self._overrides: dict[str, str] = {}
        self._read_content_types()

    def info(self, name: str) -> zipfile.ZipInfo | None:
        return self._parts.get(name.lower())

    def parts(self) -> list[zipfile.ZipInfo]:
        return list(self._parts.values())

    def content_type(self, name: str) -> str:
        """The part's content type as OPC decides it: its Override, else its extension's Default ('' if none)."""
        return self._overrides.get(name.lower()) or self._defaults.get(_extension(name), "")

    def _read_content_types(self) -> None:
        info = self.info(_CONTENT_TYPES)
        if info is None:
            raise Unsupported("The zip file is not an Office document (no [Content_Types].xml).")
        for entry in _parse_part(self.archive, info):
            content_type = _media_type(entry.get("ContentType"))
            if any(marker in content_type for marker in _MACRO_MARKERS):
                raise Unsupported("Macro-enabled Word files (.docm) are not accepted; save it as .docx.")
            if entry.tag == f"{_CONTENT_TYPES_NS}Default":
                if content_type.endswith(".main+xml"):
                    # Only an Override can name the body: a Default types every part with the extension,
                    # which is how a second body hides behind a decoy document.xml.
                    raise Unsafe("The DOCX types a file extension as its main document; refused.")
                self._defaults[(entry.get("Extension") or "").lower()] = content_type
            elif entry.tag == f"{_CONTENT_TYPES_NS}Override":
                self._overrides[(entry.get("PartName") or "").lstrip("/").lower()] = content_type

    def relationships(self, part: str) -> list[Relationship]:
        """The relationships of `part` ('' for the package itself); Unsafe past the bounds."""
        rels_name = _rels_name(part) if part else "_rels/.rels"
        if rels_name.lower() not in self._relationships:
            self._relationships[rels_name.lower()] = self._read_relationships(part, rels_name)
        return self._relationships[rels_name.lower()]

    def _read_relationships(self, part: str, rels_name: str) -> list[Relationship]:
        info = self.info(rels_name)
        if info is None:
            return []
        self._relationship_bytes_left -= info.file_size
        if self._relationship_bytes_left < 0:
            raise Unsafe(f"The DOCX's relationship parts exceed {_MAX_RELATIONSHIP_BYTES} bytes; refused.")
        found = []
        for element in _parse_part(self.archive, info).iter(_RELATIONSHIP):
            self._relationships_left -= 1
            if self._relationships_left < 0:
                raise Unsafe(f"The DOCX has over {_MAX_RELATIONSHIPS} relationships; refused.")
            external = element.get("TargetMode") == "External"
            target = element.get("Target") or ""
            found.append(
                Relationship(element.get("Type") or "", target if external else _resolve(part, target), external)
            )
        return found

    def main_part(self) -> str:
        """The body Word opens: the one `officeDocument` of `_rels/.rels`, which must be the one Word body type."""
        typed = [name for name, content_type in self._overrides.items() if content_type == DOCX_MAIN]
        if not typed:
            raise Unsupported("The Office file is not a Word document (.docx).")
        named = [rel for rel in self.relationships("") if rel.kind in _OFFICE_DOCUMENT]
        if len(typed) > 1 or len(named) != 1 or named[0].external:
            raise Unsafe(
                f"The DOCX types {len(typed)} part(s) as its body and its package relationships name "
                f"{len(named)}; a Word document has exactly one."
            )
        if named[0].target.lower() != typed[0]:
            raise Unsafe(
                f"The DOCX opens '{named[0].target[:200]}' as its body but types '{typed[0]}' as the body; refused."
            )
        info = self.info(named[0].target)
        if info is None:
            raise Unsupported("The Word document's main part is missing.")
        return info.filename

    def external_targets(self) -> list[tuple[str, str]]:
        """(type, target) of the external relationships of every part reachable from the package, as Word loads it."""
        external: list[tuple[str, str]] = []
        seen, pending = {""}, [""]
        while pending:
            for rel in self.relationships(pending.pop()):
                if rel.external:
                    external.append((rel.kind, rel.target))
                elif rel.target.lower() not in seen and self.info(rel.target) is not None:
                    seen.add(rel.target.lower())
                    pending.append(rel.target)
        return external


class _PrologEnd(Exception):
    """Raised by the parser target to stop parsing: `dtd` says whether a DOCTYPE came first."""

    def __init__(self, dtd: bool) -> None:
        super().__init__(dtd)
        self.dtd = dtd


class _PrologTarget:
    """An lxml parser target that builds nothing and stops at the DOCTYPE or the root element."""

    def doctype(self, *_declaration: Any) -> None:
        raise _PrologEnd(dtd=True)

    def start(self, *_element: Any) -> None:
        raise _PrologEnd(dtd=False)

    def close(self) -> None:
        return None


def _bom_encoding(head: bytes) -> tuple[str | None, int]:
    """The encoding a byte-order mark at the start of `head` sets, and the mark's length (None, 0 without one)."""
    for bom, encoding in _BOM_ENCODINGS:
        if head.startswith(bom):
            return encoding, len(bom)
    return None, 0


class _PrologReader:
    """Reads parts up to their root element with a real parser, within a byte budget for the whole zip.

    A DTD can only come before the root element, so the prolog decides; comments and processing
    instructions there are parsed, not pattern-matched, so nothing in them can hide a DOCTYPE.
    """

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.bytes_left = _MAX_PROLOGS_BYTES

    def is_xml(self, info: zipfile.ZipInfo, required: bool) -> bool:
        """Whether the part is XML; Unsafe if its prolog declares a DTD or is too long to check.

        A `required` part (typed or read as XML) must parse up to its root element. Any other part is
        XML if it parses so, and is not parsed when its first bytes are a known binary format's.

        The parser decodes as lxml's `fromstring` does: libxml2 reading a stream in chunks ignores a
        UTF-32 byte-order mark that `fromstring` honours, so the mark's encoding is passed on explicitly.
        """
        read = 0
        with self.archive.open(info) as member:
            chunk = member.read(_PROLOG_CHUNK_BYTES)
            if not required and chunk.startswith(BINARY_MAGIC):
                return False
            encoding, bom = _bom_encoding(chunk)
            parser = etree.XMLParser(
                target=_PrologTarget(),
                encoding=encoding,
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                huge_tree=False,
            )
            chunk = chunk[bom:]
            try:
                while chunk:
                    read += len(chunk)
                    self.bytes_left -= len(chunk)
                    if read > _MAX_PROLOG_BYTES or self.bytes_left < 0:
                        raise Unsafe(f"The DOCX part '{info.filename}' has an XML prolog too long to check.")
                    parser.feed(chunk)
                    chunk = member.read(_PROLOG_CHUNK_BYTES)
                parser.close()
            except _PrologEnd as end:
                if end.dtd:
                    raise Unsafe(
                        f"The DOCX part '{info.filename}' declares a DTD; DTDs and entities are refused."
                    ) from None
                return True
            except etree.XMLSyntaxError as exc:
                if required:
                    raise Unsafe(f"The DOCX part '{info.filename}' is not well-formed XML.") from exc
                return False
        if required:
            raise Unsafe(f"The DOCX part '{info.filename}' is not well-formed XML (no root element).")
        return False


def _check_directory(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    if len(infos) > limits.max_entries:
        raise Unsafe(f"The DOCX has {len(infos)} zip entries; at most {limits.max_entries} are accepted.")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if not _SAFE_NAME.match(name) or name.startswith("/") or ".." in name.split("/"):
            raise Unsafe(f"The DOCX holds an entry with an unsafe name: {name!r}.")
        if name.lower() in seen:
            raise Unsafe(f"The DOCX holds the entry {name!r} twice.")
        seen.add(name.lower())
        if info.flag_bits & 0x1:
            raise Unsupported("The DOCX is encrypted; upload it without a password.")
        if info.file_size > limits.max_entry_bytes:
            raise Unsafe(f"The DOCX entry {name!r} unpacks to {info.file_size} bytes, over the limit.")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            raise Unsafe(
                f"The DOCX entry {name!r} is compressed {ratio:.0f}:1 (a zip bomb?); at most {limits.max_ratio}:1."
            )
        total += info.file_size
    if total > limits.max_total_bytes:
        raise Unsafe(f"The DOCX unpacks to {total} bytes; at most {limits.max_total_bytes} are accepted.")
    if any(info.filename.lower().endswith(("vbaproject.bin", "vbadata.xml")) for info in infos):
        raise Unsupported("Macro-enabled Word files (.docm) are not accepted; save it as .docx.")


def _too_big(info: zipfile.ZipInfo, main: str, limits: ZipLimits) -> Unsafe:
    what = "The document body" if info.filename == main else f"The DOCX part '{info.filename}'"
    return Unsafe(f"{what} unpacks to {info.file_size} bytes; at most {limits.max_xml_part_bytes} are accepted.")


def _read_as_xml(package: DocxPackage, main: str) -> set[str]:
    """The parts the extractor or docxtpl parse as XML whatever their content type, lower-cased.

    The body; every part the body relates to but media and embedded files (headers and footers are found
    by relationship, notes and the rest besides); the core properties, by relationship and by name.
    """
    names = {main.lower(), _CORE_PROPERTIES}
    for rel in package.relationships(""):
        if not rel.external and rel.kind.lower().endswith(_CORE_PROPERTIES_RELATIONSHIP):
            names.add(rel.target.lower())
    for rel in package.relationships(main):
        if not rel.external and not rel.kind.lower().endswith(_BINARY_RELATIONSHIPS):
            names.add(rel.target.lower())
    return names


def _check_xml_parts(package: DocxPackage, main: str, limits: ZipLimits) -> None:
    """Every XML part, whatever its name or type: within the size cap, and no DTD in its prolog."""
    read_as_xml = _read_as_xml(package, main)
    prologs = _PrologReader(package.archive)
    for info in package.parts():
        content_type = package.content_type(info.filename)
        required = content_type.endswith("+xml") or content_type in _XML_TYPES or info.filename.lower() in read_as_xml
        too_big = info.file_size > limits.max_xml_part_bytes
        # A part typed or read as XML is refused before it is read, another one once it parses as XML.
        if required and too_big:
            raise _too_big(info, main, limits)
        if prologs.is_xml(info, required) and too_big:
            raise _too_big(info, main, limits)


def check_docx(source: IO[bytes], limits: ZipLimits = VAULT_LIMITS, *, external_targets: bool = False) -> DocxReport:
    """Raise Unsupported/Unsafe unless `source` is a DOCX safe to hand to a parser.

    With `external_targets`, the report lists the external relationships of every part Word would load
    (the relationships of the whole package are then read, within the same bounds).
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise Unsupported("The file starts like a zip archive but is not a readable one.") from exc
    try:
        with archive:
            return _check_archive(archive, limits, external_targets)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError, RuntimeError) as exc:
        # Bad CRCs, unknown compression methods, corrupt streams: a damaged file, not a server fault.
        raise Unsafe(f"The DOCX is damaged: {exc}.") from exc


def _check_archive(archive: zipfile.ZipFile, limits: ZipLimits, external_targets: bool) -> DocxReport:
    infos = archive.infolist()
    _check_directory(infos, limits)
    package = DocxPackage(archive)
    main = package.main_part()
    # The body's relationships (headers, footers, …), which the extractor reads too, are bounded here first.
    _check_xml_parts(package, main, limits)
    report = DocxReport(main_part=main, parts=sorted(info.filename for info in infos))
    if external_targets:
        report.external = package.external_targets()
    return report
