"""Filling a DOCX template: docxtpl in a sandboxed, autoescaping Jinja environment. Runs in a bounded child.

The template reaches only the data it is handed (`project`, `documents`,
`today`) and two calls its parent answers (`search`, `ask`), over the
sandbox's channel; Jinja's immutable sandbox refuses `__class__` and every
other way out of the data. Autoescaping keeps vault text literal in the XML:
`&`, `<` and `>` come out as written, never as markup. Every failure is a
`Failure` whose message says where in the template it happened.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from types import TracebackType
from typing import Any, Protocol

import regex
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from lxml import etree
from markupsafe import Markup

from core.failures import Failure
from core.sandboxed_jinja import DataEnvironment
from vault.docx_safety import safe_xml_parser

NARRATIVE_STAGE = "Filling narrative sections"
TABLES_STAGE = "Filling tables"
RENDERING_STAGE = "Rendering document"
# Core properties docxtpl renders; the others are not plain strings in python-docx.
PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
# Jinja's default globals minus those with no use in a document (`cycler`, `joiner`, `lipsum`).
_GLOBALS = ("range", "dict", "namespace")
_PATTERN_TIMEOUT_SECONDS = 1.0
# Each would hand a value to the document unescaped (as Markup), i.e. as raw WordprocessingML.
_UNESCAPING_FILTERS = ("safe", "e", "escape", "forceescape", "urlize", "xmlattr")
FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
# What one `search`/`ask` call may send the parent, like the API's own `q` and `document_ids`.
MAX_QUERY_CHARS = 500
MAX_SEARCH_HITS = 50
MAX_ASK_DOCUMENTS = 100
_TABLE = re.compile(r"<w:tbl>|</w:tbl>")
_TAG = re.compile(r"<[^>]+>")
_PARAGRAPH_START = re.compile(r"<w:p([ >])")
_ENTER_TABLE = "{{ _vaultgate_stage('tables') }}"
_LEAVE_TABLE = "{{ _vaultgate_stage('narrative') }}"


class Calls(Protocol):
    """The parent, as the child sees it (`jobs.sandbox.Channel`): one blocking call at a time."""

    def call(self, name: str, *args: Any) -> Any: ...


class _UnmatchedTable(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _Refused(TemplateSyntaxError):
    """A construct the sandbox refuses when the template is compiled, e.g. `{% autoescape false %}`."""


class AnswerView(dict[str, Any]):
    """`ask(…)`'s result: prints as the answer's text; `.citations` lists where each sentence stands."""

    def __str__(self) -> str:
        return str(self.get("answer", ""))


def _required(rows: Iterable[Any], name: str = "table") -> list[Any]:
    """`{%tr for d in documents | required('Submittal schedule') %}`: no rows fails the fill, naming the table."""
    found = list(rows)
    if not found:
        raise _UnmatchedTable(str(name))
    return found


def _extract(text: Any, pattern: str, group: int = 1) -> str:
    """The first match of `pattern` in `text` (its `group` if it has groups), or an empty string."""
    try:
        compiled = regex.compile(str(pattern), regex.IGNORECASE)
        match = compiled.search(str(text), timeout=_PATTERN_TIMEOUT_SECONDS)
    except regex.error as exc:
        raise Failure("template_error", f"The pattern {pattern!r} given to extract is not valid: {exc}.") from None
    except TimeoutError:
        raise Failure("template_error", f"The pattern {pattern!r} took over 1 s on one text.") from None
    if match is None:
        return ""
    value = match.group(group if compiled.groups else 0) or ""
    return " ".join(value.split())


def _as_text(value: Any) -> Any:
    # Markup made by any means (a filter, a string method on escaped text) is escaped again like any text.
    return str(value) if isinstance(value, Markup) else value


class _DocumentEnvironment(DataEnvironment):
    """The sandbox for documents: every value printed is text, escaped; escaping cannot be turned off."""

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for modifier in tree.find_all(nodes.EvalContextModifier):
            raise _Refused("autoescape blocks are not allowed: every value is escaped", modifier.lineno, name, filename)
        return tree


def environment(stage: Callable[[str], str] = lambda _name: "") -> ImmutableSandboxedEnvironment:
    """The sandbox templates render in: data in, text out, nothing else reachable."""
    env = _DocumentEnvironment(undefined=StrictUndefined, autoescape=True, finalize=_as_text)
    env.globals = {name: env.globals[name] for name in _GLOBALS}
    env.globals["_vaultgate_stage"] = stage
    for name in _UNESCAPING_FILTERS:
        env.filters.pop(name)
    env.filters["required"] = _required
    env.filters["extract"] = _extract
    return env


def _mark_tables(xml: str) -> str:
    """Report the stage as the render enters and leaves each top-level table that holds template tags."""
    pieces, depth, start, cursor = [], 0, 0, 0
    for token in _TABLE.finditer(xml):
        if token.group() == "<w:tbl>":
            if depth == 0:
                start = token.start()
            depth += 1
            continue
        depth -= 1
        if depth == 0:
            table = xml[start : token.end()]
            if "{%" in table or "{{" in table:
                pieces += [xml[cursor:start], _ENTER_TABLE, table, _LEAVE_TABLE]
            else:
                pieces += [xml[cursor : token.end()]]
            cursor = token.end()
    pieces.append(xml[cursor:])
    return "".join(pieces)


def _part_label(partname: str) -> str:
    name = partname.rsplit("/", 1)[-1].removesuffix(".xml")
    if name == "document":
        return "the document body"
    kind = name.rstrip("0123456789")
    return f"a {kind}" if kind in ("header", "footer") else f"the {kind}"


def _template_line(exc: BaseException) -> int | None:
    """The template line the error happened on: Jinja rewrites tracebacks to show it."""
    line = getattr(exc, "lineno", None) if isinstance(exc, TemplateSyntaxError) else None
    trace: TracebackType | None = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def _numbered(source: str) -> str:
    """The part's source with each paragraph on a line of its own, as docxtpl renders it."""
    return _PARAGRAPH_START.sub(r"\n<w:p\1", source)


