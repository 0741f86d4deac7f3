"""Files for upload tests, built in code (no binary fixtures): real, broken and hostile."""

from __future__ import annotations

import codecs
import io
import re
import struct
import zipfile
import zlib

from docx import Document as WordDocument
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas


def pdf(pages: list[str], title: str | None = None) -> bytes:
    """A PDF with one text paragraph per page."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    if title:
        canvas.setTitle(title)
    for text in pages:
        lines = canvas.beginText(40, 800)
        for line in _wrap(text, 90):
            lines.textLine(line)
        canvas.drawText(lines)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    return [*lines, line]


def encrypted_pdf(pages: list[str]) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(pages))))
    writer.encrypt(user_password="s3cret", owner_password="0wner", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx(
    paragraphs: list[str],
    *,
    title: str | None = None,
    table: list[list[str]] | None = None,
    header: str | None = None,
    footer: str | None = None,
    content_control: str | None = None,
) -> bytes:
    document = WordDocument()
    if title:
        document.core_properties.title = title
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    section = document.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer:
        section.footer.paragraphs[0].text = footer
    if content_control:
        _add_content_control(document, content_control)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _add_content_control(document: object, text: str) -> None:
    from docx.oxml import parse_xml

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    control = parse_xml(
        f'<w:sdt xmlns:w="{w}"><w:sdtPr><w:alias w:val="Reviewer"/></w:sdtPr>'
        f"<w:sdtContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:sdtContent></w:sdt>"
    )
    body = document.element.body  # type: ignore[attr-defined]
    body.insert(len(body) - 1, control)


def rewrite_docx(
    original: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None, skip: tuple[str, ...] = ()
) -> bytes:
    """A copy of a DOCX with some parts replaced, added or left out (for hostile variants)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in skip:
                continue
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A valid-looking DOCX whose body unpacks to ~100 MB from ~100 KB."""
    original = docx(["bomb"])
    with zipfile.ZipFile(io.BytesIO(original)) as source:
        body = source.read("word/document.xml")
    padding = b"<!-- " + b"A" * 100_000_000 + b" -->"
    return rewrite_docx(original, {"word/document.xml": body.replace(b"<w:body>", b"<w:body>" + padding, 1)})


def xxe_docx() -> bytes:
    original = docx(["hello"])
    with zipfile.ZipFile(io.BytesIO(original)) as source:
        body = source.read("word/document.xml")
    doctype = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    hostile = body.replace(b"?>", b"?>" + doctype, 1).replace(b"hello", b"&xxe;", 1)
    return rewrite_docx(original, {"word/document.xml": hostile})


def docm_renamed() -> bytes:
    """A macro-enabled Word file, as a user would send it after renaming .docm to .docx."""
    original = docx(["macro"])
    with zipfile.ZipFile(io.BytesIO(original)) as source:
        types = source.read("[Content_Types].xml")
    macro_types = types.replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml",
    )
    return rewrite_docx(original, {"[Content_Types].xml": macro_types}, {"word/vbaProject.bin": b"\x00" * 512})


def corrupt_docx() -> bytes:
    """A DOCX with damaged compressed data in its first part (a bad CRC or a broken deflate stream)."""
    data = bytearray(docx(["damaged"]))
    start = 30 + int.from_bytes(data[26:28], "little") + int.from_bytes(data[28:30], "little")
    for offset in range(start + 4, start + 12):
        data[offset] ^= 0xFF
    return bytes(data)


def two_sections_with_footnote(footnote: str) -> bytes:
    """A DOCX of two sections whose footnotes part holds `footnote` (python-docx cannot add footnotes itself)."""
    from docx.enum.section import WD_SECTION

    document = WordDocument()
    document.add_paragraph("First section")
    document.add_section(WD_SECTION.NEW_PAGE)
    document.add_paragraph("Second section")
    buffer = io.BytesIO()
    document.save(buffer)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    footnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{w}">'
        f'<w:footnote w:id="1"><w:p><w:r><w:t>{footnote}</w:t></w:r></w:p></w:footnote></w:footnotes>'
    ).encode()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source:
        types = source.read("[Content_Types].xml")
        relationships = source.read("word/_rels/document.xml.rels")
    footnotes_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
    footnotes_relationship = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"
    return rewrite_docx(
        buffer.getvalue(),
        {
            "[Content_Types].xml": types.replace(
                b"</Types>",
                f'<Override PartName="/word/footnotes.xml" ContentType="{footnotes_type}"/></Types>'.encode(),
            ),
            "word/_rels/document.xml.rels": relationships.replace(
                b"</Relationships>",
                f'<Relationship Id="rIdNotes" Type="{footnotes_relationship}" Target="footnotes.xml"/>'
                "</Relationships>".encode(),
            ),
        },
        {"word/footnotes.xml": footnotes},
    )


def docx_with_external_relationship(kind: str, target: str, part: str = "word/document.xml") -> bytes:
    """A DOCX whose `part` has an external relationship of `kind` (`image`, `hyperlink`, …) to `target`."""
    original = docx(["linked"])
    folder, name = part.rsplit("/", 1)
    rels_name = f"{folder}/_rels/{name}.rels"
    with zipfile.ZipFile(io.BytesIO(original)) as source:
        exists = rels_name in source.namelist()
        relationships = source.read(rels_name) if exists else _EMPTY_RELATIONSHIPS
    relationship = (
        f'<Relationship Id="rIdRemote" TargetMode="External" Target="{target}" '
        f'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}"/>'
    )
    updated = relationships.replace(b"</Relationships>", relationship.encode() + b"</Relationships>")
    return rewrite_docx(original, {rels_name: updated}) if exists else rewrite_docx(original, {}, {rels_name: updated})


_EMPTY_RELATIONSHIPS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>'
)


def part_of(data: bytes, name: str) -> bytes:
    """The bytes of one part of a DOCX."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return source.read(name)


