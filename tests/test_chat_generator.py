"""The OpenAI-compatible generator behind chat.ask and chat.stream, on a live `vaultgate serve`, against a fake
chat-completions server on loopback that streams real OpenAI-format chunks as each test scripts it (by setting the
fake's script, not by a marker in the question, which the extractive fallback must answer too). Timing is measured
through uvicorn on loopback, as a client sees it.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from chat.citations import CitationCheck
from chat.generator import Endpoint, GeneratorFailed, OpenAICompatibleGenerator
from core.settings import Settings
from gateway.contract import load_contract
from storage import documents
from storage.blobs import LocalBlobStore, new_blob_key
from storage.database import session_scope
from storage.models import Mode, Tier
from storage.tenancy import Tenant
from tests.conftest import Caller, LiveServer, Tenants, free_port, running_server
from tests.loopback import QuietHandler

Json = dict[str, Any]
API_KEY = f"sk-fake-{secrets.token_hex(12)}"
TIMEOUT_SECONDS = 1.5
ANSWER_SECONDS = 3.0
KEEPALIVE_SECONDS = 0.2
# What the gateway reads of one answer at most is VAULTGATE_CHAT_MAX_TOKENS at 1 KiB a token: here more than
# the socket buffers between the gateway and a client that reads nothing hold (a few MB on Linux).
MAX_TOKENS = 8000
MOST_BYTES = MAX_TOKENS * 1024
QUESTION = "What grade are the curtain wall anchors?"
DOCUMENTS = {
    "Submittal 014 - curtain wall anchors": [
        "The embedded anchors are hot-dip galvanized to ASTM A123.",
        "Each anchor was load tested to twice its design load.",
    ],
    "Submittal 015 - anchor bolts": ["The curtain wall anchor bolts are ASTM F1554 grade 55."],
    "Specification 08 44 13 - curtain wall": ["Curtain wall anchors shall resist the wind loads of section 01 41 00."],
}
SENTENCES = {sentence for paragraphs in DOCUMENTS.values() for sentence in paragraphs}


# ---- the fake generator --------------------------------------------------------------------------------------------


DONE = "data: [DONE]\n\n"


def chunk_line(delta: Json, finish_reason: str | None) -> str:
    chunk = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(chunk)}\n\n"


class Reply:
    """One streamed chat-completions answer, written as OpenAI writes it."""

    def __init__(self, handler: QuietHandler) -> None:
        self.handler = handler

    def start(self) -> None:
        self.handler.send_response(200)
        self.handler.send_header("Content-Type", "text/event-stream")
        self.handler.end_headers()
        self._chunk({"role": "assistant", "content": ""}, None)

    def tokens(self, *texts: str, every: float = 0.0) -> None:
        for text in texts:
            time.sleep(every)
            self._chunk({"content": text}, None)

    def finish(self) -> None:
        self.stop()
        self.write(DONE)

    def stop(self) -> None:
        """The answer's last chunk (`finish_reason`), which [DONE] follows."""
        self._chunk({}, "stop")

    def _chunk(self, delta: Json, finish_reason: str | None) -> None:
        self.write(chunk_line(delta, finish_reason))

    def write(self, text: str) -> None:
        self.handler.wfile.write(text.encode())
        self.handler.wfile.flush()


def cite_bogus(reply: Reply) -> None:
    # Markers split across tokens, as models stream them.
    reply.start()
    reply.tokens("The anchors are hot-dip", " galvanized [", "1]", " and load tested [9", "].")
    reply.finish()


def renumber(reply: Reply) -> None:
    reply.start()
    reply.tokens("The bolts are grade 55 [3]", " and the anchors galvanized [1][3].")
    reply.finish()


def error_500(reply: Reply) -> None:
    reply.handler.reply(b'{"error": {"message": "overloaded"}}', "application/json", 500)


def malformed(reply: Reply) -> None:
    reply.start()
    reply.write("data: {not json\n\n")


def hang(reply: Reply) -> None:
    reply.start()
    time.sleep(TIMEOUT_SECONDS + 2)


def break_off(reply: Reply) -> None:
    reply.start()
    reply.tokens("The anchors [1]", " are hot-dip")
    # The connection closes here, with no finish and no [DONE]: a truncated answer.


def trickle(reply: Reply) -> None:
    # Each token well within the silence allowed, the whole far past the answer's time.
    reply.start()
    reply.tokens(" [1]", *[f" word{n}" for n in range(12)], every=TIMEOUT_SECONDS / 3)
    reply.finish()