def _where(label: str, numbered: str, exc: BaseException) -> str:
    """`the document body, paragraph 4 ("Reviewer: {{ reviewer.name }}")`, from the line the error is on."""
    line = _template_line(exc)
    lines = numbered.splitlines()
    if line is None or not 1 < line <= len(lines):
        return label
    text = " ".join(_TAG.sub("", lines[line - 1]).split())
    excerpt = f' ("{text[:80]}{"…" if len(text) > 80 else ""}")' if text else ""
    return f"{label}, paragraph {line - 1}{excerpt}"


def _failure(where: str, exc: Exception) -> Failure:
    reason = str(exc.message if isinstance(exc, TemplateError) and exc.message else exc).rstrip(".")
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, _UnmatchedTable):
        return Failure("table_fill_failed", f"Unable to match any source document to the '{exc.name}' table.")
    if isinstance(exc, _Refused):
        return Failure("template_forbidden", f"The sandbox refused {where}: {reason}.")
    if isinstance(exc, TemplateSyntaxError):
        return Failure("template_syntax_error", f"Template syntax error in {where}: {reason}.")
    if isinstance(exc, SecurityError):
        return Failure("template_forbidden", f"The sandbox refused an expression in {where}: {reason}.")
    if isinstance(exc, UndefinedError):
        return Failure("template_undefined", f"In {where}: {reason}.")
    return Failure("template_error", f"In {where}: {type(exc).__name__}: {reason}.")


# What a template's own expressions can raise; anything else is a fault of ours and stays a crash.
_TEMPLATE_FAULTS = (
    TemplateError,
    _UnmatchedTable,
    Failure,
    ArithmeticError,
    TypeError,
    ValueError,
    LookupError,
    AttributeError,
    RecursionError,
)


