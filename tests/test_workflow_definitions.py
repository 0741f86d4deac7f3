"""Workflow definitions, expressions, inputs and summaries on their own: no database, no server."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.failures import Invalid
from jobs.sandbox import LimitExceeded, run_limited
from tests.conftest import ROOT
from vault.summarize import summarize
from workflows.definition import Definition, digest, parse
from workflows.expressions import ExpressionError, evaluate, evaluate_bounded
from workflows.inputs import Input, resolve

EXAMPLE = ROOT / "examples" / "workflows" / "weekly-submittal-review.yaml"
CONTEXT = {
    "inputs": {"start_date": "2026-04-01"},
    "project_id": None,
    "steps": {"review": {"items": [{"document_id": "d1", "status": "non-compliant"}], "flagged": 1}},
}


def problems_of(source: str) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(Invalid) as caught:
        parse(source)
    return [(p.line, p.pointer, p.detail) for p in caught.value.errors]


def test_the_example_definition_is_valid_and_declares_what_the_reference_shows() -> None:
    document = parse(EXAMPLE.read_text())
    definition = Definition.from_document(document)
    assert definition.name == "Weekly submittal review"
    assert [(i.name, i.type, i.required) for i in definition.inputs] == [
        ("start_date", "date", True),
        ("end_date", "date", True),
    ]
    assert definition.requires_project
    assert [s.name for s in definition.steps] == ["Collecting submittals", "Analysing submittals"]
    # Comments and key order do not change what a definition does.
    assert digest(parse("# note\n" + EXAMPLE.read_text())) == digest(document)


def test_every_problem_is_reported_at_once_with_its_line_and_pointer() -> None:
    source = """\
name: Broken
inputs:
  when: {type: date, default: 2026-13-01}
  kind: {type: enum}
steps:
  - id: find
    name: Find
    action: search
    with: {query: "{{ inputs.nope }}", limit: 500}
  - id: find
    name: Again
    action: summarize
    with: {documents: "{{ steps.later.documents }}"}
  - id: rules
    name: Rules
    action: check_rules
    with: {documents: [], required_patterns: [{pattern: "(", description: a bracket}]}
  - id: odd
    name: Odd
    action: fly
outputs:
  result: "{{ steps.find.hits"
  result: 1