SLOW_SILENCE = 1.0


def slow(reply: Reply) -> None:
    reply.start()
    time.sleep(SLOW_SILENCE)
    reply.tokens("Grade 55 [1]", *[f" word{n}" for n in range(8)], every=0.05)
    reply.finish()


LONG_TOKENS, LONG_EVERY = 25, 0.1


def long(reply: Reply) -> None:
    reply.start()
    reply.tokens("Grade 55 [1]", *[f" word{n}" for n in range(LONG_TOKENS)], every=LONG_EVERY)
    reply.finish()


def uncited(reply: Reply) -> None:
    # Fluent, plausible, and cited to nothing retrieved: never shown as the answer.
    reply.start()
    reply.tokens("The anchors are made of", " solid gold [9] and were installed in 1850.")
    reply.finish()


def oversized(reply: Reply) -> None:
    # Cited only at the end, past what the gateway reads: nothing was shown when it gives up.
    reply.start()
    reply.tokens(*["word " * 800] * (MOST_BYTES // 4000 + 10), "Grade 55 [1].")
    reply.finish()


def long_line(reply: Reply) -> None:
    # One line of the stream longer than a line may be, though well within the answer's bound.
    reply.start()
    reply.tokens("Grade 55 [1] " + "word " * 20_000)
    reply.finish()


def gzipped(reply: Reply) -> None:
    # Compressed though asked not to be: a few kilobytes of it could inflate to gigabytes.
    body = gzip.compress((chunk_line({"content": "Grade 55 [1]."}, "stop") + DONE).encode())
    reply.handler.send_response(200)
    reply.handler.send_header("Content-Type", "text/event-stream")
    reply.handler.send_header("Content-Encoding", "gzip")
    reply.handler.send_header("Content-Length", str(len(body)))
    reply.handler.end_headers()
    reply.handler.wfile.write(body)


def deep_json(reply: Reply) -> None:
    reply.start()
    reply.write(f"data: {'[' * 25_000}{']' * 25_000}\n\n")


def crlf(reply: Reply) -> None:
    # Lines ended by CRLF (a CRLF split between two reads), comments, and one chunk's data over two data lines.
    reply.start()
    reply.write(": an upstream proxy's comment\r\n\r")
    reply.write("\n" + chunk_line({"content": "Grade 55 [1]"}, None).replace("\n", "\r\n"))
    chunk = json.loads(chunk_line({"content": " and galvanized [3]."}, None).removeprefix("data: "))
    reply.write("".join(f"data: {line}\r\n" for line in json.dumps(chunk, indent=1).splitlines()) + "\r\n")
    reply.finish()


LEAKED_MESSAGE = f"Incorrect API key provided: {API_KEY}"


def error_chunk(reply: Reply) -> None:
    # OpenAI's error object; its message quotes the request, here the key.
    reply.start()
    error = {"message": LEAKED_MESSAGE, "type": "invalid_request_error", "code": "invalid_api_key"}
    reply.write(f"data: {json.dumps({'error': error})}\n\n")


def finish_then_silence(reply: Reply) -> None:
    # The answer's last chunk, then neither [DONE] nor a close (as some servers do).
    reply.start()
    reply.tokens("Grade 55 [1].")
    reply.stop()
    time.sleep(TIMEOUT_SECONDS + 1)


def flood(reply: Reply) -> None:
    # More than a client's socket holds, within the answer's bound; then the connection stays open, and the
    # gateway closing it is seen by a write failing.
    reply.start()
    reply.tokens("Grade 55 [1]", *[" word" * 200] * (MOST_BYTES * 7 // 8 // 1000))
    reply.finish()
    for _ in range(200):
        time.sleep(0.05)
        reply.write(": still here\n\n")


SCRIPTS: dict[str, Callable[[Reply], None]] = {
    script.__name__: script
    for script in (
        cite_bogus,
        renumber,
        error_500,
        malformed,
        hang,
        break_off,
        trickle,
        slow,
        long,
        uncited,
        oversized,
        long_line,
        gzipped,
        deep_json,
        error_chunk,
        finish_then_silence,
        flood,
        crlf,
    )
}


@dataclass
class Received:
    script: str
    headers: dict[str, str]
    body: Json


@dataclass
class FakeCompletions:
    """`POST /v1/chat/completions` on a fixed loopback port; records each request, and when a script ran to its
    end or its client hung up on it (a write to a closed connection fails)."""

    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    finished: dict[str, float] = field(default_factory=dict)
    hung_up: dict[str, float] = field(default_factory=dict)
    # How the next requests are answered (a name in SCRIPTS).
    script: str = "cite_bogus"
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                script = fake.script
                fake.received.append(Received(script, dict(self.headers.items()), body))
                try:
                    SCRIPTS[script](Reply(self))
                    fake.finished[script] = time.monotonic()
                except (BrokenPipeError, ConnectionResetError):
                    fake.hung_up[script] = time.monotonic()

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def last(self, script: str) -> Received:
        return [r for r in self.received if r.script == script][-1]


# ---- the gateway ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chat:
    server: LiveServer
    caller: Caller
    fake: FakeCompletions
    log: Path


def plant(server: LiveServer, caller: Caller, title: str, paragraphs: list[str]) -> None:
    """A ready document of the caller's organization, one search passage per paragraph."""
    tenant = Tenant(caller.organization_id, Mode.test)
    text = "\n\n".join(paragraphs).encode()
    with session_scope(server.database_url) as session:
        document = documents.create_document(
            session,
            tenant,
            documents.NewDocument(
                project_id=None,
                created_by=caller.user_id,
                title=title,
                filename=f"{title}.txt",
                content_type="text/plain",
                size_bytes=len(text),
                sha256="0" * 64,
                blob_key=new_blob_key(tenant),
                metadata={},
            ),
        )
        blob_dir = Path(server.database_url.removeprefix("sqlite:///")).parent / "blobs"
        LocalBlobStore(blob_dir).put(document.blob_key, io.BytesIO(text))
        segments = [documents.TextSegment("paragraph", n, p) for n, p in enumerate(paragraphs, start=1)]
        documents.store_extraction(session, document.id, title=None, page_count=None, segments=segments)


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chat]:
    fake = FakeCompletions()
    fake.start()
    directory = tmp_path_factory.mktemp("chat-generator")
    env = {
        "VAULTGATE_CHAT_BASE_URL": fake.base_url,
        "VAULTGATE_CHAT_MODEL": "fake-model",
        "VAULTGATE_CHAT_API_KEY": API_KEY,
        "VAULTGATE_CHAT_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "VAULTGATE_CHAT_ANSWER_SECONDS": str(ANSWER_SECONDS),
        "VAULTGATE_CHAT_KEEPALIVE_SECONDS": str(KEEPALIVE_SECONDS),
        "VAULTGATE_CHAT_MAX_TOKENS": str(MAX_TOKENS),
    }
    try:
        with running_server(directory, seed_examples=False, extra_env=env) as server:
            caller = Tenants(server.database_url).caller(scopes=load_contract().scopes, tier=Tier.enterprise)
            for title, paragraphs in DOCUMENTS.items():
                plant(server, caller, title, paragraphs)
            yield Chat(server, caller, fake, directory / "server.log")
    finally:
        fake.stop()


def question(chat: Chat, script: str) -> Json:
    """The question, with the fake answering it by `script`."""
    chat.fake.script = script
    return {"question": QUESTION}


def ask(chat: Chat, body: Json) -> Json:
    response = httpx.post(
        f"{chat.server.url}/api/v2/chat/ask",
        json=body,
        headers={"Authorization": f"Bearer {chat.caller.key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Line:
    at: float  # seconds since the request was sent
    text: str


@dataclass
class Streamed:
    headers: httpx.Headers
    lines: list[Line]

    @property
    def events(self) -> list[tuple[str, Json, float]]:
        """`(event, data, arrival)` of each event, in order; comments left out."""
        events, name = [], ""
        for line in self.lines:
            if line.text.startswith("event: "):
                name = line.text.removeprefix("event: ")
            elif line.text.startswith("data: "):
                events.append((name, json.loads(line.text.removeprefix("data: ")), line.at))
        return events

    def named(self, name: str) -> list[Json]:
        return [data for event, data, _at in self.events if event == name]

    @property
    def answer(self) -> str:
        return "".join(delta["text"] for delta in self.named("delta"))


def stream(chat: Chat, body: Json, *, until: Callable[[str], bool] = lambda line: False) -> Streamed:
    """The stream's lines as they arrive (read off the socket as uvicorn sends them); hangs up once `until`."""
    headers = {"Authorization": f"Bearer {chat.caller.key}"}
    lines: list[Line] = []
    with httpx.Client(timeout=30) as client:
        sent = time.monotonic()
        with client.stream("POST", f"{chat.server.url}/api/v2/chat/stream", json=body, headers=headers) as response:
            assert response.status_code == 200, response.read()
            for text in response.iter_lines():
                lines.append(Line(time.monotonic() - sent, text))
                if until(text):
                    break
    return Streamed(response.headers, lines)


def passages_given(received: Received) -> list[tuple[str, str]]:
    """`(title, text)` of each passage in the prompt the fake received, [1] first."""
    prompt = received.body["messages"][-1]["content"]
    numbered = re.findall(r"^\[(\d+)\] (.+) \(paragraph \d+\)\n(.+)$", prompt, re.M)
    assert [int(number) for number, _title, _text in numbered] == list(range(1, len(numbered) + 1))
    return [(title, text) for _number, title, text in numbered]


# ---- citations -----------------------------------------------------------------------------------------------------


def test_a_citation_to_a_passage_not_given_is_dropped(chat: Chat) -> None:
    answer = ask(chat, question(chat, "cite_bogus"))

    assert answer["answer"] == "The anchors are hot-dip galvanized [1] and load tested."
    assert answer["answered"] is True
    assert (answer["answerer"], answer["fallback"]) == ("generator", False)
    [citation] = answer["citations"]
    passages = passages_given(chat.fake.last("cite_bogus"))
    assert len(passages) < 9
    assert citation["title"] == passages[0][0]
    assert citation["snippet"] in DOCUMENTS[citation["title"]]

    streamed = stream(chat, question(chat, "cite_bogus"))
    assert streamed.answer == answer["answer"]
    assert streamed.named("citation") == answer["citations"]
    assert streamed.named("done") == [{"answered": True, "citations": 1, "answerer": "generator", "fallback": False}]


def test_a_generated_answer_that_cites_nothing_retrieved_is_not_shown(chat: Chat) -> None:
    answer = ask(chat, question(chat, "uncited"))

    assert answer == {
        "answer": "The documents in scope do not answer this question.",
        "citations": [],
        "answered": False,
        "answerer": "generator",
        "fallback": False,
    }
    streamed = stream(chat, question(chat, "uncited"))
    assert streamed.answer == answer["answer"]
    assert "gold" not in "".join(line.text for line in streamed.lines)
    assert streamed.named("done") == [{"answered": False, "citations": 0, "answerer": "generator", "fallback": False}]


def test_a_stream_of_crlf_lines_comments_and_data_over_several_lines_is_read(chat: Chat) -> None:
    answer = ask(chat, question(chat, "crlf"))

    assert answer["answer"] == "Grade 55 [1] and galvanized [2]."
    assert (answer["answerer"], answer["fallback"]) == ("generator", False)


def test_citations_are_numbered_in_order_of_first_mention(chat: Chat) -> None:
    answer = ask(chat, question(chat, "renumber"))

    passages = passages_given(chat.fake.last("renumber"))
    assert len(passages) >= 3
    assert answer["answer"] == "The bolts are grade 55 [1] and the anchors galvanized [2][1]."
    assert [c["title"] for c in answer["citations"]] == [passages[2][0], passages[0][0]]


def test_the_prompt_holds_the_question_and_the_retrieved_passages_and_the_key_stays_out_of_the_log(
    chat: Chat,
) -> None:
    ask(chat, question(chat, "cite_bogus"))

    received = chat.fake.last("cite_bogus")
    assert received.headers["Authorization"] == f"Bearer {API_KEY}"
    assert received.body["model"] == "fake-model"
    assert received.body["stream"] is True
    assert received.body["max_tokens"] == MAX_TOKENS
    assert received.headers["Accept-Encoding"] == "identity"
    system, user = received.body["messages"]
    assert system["role"] == "system"
    assert "only the numbered passages" in system["content"]
    assert user["content"].endswith(f"Question: {QUESTION}")
    passages = passages_given(received)
    assert ("Submittal 015 - anchor bolts", DOCUMENTS["Submittal 015 - anchor bolts"][0]) in passages
    for title, text in passages:
        assert text in " ".join(DOCUMENTS[title])
    assert chat.log.read_text().count("POST /api/v2/chat/ask") >= 1
    assert API_KEY not in chat.log.read_text()


# ---- failures ------------------------------------------------------------------------------------------------------


def assert_extractive_fallback(answer: Json) -> None:
    assert (answer["answerer"], answer["fallback"], answer["answered"]) == ("extractive", True, True)
    assert "[1]" in answer["answer"]
    assert all(c["snippet"] in SENTENCES for c in answer["citations"])


@pytest.mark.parametrize(
    "script", ["error_500", "malformed", "hang", "oversized", "long_line", "gzipped", "deep_json", "error_chunk"]
)
def test_a_generator_that_fails_before_answering_is_replaced_by_the_extractive_answer(chat: Chat, script: str) -> None:
    assert_extractive_fallback(ask(chat, question(chat, script)))

    streamed = stream(chat, question(chat, script))
    [done] = streamed.named("done")
    assert (done["answerer"], done["fallback"]) == ("extractive", True)
    assert [name for name, _data, _at in streamed.events][-1] == "done"


def test_an_unreachable_generator_is_replaced_by_the_extractive_answer(chat: Chat) -> None:
    chat.fake.stop()
    try:
        assert_extractive_fallback(ask(chat, question(chat, "cite_bogus")))
        [done] = stream(chat, question(chat, "cite_bogus")).named("done")
        assert (done["answerer"], done["fallback"]) == ("extractive", True)
    finally:
        chat.fake.start()


@pytest.mark.parametrize("script", ["break_off", "trickle"])
def test_a_generator_that_stops_part_way_ends_the_stream_with_an_error(chat: Chat, script: str) -> None:
    streamed = stream(chat, question(chat, script))

    names = [name for name, _data, _at in streamed.events]
    assert re.fullmatch(r"(progress,){2}(delta,)+error", ",".join(names)), names
    [problem] = streamed.named("error")
    assert problem["code"] == "answer_interrupted"
    assert problem["status"] == 502


def test_chat_ask_answers_extractively_when_the_generator_stops_part_way(chat: Chat) -> None:
    assert_extractive_fallback(ask(chat, question(chat, "break_off")))


def test_the_generators_error_is_logged_by_its_type_and_code_not_its_message(chat: Chat) -> None:
    assert_extractive_fallback(ask(chat, question(chat, "error_chunk")))

    log = chat.log.read_text()
    assert "code='invalid_api_key'" in log
    assert "Incorrect API key" not in log
    assert API_KEY not in log


def test_a_failure_names_the_generator_without_the_userinfo_of_its_url() -> None:
    endpoint = Endpoint.of(Settings(chat_base_url=f"http://vault-user:pa55-word@127.0.0.1:{free_port()}/v1"))
    assert endpoint is not None

    async def answer() -> None:
        async for _event in OpenAICompatibleGenerator(endpoint).answer(QUESTION, []):
            pass

    with pytest.raises(GeneratorFailed) as failed:
        asyncio.run(answer())
    assert "http://127.0.0.1:" in str(failed.value)
    assert "vault-user" not in str(failed.value)
    assert "pa55-word" not in str(failed.value)


# ---- time ----------------------------------------------------------------------------------------------------------


def test_an_answer_is_done_with_its_last_chunk_without_waiting_for_the_connection_to_close(chat: Chat) -> None:
    streamed = stream(chat, question(chat, "finish_then_silence"))

    assert streamed.answer == "Grade 55 [1]."
    [(name, done, at)] = [event for event in streamed.events if event[0] in ("done", "error")]
    assert (name, done["answerer"]) == ("done", "generator")
    assert at < TIMEOUT_SECONDS


@contextmanager
def stalled_stream(chat: Chat, script: str) -> Iterator[float]:
    """chat.stream asked by a client that never reads its answer; yields when it was asked."""
    url = httpx.URL(chat.server.url)
    body = json.dumps(question(chat, script)).encode()
    with socket.socket() as client:
        # A small receive buffer, which fills after a few kilobytes of the answer.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect((url.host, url.port or 80))
        client.sendall(
            b"POST /api/v2/chat/stream HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {chat.caller.key}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        yield time.monotonic()


def test_a_client_that_stops_reading_does_not_hold_the_generator_open(chat: Chat) -> None:
    with stalled_stream(chat, "flood") as asked:
        deadline = asked + TIMEOUT_SECONDS + 4
        while "flood" not in chat.fake.hung_up and time.monotonic() < deadline:
            time.sleep(0.05)

        assert "flood" in chat.fake.hung_up, "the request to the generator stayed open behind the stalled client"
        assert "flood" not in chat.fake.finished
        assert chat.fake.hung_up["flood"] - asked < TIMEOUT_SECONDS + 2


def test_the_first_event_comes_at_once_and_keep_alives_fill_the_silence(chat: Chat) -> None:
    streamed = stream(chat, question(chat, "slow"))

    assert streamed.headers["x-accel-buffering"] == "no"
    events = streamed.events
    assert events[0][0] == "progress"
    first, done = events[0][2], events[-1][2]
    assert first < 0.3, f"first event after {first:.3f} s"
    assert done > SLOW_SILENCE, f"done after {done:.3f} s"
    first_delta = next(at for name, _data, at in events if name == "delta")
    # Tokens go out as they come, not gathered up for the end.
    assert done - first_delta > 0.2
    pings = [line for line in streamed.lines if line.text == ": ping" and line.at < first_delta]
    assert len(pings) >= 2
    assert streamed.named("done")[0]["answerer"] == "generator"


def test_a_client_that_hangs_up_stops_the_generator(chat: Chat) -> None:
    streamed = stream(chat, question(chat, "long"), until=lambda line: line.startswith("event: delta"))
    hung_up = time.monotonic()
    scripted = LONG_TOKENS * LONG_EVERY

    assert streamed.lines[-1].text == "event: delta"
    deadline = hung_up + scripted
    while "long" not in chat.fake.hung_up and "long" not in chat.fake.finished and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "long" in chat.fake.hung_up, "the generator's request ran on after the client hung up"
    assert chat.fake.hung_up["long"] - hung_up < scripted / 2


# ---- the citation check, token by token ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "shown", "cited"),
    [
        (["Grade 55 [", "2", "]."], "Grade 55 [1].", [1]),
        (["Grade 55 [9]", "."], "Grade 55.", []),
        (["A [2, 9", ", 1]", " b [1]."], "A [1][2] b [2].", [1, 0]),
        (["See [note] and [", "]."], "See [note] and [].", []),
        (["Ends on [1", "2"], "Ends on", []),
        (["A [[1]]"], "A [[1]]", [0]),
        (["Spaced [ 3] and [3 ", "] and [ 2 , 3 ]."], "Spaced [1] and [1] and [2][1].", [2, 1]),
        (["Full-width \uff3b\uff12\uff3d."], "Full-width [1].", [1]),
        (["A range [1-", "3]."], "A range [1][2][3].", [0, 1, 2]),
        (["Not a list [1 - - 2] nor [2023]."], "Not a list nor.", []),
        # Longer than a marker is held back, whether split or not: dropped, not shown with its numbers.
        (["Long [", *["1, 2, 3, "] * 40, "1] and [" + "2, " * 400 + "3]."], "Long and.", []),
    ],
)
def test_citation_markers_are_checked_and_renumbered_as_they_stream(
    tokens: list[str], shown: str, cited: list[int]
) -> None:
    check = CitationCheck(passages=3)

    text = "".join(check.feed(token) for token in tokens) + check.end()

    assert text == shown
    assert check.cited == cited


def test_a_marker_listing_every_passage_is_read_as_citations() -> None:
    check = CitationCheck(passages=20)

    text = check.feed("All of them [" + ", ".join(str(n) for n in range(1, 21)) + "].") + check.end()

    assert text == "All of them " + "".join(f"[{n}]" for n in range(1, 21)) + "."
    assert check.cited == list(range(20))


def test_spaces_are_shown_as_they_come_not_held_back_without_limit() -> None:
    check = CitationCheck(passages=3)

    shown = check.feed("Grade 55" + " " * 100_000)

    assert shown.startswith("Grade 55")
    assert len(shown) > 100_000 - 100
    assert shown + check.feed("[1].") + check.end() == "Grade 55" + " " * 100_000 + "[1]."


def test_the_citation_check_reads_a_long_text_in_time_proportional_to_it() -> None:
    # Every "[1," may open a marker: read a character at a time, as it was, this took seconds.
    text = ("[1," * 10 + "x ") * 80_000
    check = CitationCheck(passages=3)

    started = time.perf_counter()
    shown = check.feed(text) + check.end()

    assert time.perf_counter() - started < 1.0
    assert shown == text
