"""Files for upload tests, built in code (no binary fixtures): real, broken and hostile."""

from __future__ import annotations

import io
import zipfile

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


def rewrite_docx(original: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    """A copy of a DOCX with some parts replaced or added (for hostile variants)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
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


def docx_with_external_relationship(kind: str, target: str) -> bytes:
    """A DOCX whose body has an external relationship of `kind` (`image`, `hyperlink`, …) to `target`."""
    original = docx(["linked"])
    with zipfile.ZipFile(io.BytesIO(original)) as source:
        relationships = source.read("word/_rels/document.xml.rels")
    relationship = (
        f'<Relationship Id="rIdRemote" TargetMode="External" Target="{target}" '
        f'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}"/>'
    )
    return rewrite_docx(
        original,
        {
            "word/_rels/document.xml.rels": relationships.replace(
                b"</Relationships>", relationship.encode() + b"</Relationships>"
            )
        },
    )