"""
    found = problems_of(source)
    assert found == [
        (3, "/inputs/when/default", "'2026-13-01' is not a date in the calendar"),
        (4, "/inputs/kind", "'values' is a required property"),
        (9, "/steps/0/with/query", "inputs.nope is not a declared input"),
        (9, "/steps/0/with/limit", "500 is greater than the maximum of 50 (or a {{ expression }})"),
        (10, "/steps/1/id", "step id 'find' is already used by an earlier step"),
        (13, "/steps/1/with/documents", "steps.later is not an earlier step (earlier: find)"),
        (
            17,
            "/steps/2/with/required_patterns/0/pattern",
            "not a valid regular expression: missing ) at position 1",
        ),
        (
            20,
            "/steps/3/action",
            "'fly' is not one of ['select_documents', 'search', 'extract_fields', 'check_rules', 'summarize', 'fill_template']",
        ),
        (23, "/outputs/result", "duplicate key"),
    ]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("name: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "a workflow definition is a YAML mapping"),
        ("name: x\nsteps: []\n", "[] should be non-empty"),
        ("a: &a [x, x, x]\nb: [*a, *a, *a]\nname: x\nsteps: []\n", "aliases (*name) are not allowed"),
        (
            "name: x\nsteps:\n  - {id: a, name: A, action: search, with: {query: '{{ inputs[0 }}'}}\n",
            "expression syntax error",
        ),
    ],
)
def test_malformed_definitions_are_refused_with_a_reason(source: str, message: str) -> None:
    assert any(message in problem for _, _, problem in problems_of(source))


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ inputs.__class__ }}",
        "{{ range.__globals__ }}",
        "{{ steps.review.items[0].__init__ }}",
        "{{ (1).__class__.__base__ }}",
        "text {{ ''.__class__.__mro__ }} around",
    ],
)
def test_expressions_that_reach_for_python_internals_are_refused(expression: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, CONTEXT, "/steps/0/with/query")
    assert caught.value.forbidden
    assert caught.value.pointer == "/steps/0/with/query"
    assert "unsafe" in caught.value.message


@pytest.mark.parametrize("name", ["lipsum", "cycler", "joiner", "namespace", "config", "request", "os"])
def test_only_the_run_data_is_in_scope(name: str) -> None:
    with pytest.raises(ExpressionError, match="does not exist"):
        evaluate("{{ " + name + " }}", CONTEXT, "/x")


def test_expressions_give_values_and_templates_give_text() -> None:
    assert evaluate("{{ steps.review.items }}", CONTEXT, "/x") == [{"document_id": "d1", "status": "non-compliant"}]
    assert evaluate("{{ steps.review.items | map(attribute='status') | list }}", CONTEXT, "/x") == ["non-compliant"]
    assert evaluate("{{ steps.review.flagged }} flagged since {{ inputs.start_date }}", CONTEXT, "/x") == (
        "1 flagged since 2026-04-01"
    )
    assert evaluate({"nested": ["{{ steps.review.flagged + 1 }}", 7]}, CONTEXT, "/x") == {"nested": [2, 7]}
    # `items` is the result's key, not the dict method of that name.
    assert evaluate("{{ steps.review.items | length }}", CONTEXT, "/x") == 1


def test_an_expression_result_too_large_to_keep_is_refused_in_the_child() -> None:
    with pytest.raises(ExpressionError, match=r"produced 1000002 bytes of data; the limit is 1000"):
        evaluate_bounded("{{ 'x' * 1000000 }}", CONTEXT, "/x", 1000)
    assert evaluate_bounded("{{ 'x' * 10 }}", CONTEXT, "/x", 1000) == "x" * 10


def test_a_runaway_expression_is_stopped_by_the_child_process_limits() -> None:
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    with pytest.raises(LimitExceeded):
        run_limited(evaluate, loop, CONTEXT, "/x", timeout=1.0, memory_bytes=256 * 1024 * 1024)
    with pytest.raises(LimitExceeded):
        run_limited(evaluate, "{{ 'x' * 10 ** 9 }}", CONTEXT, "/x", timeout=5.0, memory_bytes=256 * 1024 * 1024)


def test_run_inputs_are_checked_all_at_once_with_defaults_filled_in() -> None:
    declared = [
        Input("start_date", "date", required=True),
        Input("strictness", "enum", values=["lenient", "strict"], default="strict"),
        Input("limit", "integer", minimum=1, maximum=50, default=10),
        Input("documents", "document_ids"),
    ]
    values, errors = resolve(declared, {"start_date": "2026-04-31", "limit": 0, "documents": ["nope"], "extra": 1})
    assert [(e.pointer, e.detail) for e in errors] == [
        ("/inputs/extra", "is not an input of this workflow (it takes: start_date, strictness, limit, documents)"),
        ("/inputs/start_date", "'2026-04-31' is not a date in the calendar"),
        ("/inputs/limit", "must be at least 1"),
        ("/inputs/documents", "'nope' is not a document id (a UUID)"),
    ]
    values, errors = resolve(declared, {"start_date": "2026-04-01"})
    assert errors == []
    assert values == {"start_date": "2026-04-01", "strictness": "strict", "limit": 10, "documents": None}
    assert [e.pointer for e in resolve(declared, {"start_date": "April 1st", "limit": True})[1]] == [
        "/inputs/start_date",
        "/inputs/limit",
    ]


def test_an_extractive_summary_keeps_the_most_representative_sentences_in_order() -> None:
    text = (
        "The curtain wall anchors are galvanized. "
        "Lunch was served at noon. "
        "Anchors for the curtain wall carry the wind loads. "
        "The weather was mild."
    )
    assert summarize(text, 2) == (
        "The curtain wall anchors are galvanized. Anchors for the curtain wall carry the wind loads."
    )
    assert summarize("", 3) == ""


def test_the_schema_file_is_what_the_loader_uses(tmp_path: Path) -> None:
    # Editors validate with the same file (`# yaml-language-server: $schema=…` in the example).
    assert "$schema=../../workflows/definition.schema.json" in EXAMPLE.read_text()
    assert (EXAMPLE.parent / "../../workflows/definition.schema.json").resolve().exists()