class _FillTemplate(DocxTemplate):  # type: ignore[misc]
    """docxtpl with errors located, tables staged and properties rendered as the plain text they are."""

    def patch_xml(self, src_xml: str) -> str:
        return _mark_tables(super().patch_xml(src_xml))

    def render_xml_part(self, src_xml: str, part: Any, context: dict[str, Any], jinja_env: Any = None) -> str:
        try:
            return str(super().render_xml_part(src_xml, part, context, jinja_env))
        except _TEMPLATE_FAULTS as exc:
            raise _failure(_where(_part_label(str(part.partname)), _numbered(src_xml), exc), exc) from None

    def render_properties(self, context: dict[str, Any], jinja_env: Any = None) -> None:
        # python-docx escapes property text itself: escaping it here too would show `&amp;` in Word.
        plain = jinja_env.overlay(autoescape=False)
        for name in PROPERTIES:
            try:
                rendered = plain.from_string(getattr(self.docx.core_properties, name) or "").render(context)
            except _TEMPLATE_FAULTS as exc:
                raise _failure(f"the document's {name!r} property", exc) from None
            setattr(self.docx.core_properties, name, rendered)

    def footnote_parts(self) -> list[Any]:
        return [part for part in self.docx.part.package.parts if part.content_type == FOOTNOTES]

    def render_footnotes(self, context: dict[str, Any], jinja_env: Any = None) -> None:
        # docxtpl renders the footnotes once per section: from the second section on, text already filled
        # in (the vault's) would be rendered again as template code. Once each, then checked as XML.
        for part in self.footnote_parts():
            blob = part.blob.decode("utf-8") if isinstance(part.blob, bytes) else part.blob
            rendered = self.render_xml_part(self.patch_xml(blob), part, context, jinja_env).encode("utf-8")
            etree.fromstring(rendered, safe_xml_parser())
            part._blob = rendered


def _open(template_path: str) -> _FillTemplate:
    template = _FillTemplate(template_path)
    try:
        template.init_docx()
    except (KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise Failure("template_unreadable", f"The template could not be read as a Word document: {exc}.") from None
    return template


def check_template(template_path: str) -> None:
    """Compile every part of the template (body, headers, footers, properties): syntax errors, located."""
    template = _open(template_path)
    env = environment()
    parts = [(template.docx.part, template.get_xml())]
    for uri in (template.HEADER_URI, template.FOOTER_URI):
        parts += [(part, template.get_part_xml(part)) for _key, part in template.get_headers_footers(uri)]
    parts += [(part, part.blob.decode("utf-8")) for part in template.footnote_parts()]
    for part, xml in parts:
        source = _numbered(template.patch_xml(xml))
        try:
            env.parse(source)
        except TemplateSyntaxError as exc:
            raise _failure(_where(_part_label(str(part.partname)), source, exc), exc) from None
    for name in PROPERTIES:
        try:
            env.parse(getattr(template.docx.core_properties, name) or "")
        except TemplateSyntaxError as exc:
            raise _failure(f"the document's {name!r} property", exc) from None


def _query(text: Any, function: str) -> str:
    query = str(text)
    if len(query) > MAX_QUERY_CHARS:
        raise Failure("template_error", f"{function}() takes at most {MAX_QUERY_CHARS} characters, not {len(query)}.")
    return query


def render_fill(channel: Calls, template_path: str, output_path: str, vault: Mapping[str, Any], today: date) -> None:
    """Fill the template at `template_path` from `vault` (`project`, `documents`) into `output_path`.

    Stages and the vault calls `search(query, k)` and `ask(question, documents)` go to the parent over `channel`.
    """
    current = [""]

    def stage(name: str) -> str:
        wanted = TABLES_STAGE if name == "tables" else NARRATIVE_STAGE
        if wanted != current[0]:
            current[0] = wanted
            channel.call("stage", wanted)
        return ""

    def search(query: str, k: int = 5) -> list[dict[str, Any]]:
        hits: list[dict[str, Any]] = channel.call(
            "search", _query(query, "search"), min(max(int(k), 1), MAX_SEARCH_HITS)
        )
        return hits

    def ask(question: str, documents: Iterable[Any] | None = None) -> AnswerView:
        ids = None
        if documents is not None:
            ids = [str(d["id"] if isinstance(d, Mapping) else d) for d in documents]
            if len(ids) > MAX_ASK_DOCUMENTS:
                raise Failure("template_error", f"ask() takes at most {MAX_ASK_DOCUMENTS} documents, not {len(ids)}.")
        return AnswerView(channel.call("ask", _query(question, "ask"), ids))

    template = _open(template_path)
    env = environment(stage)
    env.globals.update(search=search, ask=ask)
    context = {"project": vault["project"], "documents": vault["documents"], "today": today}
    stage("narrative")
    try:
        template.render(context, env, autoescape=True)
    except etree.XMLSyntaxError as exc:
        raise Failure(
            "template_error",
            f"The filled document is not valid Word XML ({exc}); a tag may split a paragraph or table cell.",
        ) from None
    channel.call("stage", RENDERING_STAGE)
    template.save(output_path)
