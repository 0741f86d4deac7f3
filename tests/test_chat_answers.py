"""Extractive answers over a labelled set of questions, asked through a live server on SQLite and PostgreSQL.

The vault is the demo's documents (examples/demo) and four DOCX documents
planted here: three with phrases found nowhere else, and a log of short
passages about anchors that outrank the curtain wall submittal's sentence in a
search (the answerer must still find it). Every answerable question
names the document its first citation must come from and the words that
citation's snippet must hold; every unanswerable one shares some words with
the vault but is answered by none of it.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.contract import load_contract
from storage.database import dispose_engine
from storage.models import Tier
from tests import samples
from tests.conftest import ROOT, Tenants, free_port, fresh_database, start_server, wait_for
from vault.answers import NO_ANSWER

DEMO = ROOT / "examples" / "demo"
ARTIFACT = ROOT / "var" / "test-artifacts" / "chat-labelled-set.json"
ASK = "/api/v2/chat/ask"

# Planted documents: a title, then its paragraphs (the title is paragraph 1, as a heading would be).
PLANTED = {
    "geotechnical-report.docx": [
        "Geotechnical report: Riverside Tower",
        "Borehole B-7 encountered weathered shale at 11.5 metres below grade.",
        "The allowable bearing pressure for the spread footings is 450 kPa.",
        "Groundwater was recorded at 4.2 metres in the piezometer at borehole B-3.",
    ],
    "commissioning-plan.docx": [
        "Commissioning plan: mechanical systems",
        "The commissioning authority is Quillfeather Consulting, appointed by the owner in January.",
        "Chilled water pumps are balanced to within 5 percent of design flow.",
        "Functional performance tests of the air handling units are witnessed by the commissioning authority.",
    ],
    # Many short passages about anchors, which outrank the curtain wall submittal's longer one in a search.
    "anchor-bolt-log.docx": [
        "Anchor bolt inspection log",
        *(f"Anchor bolt AB-{n} at gridline {n % 9 + 1} was torqued and inspected." for n in range(1, 25)),
    ],
    "site-logistics.docx": [
        "Site logistics memo",
        "Deliveries use the Harbour Street gate between 07:00 and 15:00.",
        "The tower crane is dismantled in week 38.",
        "Concrete washout is confined to the lined pit beside gridline K.",
    ],
}


@dataclass(frozen=True)
class Answerable:
    question: str
    document: str
    # Words the first citation's snippet holds: the fact the question asks for.
    holds: tuple[str, ...]


ANSWERABLE = [
    Answerable("What grade are the curtain wall anchors?", "submittal-014-curtain-wall-anchors.md", ("ASTM A123",)),
    Answerable(
        "When were the curtain wall anchors submitted?", "submittal-014-curtain-wall-anchors.md", ("2026-03-02",)
    ),
    Answerable("What wind loads are the anchors sized for?", "submittal-014-curtain-wall-anchors.md", ("08 44 13",)),
    Answerable("Who submitted the roof membrane?", "submittal-015-roof-membrane.md", ("Apex Roofing",)),
    Answerable("How long is the warranty on the roof membrane?", "submittal-015-roof-membrane.md", ("20-year",)),
    Answerable("How thick is the roof membrane?", "submittal-015-roof-membrane.md", ("60 mil",)),
    Answerable("What is the VOC content of the bonding adhesive?", "submittal-015-roof-membrane.md", ("310 g/L",)),
    Answerable("What fire rating do the stair doors have?", "submittal-016-fire-doors.md", ("90-minute",)),
    Answerable(
        "Why was a substitution requested for the door closers?", "submittal-016-fire-doors.md", ("back-ordered",)
    ),
    Answerable(
        "What are the elevator cab walls made of?", "submittal-017-elevator-cabs.md", ("brushed stainless steel",)
    ),
    Answerable("Who designed the steel connections?", "submittal-018-structural-steel.md", ("licensed engineer",)),
    Answerable("Who stamped the shop drawings?", "submittal-018-structural-steel.md", ("licensed engineer",)),
    Answerable("Who fabricated the structural steel?", "submittal-018-structural-steel.md", ("Ironline Fabricators",)),
    Answerable("What grade of steel are the wide-flange members?", "submittal-018-structural-steel.md", ("A992",)),
    Answerable("Did the curtain wall mockup pass the water test?", "meeting-notes-2026-03-05.txt", ("15 psf",)),
    Answerable("What did roofing ask to resubmit?", "meeting-notes-2026-03-05.txt", ("adhesive", "low-VOC")),
    Answerable("At what depth was groundwater recorded?", "geotechnical-report.docx", ("4.2 metres",)),
    Answerable("What rock did borehole B-7 encounter?", "geotechnical-report.docx", ("weathered shale",)),
    Answerable("Where is the piezometer?", "geotechnical-report.docx", ("borehole B-3",)),
    Answerable("What is the allowable bearing pressure for the footings?", "geotechnical-report.docx", ("450 kPa",)),
    Answerable("Who is the commissioning authority?", "commissioning-plan.docx", ("Quillfeather Consulting",)),
    Answerable("How are the chilled water pumps balanced?", "commissioning-plan.docx", ("5 percent of design flow",)),
    Answerable("Which gate do deliveries use?", "site-logistics.docx", ("Harbour Street",)),
    Answerable("When is the tower crane dismantled?", "site-logistics.docx", ("week 38",)),
    Answerable("Where does the concrete washout go?", "site-logistics.docx", ("gridline K",)),
]

# Answerable, but not with the vault's words, so not answered (reported, not tuned for): "Which levels do the
# structural steel shop drawings cover?", "Which ASTM standard do the wide-flange members meet?", "How are the
# anchors protected against corrosion?", "Who is the glazing contractor?", "When do deliveries happen?".

# Each shares words with the vault (named after it), and the vault does not answer it.
UNANSWERABLE = [
    "What is the warranty on the fire doors?",  # warranty: roof membrane; fire doors: 016
    "What warranty do the fire doors have?",  # the same, with "warranty" where "grade" stands above
    "Who is the architect of record?",  # architect: 017
    "What grade is the rebar in the footings?",  # footings, grade: the geotechnical report
    "When was the roof membrane installed?",  # roof membrane: 015
    "What is the VOC content of the sealant?",  # VOC content: 015
    "Who fabricated the curtain wall anchors?",  # fabricators: 018; curtain wall anchors: 014
    "What wind load is the elevator designed for?",  # wind loads: 014; designed: 018
    "How many stair doors need new closers?",  # stair doors, closers: 016
    "What was the water test pressure for the roof?",  # water test: the meeting; pressure: the report
    "Did the roof membrane pass the water test?",  # roof membrane: 015; passed the water test: the mockup
    "What is the bearing pressure under the tower crane?",  # bearing pressure: the report; tower crane: logistics
    "Who is the commissioning authority for the elevators?",  # commissioning authority: the plan
    "When will the tower crane be erected?",  # tower crane: logistics
    "What is the fire rating of the curtain wall?",  # fire rating: 016; curtain wall: 014
    "Who approved the structural calculations?",  # structural calculations: 014
    "What is the delivery window for the elevator cabs?",  # deliveries: logistics; elevator cabs: 017
    "At what depth was groundwater found at borehole B-7?",  # groundwater: at B-3; B-7 met shale
]


@dataclass(frozen=True)
class Vault:
    url: str
    headers: dict[str, str]
    database: str
    # Filename → document id.
    documents: dict[str, str]

    def ask(self, question: str) -> dict[str, Any]:
        response = httpx.post(self.url + ASK, json={"question": question}, headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def text(self, document_id: str) -> str:
        response = httpx.get(f"{self.url}/api/v2/vault/documents/{document_id}/text", headers=self.headers)
        return " ".join(response.json()["text"].split())


def _upload(url: str, headers: dict[str, str], name: str, content: bytes, project_id: str) -> str:
    response = httpx.post(
        url + "/api/v2/vault/documents",
        files={"file": (name, content)},
        data={"project_id": project_id},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 202, response.text
    document_id: str = response.json()["id"]
    return document_id


def _ready(url: str, headers: dict[str, str], document_id: str) -> bool:
    status = httpx.get(f"{url}/api/v2/vault/documents/{document_id}", headers=headers).json()["status"]
    assert status != "failed", f"{document_id} failed to ingest"
    return bool(status == "ready")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def vault(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Vault]:
    """One live server per database kind, holding the demo documents and the planted DOCX documents."""
    directory = tmp_path_factory.mktemp(f"chat-answers-{request.param}")
    database_url = fresh_database(request, request.param, directory, sqlite_template)
    caller = Tenants(database_url).caller(scopes=load_contract().scopes, tier=Tier.enterprise)
    dispose_engine(database_url)
    port = free_port()
    server = start_server(database_url, port, directory / "server.log")
    url, headers = f"http://127.0.0.1:{port}", caller.headers
    try:
        project = httpx.post(url + "/api/v2/projects", json={"name": "Riverside Tower"}, headers=headers).json()
        files = {path.name: path.read_bytes() for path in sorted(DEMO.iterdir()) if path.name != "metadata.json"}
        files |= {name: samples.docx(paragraphs, title=paragraphs[0]) for name, paragraphs in PLANTED.items()}
        documents = {name: _upload(url, headers, name, content, project["id"]) for name, content in files.items()}
        for document_id in documents.values():
            wait_for(functools.partial(_ready, url, headers, document_id), timeout=60)
        yield Vault(url, headers, request.param, documents)
    finally:
        server.terminate()
        server.wait(timeout=10)
        dispose_engine(database_url)


def _record(database: str, result: dict[str, Any]) -> None:
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    recorded = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
    recorded[database] = result
    ARTIFACT.write_text(json.dumps(recorded, indent=2) + "\n")


def _misses(vault: Vault, case: Answerable, answer: dict[str, Any]) -> str | None:
    """Why `answer` is not a correct answer to `case` (None when it is)."""
    if not answer["answered"] or not answer["citations"]:
        return "not answered"
    first = answer["citations"][0]
    if first["document_id"] != vault.documents[case.document]:
        return f"first citation is {first['title']!r}"
    if not all(words in first["snippet"] for words in case.holds):
        return f"first citation says {first['snippet']!r}"
    return None


def test_the_labelled_set_is_answered_with_correct_citations_and_refused_otherwise(vault: Vault) -> None:
    started = time.monotonic()
    answered = {case.question: vault.ask(case.question) for case in ANSWERABLE}
    refused = {question: vault.ask(question) for question in UNANSWERABLE}
    misses = {case.question: _misses(vault, case, answered[case.question]) for case in ANSWERABLE}
    correct = [question for question, miss in misses.items() if miss is None]
    false_answers = [question for question, answer in refused.items() if answer["answered"] or answer["citations"]]
    wrong = [question for question, miss in misses.items() if miss is not None and miss != "not answered"]
    said = len(correct) + len(wrong) + len(false_answers)
    precision = len(correct) / said if said else 1.0
    recall = len(correct) / len(ANSWERABLE)
    result = {
        "database": vault.database,
        "answerable": len(ANSWERABLE),
        "unanswerable": len(UNANSWERABLE),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "seconds": round(time.monotonic() - started, 2),
        "misses": {question: miss for question, miss in misses.items() if miss is not None},
        "answered_unanswerable": {question: refused[question]["answer"] for question in false_answers},
    }
    _record(vault.database, result)
    print(f"\nchat labelled set on {vault.database}: precision {precision:.0%}, recall {recall:.0%}, {result}")

    assert result["misses"] == {}
    assert result["answered_unanswerable"] == {}
    assert (precision, recall) == (1.0, 1.0)
    for answer in refused.values():
        assert (answer["answer"], answer["citations"], answer["answered"]) == (NO_ANSWER, [], False)
    for answer in answered.values():
        # Quoted word for word from where the citation says, each sentence followed by its number.
        quoted = [f"{citation['snippet']} [{number}]" for number, citation in enumerate(answer["citations"], 1)]
        assert answer["answer"] == " ".join(quoted)
        for citation in answer["citations"]:
            assert citation["snippet"] in vault.text(citation["document_id"])


def test_the_curtain_wall_anchor_grade_is_the_submittals_sentence_not_its_heading(vault: Vault) -> None:
    # Neither "grade" nor "curtain wall" is in the sentence: the question's subject is in its document's title.
    answer = vault.ask("What grade are the curtain wall anchors?")

    sentence = (
        "The embedded anchors are hot-dip galvanized to ASTM A123 and sized for the wind loads in specification "
        "section 08 44 13."
    )
    assert answer["answer"] == f"{sentence} [1]"
    assert answer["citations"] == [
        {
            "document_id": vault.documents["submittal-014-curtain-wall-anchors.md"],
            "title": "Submittal 014: Curtain wall anchors",
            "location": {"type": "paragraph", "number": 3},
            "snippet": sentence,
        }
    ]


def test_a_phrase_planted_in_a_docx_is_quoted_with_its_document_and_paragraph(vault: Vault) -> None:
    answer = vault.ask("Who is the commissioning authority?")

    first = answer["citations"][0]
    assert answer["answered"] is True
    assert answer["answer"].startswith(
        "The commissioning authority is Quillfeather Consulting, appointed by the owner in January. [1]"
    )
    assert first["document_id"] == vault.documents["commissioning-plan.docx"]
    assert first["title"] == "Commissioning plan: mechanical systems"
    assert first["location"] == {"type": "paragraph", "number": 2}


@pytest.mark.parametrize("question", ["anchors galvanized", "galvanizing of the anchor", "Are the anchors galvanized?"])
def test_stemmed_words_in_any_order_find_the_same_sentence(vault: Vault, question: str) -> None:
    answer = vault.ask(question)

    assert answer["answered"] is True
    first = answer["citations"][0]
    assert first["document_id"] == vault.documents["submittal-014-curtain-wall-anchors.md"]
    assert first["snippet"].startswith("The embedded anchors are hot-dip galvanized to ASTM A123")


def test_equally_good_sentences_are_all_quoted_and_a_weaker_one_is_not(vault: Vault) -> None:
    both = vault.ask("Is anything stamped by a licensed engineer?")
    membrane = vault.ask("What is the roof membrane made of?")

    assert {(c["document_id"], c["snippet"]) for c in both["citations"]} == {
        (
            vault.documents["submittal-014-curtain-wall-anchors.md"],
            "Structural calculations are stamped by a licensed engineer and attached.",
        ),
        (
            vault.documents["submittal-018-structural-steel.md"],
            "Connections are designed and stamped by a licensed engineer.",
        ),
    }
    # "Submitted by Apex Roofing…" holds "roof" too, but "membrane" is the rarer word: it does not tag along.
    assert [c["snippet"] for c in membrane["citations"]] == [
        "The membrane is a 60 mil TPO, fully adhered, with a 20-year manufacturer warranty, as specification "
        "section 07 54 23 requires."
    ]