def part_names(data: bytes) -> list[str]:
    """The names of the parts of a DOCX."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return source.namelist()


def with_content_type(types: bytes, entry: str) -> bytes:
    """`[Content_Types].xml` with one more `Default` or `Override` entry (none if `entry` is empty)."""
    return types.replace(b"</Types>", entry.encode() + b"</Types>")


# A DOCTYPE a regex over the first bytes missed: after a comment or a processing instruction holding
# something that looks like a start tag, or after a comment longer than the bytes it read.
DTD_HIDING_PROLOGS = {
    "comment_with_tag": b"<!-- <a href='x'> -->",
    "processing_instruction_with_tag": b"<?vaultgate <a?>",
    "long_comment": b"<!--" + b" padding" * 9_000 + b" -->",
}


def docx_with_hidden_dtd(prolog: bytes, part: str = "word/document.xml") -> bytes:
    """A DOCX whose `part` declares an external entity after `prolog` (and the body uses it)."""
    original = docx(["hello"])
    doctype = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    hostile = part_of(original, part).replace(b"?>", b"?>" + prolog + doctype, 1).replace(b"hello", b"&xxe;", 1)
    return rewrite_docx(original, {part: hostile})


# The byte-order marks libxml2 reads a document's encoding from, by Python codec name.
BYTE_ORDER_MARKS = {
    "utf-8": codecs.BOM_UTF8,
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}
HIDDEN_DOCTYPE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY e "x">]>'


def behind_byte_order_mark(xml: bytes, encoding: str, doctype: str = "") -> bytes:
    """`xml` in `encoding` after its byte-order mark and a space (UTF-16/32 whitespace), `doctype` for its declaration."""
    return BYTE_ORDER_MARKS[encoding] + f" {doctype}{xml.decode().split('?>', 1)[1]}".encode(encoding)


def docx_with_retyped_part(
    part: str, content: bytes, content_type: str = "application/octet-stream", original: bytes | None = None
) -> bytes:
    """A DOCX (by default with a header) whose `part` holds `content`, its Override typing it `content_type`."""
    original = original or docx(["body text"], header="Header text")
    types = part_of(original, "[Content_Types].xml")
    override = rb'(<Override PartName="/' + re.escape(part.encode()) + rb'" ContentType=")[^"]*'
    retyped, found = re.subn(override, rb"\g<1>" + content_type.encode(), types)
    if not found:
        retyped = with_content_type(types, f'<Override PartName="/{part}" ContentType="{content_type}"/>')
    return rewrite_docx(original, {part: content, "[Content_Types].xml": retyped})


def docx_with_dtd_behind_byte_order_mark(part: str, encoding: str) -> bytes:
    """A DOCX whose header or core properties `part`, typed as binary, hides a DTD behind a byte-order mark.

    The review's reproduction: the checklist took the part for binary (UTF-16/32 whitespace after the
    mark did not look like markup), while lxml decodes by the mark and reads the DTD and its entities.
    """
    original = docx(["body text"], title="Hidden", header="Hidden")
    xml = part_of(original, part).replace(b">Hidden<", b">&e;&xxe;<")
    return docx_with_retyped_part(part, behind_byte_order_mark(xml, encoding, HIDDEN_DOCTYPE), original=original)


def decoy_body_docx(real_body_type: str = "default") -> bytes:
    """A DOCX whose `word/document.xml` is a decoy: `_rels/.rels` opens another part, the one Word shows.

    `real_body_type` says how that part is typed: `default` (its extension typed as a Word body, the
    python-docx-readable attack), `xml` (as plain XML), `second_override` (a second body Override).
    """
    decoy = docx(["Quarterly minutes, nothing to see."])
    real = part_of(docx(["Wire the retainer to account 4471."]), "word/document.xml")
    main_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    name, types = {
        "default": ("word/body.part", f'<Default Extension="part" ContentType="{main_type}"/>'),
        "xml": ("word/body.xml", ""),
        "second_override": ("word/body.xml", f'<Override PartName="/word/body.xml" ContentType="{main_type}"/>'),
    }[real_body_type]
    package_rels = part_of(decoy, "_rels/.rels").replace(b'Target="word/document.xml"', f'Target="{name}"'.encode())
    return rewrite_docx(
        decoy,
        {
            "_rels/.rels": package_rels,
            "[Content_Types].xml": with_content_type(part_of(decoy, "[Content_Types].xml"), types),
        },
        {name: real, f"word/_rels/{name.rsplit('/', 1)[1]}.rels": part_of(decoy, "word/_rels/document.xml.rels")},
    )


def relationship_flood_docx(parts: int = 250, part_bytes: int = 1024 * 1024, *, reachable: bool = False) -> bytes:
    """A small DOCX carrying `parts` relationship parts of `part_bytes` each (~820 KB for 250 MiB of XML).

    `reachable`: each belongs to a part the body relates to (as a header would), not to a part nobody uses.
    """
    original = docx(["flooded"])
    header = b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    line = b'<Relationship Id="rIdFlood" Type="http://example.com/flood" Target="flood.xml"/>'
    flood = header + line * ((part_bytes - len(header) - 16) // len(line)) + b"</Relationships>"
    added = {f"word/_rels/flood{number}.xml.rels": flood for number in range(parts)}
    body_rels = part_of(original, "word/_rels/document.xml.rels")
    if reachable:
        added |= {f"word/flood{number}.xml": b"<flood/>" for number in range(parts)}
        links = "".join(
            f'<Relationship Id="rIdFlood{number}" Type="http://example.com/flood" Target="flood{number}.xml"/>'
            for number in range(parts)
        )
        body_rels = body_rels.replace(b"</Relationships>", links.encode() + b"</Relationships>")
    return rewrite_docx(original, {"word/_rels/document.xml.rels": body_rels}, added)


def tiny_png() -> bytes:
    """A valid one-pixel PNG, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def docx_with_picture() -> bytes:
    """A DOCX with an embedded PNG, as python-docx writes it."""
    document = WordDocument()
    document.add_paragraph("A picture follows.")
    document.add_picture(io.BytesIO(tiny_png()))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
