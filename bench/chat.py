"""chat.ask and chat.stream latency over the vault benchmark's 10,000-document search corpus.

One `vaultgate serve` (the console script, 2 idle job workers, rate limits on) on the corpus `python -m bench
vault` searches: 10,000 ready documents of 5 paragraphs each, made of the same construction words. Timed
over HTTP on one keep-alive connection, one call at a time, the variants taken in turns question by question:
- `vault.search` for the question's words, limit 10 (the baseline: retrieval alone);
- `chat.ask`, the extractive answer (retrieval, then the supporting sentences, quoted and cited);
- `chat.stream`: the first event (`progress`, as a client sees it arrive) and the last (`done`).
Goal (issue 17): chat.ask p95 < 100 ms with the extractive answerer. Each question's p50 is printed too: the
p95 of a handful of questions is the slowest one's.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench import vault as vault_bench
from bench import workflows as workflows_bench
from bench.harness import vaultgate_client
from storage import documents
from storage.accounts import create_organization, create_user
from storage.blobs import new_blob_key
from storage.database import dispose_engine, normalize_url, session_scope
from storage.migrate import upgrade_to_head
from storage.models import Mode, Role, Tier
from storage.tenancy import Tenant

DOCUMENTS = 10_000
ROUNDS = 20
WARM_UP = 2
GOAL_SECONDS = 0.100
# (question, its words as a search). The corpus repeats 13 word triples ("gutter rejected wall …", each in some
# 3,800 passages) and numbers every sentence ("item 4242", a word in all 50,000 passages): the first five hold
# a sentence with all their words; the warranty question shares one word with thousands of passages but is
# not answered, and the letter question shares none.
QUESTIONS = [
    ("Was the wall gutter rejected?", "wall gutter rejected"),
    ("Is the curtain flashing approved?", "curtain flashing approved"),
    ("Is the rebar damper on the schedule?", "rebar damper schedule"),
    ("What coating is on the steel conduit?", "coating steel conduit"),
    ("Is item 4242 approved?", "item 4242 approved"),
    ("What is the warranty on the glazing riser?", "warranty glazing riser"),
    ("Who signed the elevator warranty letter?", "signed elevator warranty letter"),
]
SEARCH = "vault.search, limit 10 (baseline)"
ASK = "chat.ask"
FIRST_EVENT = "chat.stream, first event"
DONE = "chat.stream, done"
VARIANTS = [SEARCH, ASK, FIRST_EVENT, DONE]


def _seed(database_url: str, total: int) -> tuple[str, str]:
    """The vault benchmark's search corpus (`bench.vault`'s sentences) in a fresh database, and a key for it."""
    upgrade_to_head(database_url)
    with session_scope(database_url) as session:
        organization = create_organization(session, name="Bench", tier=Tier.enterprise)
        user = create_user(
            session, organization=organization, email="b@example.com", name="B", role=Role.admin, permissions=[]
        )
        tenant, user_id = Tenant(organization.id, Mode.test), user.id
        for n in range(total):
            document = documents.create_document(
                session,
                tenant,
                documents.NewDocument(
                    None, user_id, f"Doc {n}", f"doc-{n}.txt", "text/plain", 100, "0" * 64, new_blob_key(tenant), {}
                ),
            )
            segments = [documents.TextSegment("paragraph", p + 1, vault_bench._sentence(n * 5 + p)) for p in range(5)]
            documents.store_extraction(session, document.id, title=None, page_count=None, segments=segments)
            if n % 1000 == 999:
                session.flush()
    key = workflows_bench.bench_key(database_url, user_id)
    dispose_engine(database_url)
    if database_url.startswith("postgresql"):
        # What autovacuum's analyze does a minute or so after a bulk load, done now: with no statistics on the
        # fresh tables the planner's first plan for a search took ~20 s (measured), and a timeout before it.
        engine = create_engine(normalize_url(database_url), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
        engine.dispose()
    return database_url, key


@contextmanager
def _database(pg_admin: str | None, directory: Path) -> Iterator[str]:
    if pg_admin is None:
        yield f"sqlite:///{directory / 'bench.db'}"
        return
    name = f"bench_chat_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(pg_admin), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    yield pg_admin.rsplit("/", 1)[0] + "/" + name


def _stream(client: httpx.Client, question: str) -> tuple[float, float]:
    """Seconds to the first whole event and to the `done` event, from the request being sent."""
    started = time.perf_counter()
    first = done = 0.0
    with client.stream("POST", "/chat/stream", json={"question": question}) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("data:") and not first:
                first = time.perf_counter() - started
            if line == "event: done":
                done = time.perf_counter()
        assert done, "the stream ended without a done event"
    return first, done - started


def _timed(call: Callable[[str], None], argument: str) -> float:
    started = time.perf_counter()
    call(argument)
    return time.perf_counter() - started


Timings = dict[str, dict[str, list[float]]]  # question → variant → seconds


def _measure(client: httpx.Client) -> tuple[Timings, dict[str, bool]]:
    """Every variant's timings per question, and whether chat.ask answered each."""
    timings: Timings = {question: {SEARCH: [], ASK: [], FIRST_EVENT: [], DONE: []} for question, _ in QUESTIONS}
    answered: dict[str, bool] = {}

    def search(words: str) -> None:
        response = client.get("/vault/search", params={"q": words, "limit": 10})
        assert response.status_code == 200, response.text

    def ask(question: str) -> None:
        response = client.post("/chat/ask", json={"question": question})
        assert response.status_code == 200, response.text
        answered[question] = response.json()["answered"]

    for round_ in range(WARM_UP + ROUNDS):
        for question, words in QUESTIONS:
            figures = {SEARCH: _timed(search, words), ASK: _timed(ask, question)}
            figures[FIRST_EVENT], figures[DONE] = _stream(client, question)
            if round_ >= WARM_UP:
                for label, seconds in figures.items():
                    timings[question][label].append(seconds)
    return timings, answered


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def _report(backend: str, timings: Timings, answered: dict[str, bool], seeded: float) -> None:
    overall = {label: [t for per_question in timings.values() for t in per_question[label]] for label in VARIANTS}
    print(f"\n== chat over {DOCUMENTS:,} ready documents (5 paragraphs each), {backend}, 1 `vaultgate serve` ==")
    print(
        f"  seeded in {seeded:.0f} s; {len(QUESTIONS)} questions ({sum(answered.values())} answered) x {ROUNDS} rounds:"
    )
    print(
        f"  {len(overall[SEARCH])} calls of each after {WARM_UP} warm-up rounds, one at a time, over HTTP on loopback"
    )
    base50, base95 = statistics.median(overall[SEARCH]), _p95(overall[SEARCH])
    print(f"  {'':<36} {'p50':>9} {'p95':>10}   vs search p50, p95")
    for label, values in overall.items():
        p50, p95 = statistics.median(values), _p95(values)
        print(f"  {label:<36} {p50 * 1000:6.1f} ms {p95 * 1000:7.1f} ms   {p50 / base50:5.2f}x {p95 / base95:5.2f}x")
    p95 = _p95(overall[ASK])
    verdict = "met" if p95 < GOAL_SECONDS else "MISSED"
    print(f"  goal: chat.ask p95 < {GOAL_SECONDS * 1000:.0f} ms (extractive): {verdict} ({p95 * 1000:.1f} ms)")
    print(f"  per question, p50 of {ROUNDS}: {'search':>8} {'chat.ask':>9}")
    for question, per_question in timings.items():
        search, asked = (statistics.median(per_question[label]) * 1000 for label in (SEARCH, ASK))
        mark = "answered" if answered[question] else "not answered"
        print(f"    {question:<42} {search:6.1f} ms {asked:6.1f} ms  {mark}")


def chat_latency(pg_admin: str | None = None) -> None:
    backend = "SQLite" if pg_admin is None else "PostgreSQL"
    directory = Path(tempfile.mkdtemp(prefix="vaultgate-bench-chat-"))
    try:
        with _database(pg_admin, directory) as url:
            started = time.perf_counter()
            database_url, key = _seed(url, DOCUMENTS)
            seeded = time.perf_counter() - started
            with vaultgate_client(database_url, directory / "blobs", key) as client:
                timings, answered = _measure(client)
        _report(backend, timings, answered, seeded)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def run() -> None:
    chat_latency()
    with vault_bench.postgres() as admin_url:
        chat_latency(admin_url)
