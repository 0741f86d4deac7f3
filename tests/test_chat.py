"""chat.ask and chat.stream through every door of a live `vaultgate serve`: REST, SSE, MCP, OAuth, idempotency.

The vault is planted in storage with made-up words (zorblat, quillon, vendrick, plumbrook) that nothing else
in the database holds, so an answer can only come from the document the test put there.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from core.settings import Settings
from gateway.contract import load_contract
from gateway.oauth.resources import OAuthServer
from storage import documents
from storage import oauth as grants
from storage.blobs import LocalBlobStore, new_blob_key
from storage.database import session_scope
from storage.models import Mode, Tier, User
from storage.tenancy import Tenant
from tests.conftest import Caller, LiveServer, Tenants, running_server

Json = dict[str, Any]
ASK = "/chat/ask"
STREAM = "/chat/stream"
OPERATIONS = [ASK, STREAM]
NO_SUCH_ID = "7b0d9c1e-2f3a-4b5c-8d6e-9f0a1b2c3d4e"
REQUEST_ID = re.compile(r"^req_[0-9a-f]{32}$")

GASKET_QUESTION = "What are the zorblat gaskets rated to?"
GASKET_SENTENCE = "The zorblat gaskets are rated to 450 kelvin."
BRACKET_QUESTION = "What is the quillon bracket?"
BRACKET_SENTENCES = [
    "The quillon bracket is galvanized.",
    "The quillon bracket is welded.",
    "The quillon bracket is braced.",
    "The quillon bracket is tested.",
]
MORTAR_QUESTION = "When does the vendrick mortar cure?"
MORTAR_SENTENCE = "The vendrick mortar cures in nine days."
HINGE_QUESTION = "What is the plumbrook hinge forged from?"
HINGE_SENTENCE = "The plumbrook hinge is forged from bronze."


@dataclass(frozen=True)
class Vault:
    """Organization A (two projects, three documents) and organization B (one project, one document)."""

    server: LiveServer
    owner: Caller
    project_a: str
    project_b: str
    gaskets: str
    brackets: str
    mortar: str
    stranger: Caller
    stranger_project: str
    hinge: str


@dataclass(frozen=True)
class Streamed:
    response: httpx.Response
    events: list[tuple[str, Json]]

    def named(self, name: str) -> list[Json]:
        return [data for event, data in self.events if event == name]

    @property
    def answer(self) -> str:
        return "".join(delta["text"] for delta in self.named("delta"))


def plant(server: LiveServer, caller: Caller, project_id: str | None, title: str, paragraphs: list[str]) -> str:
    """A ready document of the caller's organization, one search passage per paragraph."""
    tenant = Tenant(caller.organization_id, Mode.test)
    blob_dir = Path(server.database_url.removeprefix("sqlite:///")).parent / "blobs"
    text = "\n\n".join(paragraphs).encode()
    with session_scope(server.database_url) as session:
        document = documents.create_document(
            session,
            tenant,
            documents.NewDocument(
                project_id=uuid.UUID(project_id) if project_id else None,
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
        LocalBlobStore(blob_dir).put(document.blob_key, io.BytesIO(text))
        segments = [documents.TextSegment("paragraph", n, p) for n, p in enumerate(paragraphs, start=1)]
        documents.store_extraction(session, document.id, title=None, page_count=None, segments=segments)
        return str(document.id)


def rest(server: LiveServer, method: str, path: str, key: str | None, **kwargs: Any) -> httpx.Response:
    headers = {**({"Authorization": f"Bearer {key}"} if key else {}), **kwargs.pop("headers", {})}
    return httpx.request(method, f"{server.url}/api/v2{path}", headers=headers, timeout=30, **kwargs)


def ask(vault: Vault, body: Json, key: str | None = None) -> Json:
    response = rest(vault.server, "POST", ASK, key or vault.owner.key, json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def parse_sse(raw: str) -> list[tuple[str, Json]]:
    """`(event, data)` of every event in a raw Server-Sent Events body; comments (`: ping`) skipped."""
    events = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        fields = [line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":")]
        if fields:
            named = dict(fields)
            events.append((named.get("event", "message"), json.loads(named["data"])))
    return events


def stream(vault: Vault, body: Json, key: str | None = None, **headers: str) -> Streamed:
    response = rest(vault.server, "POST", STREAM, key or vault.owner.key, json=body, headers=headers)
    is_stream = response.headers.get("content-type", "").startswith("text/event-stream")
    return Streamed(response, parse_sse(response.text) if is_stream else [])


def cited(answer: Json) -> set[str]:
    return {citation["document_id"] for citation in answer["citations"]}


def assert_problem(response: httpx.Response, status: int, code: str) -> Json:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: Json = response.json()
    assert problem["code"] == code
    return problem


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    with running_server(tmp_path_factory.mktemp("chat")) as server:
        tenants = Tenants(server.database_url)
        owner = tenants.caller(scopes=load_contract().scopes, tier=Tier.enterprise)
        stranger = tenants.caller(scopes=load_contract().scopes, tier=Tier.enterprise)

        def project(caller: Caller, name: str) -> str:
            response = rest(server, "POST", "/projects", caller.key, json={"name": name})
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        project_a, project_b = project(owner, "Tower A"), project(owner, "Tower B")
        stranger_project = project(stranger, "Their tower")
        yield Vault(
            server,
            owner,
            project_a,
            project_b,
            plant(server, owner, project_a, "Submittal 101 - gaskets", ["Submittal 101", GASKET_SENTENCE]),
            plant(server, owner, project_a, "Submittal 102 - brackets", BRACKET_SENTENCES),
            plant(server, owner, project_b, "Submittal 201 - mortar", [MORTAR_SENTENCE]),
            stranger,
            stranger_project,
            plant(server, stranger, stranger_project, "Submittal 301 - hinges", [HINGE_SENTENCE]),
        )


# ---- the stream ----------------------------------------------------------------------------------------------------


def test_the_stream_sends_progress_deltas_citations_then_done(vault: Vault) -> None:
    streamed = stream(vault, {"question": BRACKET_QUESTION})

    names = [name for name, _data in streamed.events]
    assert re.fullmatch(r"(progress,){2}(delta,)+(citation,)+done", ",".join(names)), names
    assert [p["stage"] for p in streamed.named("progress")] == ["retrieving", "answering"]
    assert streamed.named("progress")[1]["passages"] >= 1
    done = streamed.named("done")[0]
    assert done["answered"] is True
    assert done["citations"] == len(streamed.named("citation")) > 1
    assert {c["document_id"] for c in streamed.named("citation")} == {vault.brackets}


def test_the_streamed_answer_is_the_asked_answer(vault: Vault) -> None:
    body = {"question": BRACKET_QUESTION}

    streamed = stream(vault, body)
    asked = ask(vault, body)

    assert streamed.answer == asked["answer"]
    assert streamed.named("citation") == asked["citations"]
    done = streamed.named("done")[0]
    assert (done["answered"], done["answerer"], done["fallback"]) == (
        asked["answered"],
        asked["answerer"],
        asked["fallback"],
    )


def test_the_stream_is_marked_unbuffered_uncached_and_traced(vault: Vault) -> None:
    headers = stream(vault, {"question": GASKET_QUESTION}).response.headers

    assert headers["content-type"].startswith("text/event-stream")
    assert headers["x-accel-buffering"] == "no"
    assert headers["cache-control"] == "no-store"
    assert REQUEST_ID.match(headers["x-request-id"])


def test_max_citations_caps_the_sources_and_their_numbers(vault: Vault) -> None:
    everything = ask(vault, {"question": BRACKET_QUESTION})
    capped = ask(vault, {"question": BRACKET_QUESTION, "max_citations": 2})
    streamed = stream(vault, {"question": BRACKET_QUESTION, "max_citations": 2})

    assert len(everything["citations"]) == len(BRACKET_SENTENCES)
    assert capped["citations"] == everything["citations"][:2]
    assert re.findall(r"\[(\d+)\]", capped["answer"]) == ["1", "2"]
    assert len(streamed.named("citation")) == streamed.named("done")[0]["citations"] == 2


@pytest.mark.parametrize("question", ["0", "?!", "a b", "…"])
def test_a_question_without_words_to_look_for_is_not_answered(vault: Vault, question: str) -> None:
    asked = ask(vault, {"question": question})
    streamed = stream(vault, {"question": question})

    assert (asked["answered"], asked["citations"]) == (False, [])
    assert streamed.named("done") == [{"answered": False, "citations": 0, "answerer": "extractive", "fallback": False}]
    assert streamed.answer == asked["answer"]


# ---- scope: projects, documents, organizations --------------------------------------------------------------------


def test_an_answer_is_quoted_word_for_word_and_cited(vault: Vault) -> None:
    answer = ask(vault, {"question": GASKET_QUESTION})

    assert answer["answered"] is True
    assert answer["answer"] == f"{GASKET_SENTENCE} [1]"
    assert answer["citations"] == [
        {
            "document_id": vault.gaskets,
            "title": "Submittal 101 - gaskets",
            "location": {"type": "paragraph", "number": 2},
            "snippet": GASKET_SENTENCE,
        }
    ]


def test_a_project_filter_narrows_the_sources(vault: Vault) -> None:
    in_its_project = ask(vault, {"question": GASKET_QUESTION, "project_id": vault.project_a})
    elsewhere = ask(vault, {"question": GASKET_QUESTION, "project_id": vault.project_b})
    streamed_elsewhere = stream(vault, {"question": GASKET_QUESTION, "project_id": vault.project_b})
    mortar_in_b = ask(vault, {"question": MORTAR_QUESTION, "project_id": vault.project_b})

    assert (in_its_project["answered"], cited(in_its_project)) == (True, {vault.gaskets})
    assert (elsewhere["answered"], elsewhere["citations"]) == (False, [])
    assert streamed_elsewhere.named("citation") == []
    assert streamed_elsewhere.named("done")[0]["answered"] is False
    assert streamed_elsewhere.answer == elsewhere["answer"]
    assert (mortar_in_b["answered"], cited(mortar_in_b)) == (True, {vault.mortar})


def test_document_ids_narrow_the_sources(vault: Vault) -> None:
    its_document = ask(vault, {"question": GASKET_QUESTION, "document_ids": [vault.gaskets, vault.mortar]})
    other_documents = ask(vault, {"question": GASKET_QUESTION, "document_ids": [vault.brackets, vault.mortar]})

    assert (its_document["answered"], cited(its_document)) == (True, {vault.gaskets})
    assert (other_documents["answered"], other_documents["citations"]) == (False, [])


def test_another_organizations_documents_never_appear(vault: Vault) -> None:
    theirs = ask(vault, {"question": HINGE_QUESTION}, key=vault.stranger.key)
    ours = ask(vault, {"question": HINGE_QUESTION})
    streamed = stream(vault, {"question": HINGE_QUESTION})

    assert (theirs["answered"], cited(theirs)) == (True, {vault.hinge})
    assert (ours["answered"], ours["citations"]) == (False, [])
    assert "plumbrook" not in ours["answer"]
    assert streamed.named("citation") == []
    assert "plumbrook" not in streamed.response.text


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.parametrize("scope", ["their project", "their document", "no such project", "one of the documents"])
def test_a_foreign_project_or_document_is_a_404_problem_not_a_stream(vault: Vault, path: str, scope: str) -> None:
    bodies: dict[str, Json] = {
        "their project": {"question": HINGE_QUESTION, "project_id": vault.stranger_project},
        "their document": {"question": HINGE_QUESTION, "document_ids": [vault.hinge]},
        "no such project": {"question": HINGE_QUESTION, "project_id": NO_SUCH_ID},
        "one of the documents": {"question": HINGE_QUESTION, "document_ids": [vault.gaskets, vault.hinge]},
    }

    response = rest(vault.server, "POST", path, vault.owner.key, json=bodies[scope])

    problem = assert_problem(response, 404, "not_found")
    assert problem["instance"] == f"/api/v2{path}"
    assert REQUEST_ID.match(response.headers["x-request-id"])


# ---- refusals before the stream starts ----------------------------------------------------------------------------


INVALID = {
    "an empty question": ({"question": ""}, "/question"),
    "2,001 characters": ({"question": "a" * 2001}, "/question"),
    "101 document ids": ({"question": "q", "document_ids": [str(uuid.uuid4()) for _ in range(101)]}, "/document_ids"),
    "max_citations 0": ({"question": "q", "max_citations": 0}, "/max_citations"),
    "max_citations 21": ({"question": "q", "max_citations": 21}, "/max_citations"),
    "an unknown field": ({"question": "q", "colour": "red"}, "/colour"),
}


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.parametrize("case", list(INVALID))
def test_an_invalid_question_is_a_400_problem(vault: Vault, path: str, case: str) -> None:
    body, pointer = INVALID[case]

    response = rest(vault.server, "POST", path, vault.owner.key, json=body)

    problem = assert_problem(response, 400, "validation_error")
    assert [error["pointer"] for error in problem["errors"]] == [pointer]


@pytest.mark.parametrize("path", OPERATIONS)
def test_no_key_is_a_401_and_a_key_without_chat_read_a_403(vault: Vault, path: str) -> None:
    narrow = Tenants(vault.server.database_url).caller(scopes=["meta:read", "vault:read"])

    anonymous = rest(vault.server, "POST", path, None, json={"question": GASKET_QUESTION})
    unscoped = rest(vault.server, "POST", path, narrow.key, json={"question": GASKET_QUESTION})

    assert_problem(anonymous, 401, "unauthorized")
    assert "chat:read" in assert_problem(unscoped, 403, "insufficient_scope")["detail"]


def test_an_empty_bucket_is_a_429_problem_for_both_not_an_event(vault: Vault) -> None:
    # Free tier: 60 tokens, one back a second; each question draws 5, so about a dozen quick streams empty it.
    caller = Tenants(vault.server.database_url).caller(scopes=["chat:read"], tier=Tier.free)
    cost = load_contract().operation("chat.stream").cost
    answered = 0
    for _ in range(60 // cost + 10):
        streamed = stream(vault, {"question": GASKET_QUESTION}, key=caller.key)
        if streamed.response.status_code == 429:
            break
        assert streamed.named("done"), streamed.response.text
        answered += 1
    asked = rest(vault.server, "POST", ASK, caller.key, json={"question": GASKET_QUESTION})

    assert answered >= 60 // cost
    for refused in (streamed.response, asked):
        assert_problem(refused, 429, "rate_limited")
        assert int(refused.headers["retry-after"]) >= 1
        assert "event:" not in refused.text


# ---- idempotency --------------------------------------------------------------------------------------------------


def test_an_asked_answer_with_an_idempotency_key_is_replayed_byte_for_byte(vault: Vault) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"question": GASKET_QUESTION}

    first = rest(vault.server, "POST", ASK, vault.owner.key, json=body, headers=headers)
    second = rest(vault.server, "POST", ASK, vault.owner.key, json=body, headers=headers)
    other_body = rest(vault.server, "POST", ASK, vault.owner.key, json={"question": "x"}, headers=headers)

    assert first.status_code == second.status_code == 200
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert first.json()["answered"] is True
    assert_problem(other_body, 422, "idempotency_key_reused")


def test_a_streamed_answer_is_never_kept_for_its_idempotency_key(vault: Vault) -> None:
    key = str(uuid.uuid4())

    first = stream(vault, {"question": GASKET_QUESTION}, **{"Idempotency-Key": key})
    second = stream(vault, {"question": GASKET_QUESTION}, **{"Idempotency-Key": key})
    # Kept, the key would now refuse another body (422); never kept, it answers again.
    other_body = stream(vault, {"question": BRACKET_QUESTION}, **{"Idempotency-Key": key})

    for streamed in (first, second, other_body):
        assert streamed.response.status_code == 200, streamed.response.text
        assert "idempotent-replayed" not in streamed.response.headers
        assert streamed.named("done")[0]["answered"] is True
    assert first.named("citation") == second.named("citation")
    assert cited({"citations": other_body.named("citation")}) == {vault.brackets}
    assert first.response.headers["x-request-id"] != second.response.headers["x-request-id"]


# ---- OAuth --------------------------------------------------------------------------------------------------------


def oauth_token(vault: Vault, caller: Caller) -> str:
    """An access token for the server's `/api/v2`, with every read scope, minted with the server's own keys."""
    port = urlsplit(vault.server.url).port
    assert port is not None
    settings = Settings(database_url=vault.server.database_url, port=port)
    server = OAuthServer(settings, load_contract(), settings.instance_key())
    read_scopes = [scope for scope in load_contract().scopes if scope.endswith(":read")]
    with session_scope(settings.database_url) as session:
        user = session.get_one(User, caller.user_id)
        grant = grants.create_grant(
            session, user=user, mode=Mode.test, client_id="chat-app", client_name="Chat app", scopes=read_scopes
        )
        grant_id = grant.id
    token, _claims = server.tokens.issue(
        user_id=caller.user_id,
        audience=server.resources.api,
        client_id="chat-app",
        scopes=read_scopes,
        grant_id=grant_id,
    )
    return token


def test_an_oauth_token_may_ask_and_stream_though_both_are_posts(vault: Vault) -> None:
    token = oauth_token(vault, vault.owner)

    asked = ask(vault, {"question": GASKET_QUESTION}, key=token)
    streamed = stream(vault, {"question": GASKET_QUESTION}, key=token)
    writing = rest(vault.server, "POST", "/projects", token, json={"name": "Not by a token"})

    assert (asked["answered"], cited(asked)) == (True, {vault.gaskets})
    assert streamed.answer == asked["answer"]
    assert_problem(writing, 403, "oauth_read_only")


# ---- MCP ----------------------------------------------------------------------------------------------------------


def mcp_session(url: str, key: str | None, tool: str | None = None, arguments: Json | None = None) -> Any:
    """`tools/list`, then the tool call if one is named; answers the call's result or the listed tool names."""

    async def main() -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http), mode="auto") as client,
        ):
            names = {listed.name for listed in (await client.list_tools()).tools}
            return names if tool is None else await client.call_tool(tool, arguments or {})

    return anyio.run(main)


def test_mcp_lists_chat_ask_not_chat_stream_and_it_answers_as_rest_does(vault: Vault) -> None:
    url = f"{vault.server.url}/mcp"

    names = mcp_session(url, vault.owner.key)
    result = mcp_session(url, vault.owner.key, "chat_ask", {"question": GASKET_QUESTION})

    assert "chat_ask" in names
    assert "chat_stream" not in names
    assert not result.is_error, result.structured_content
    assert result.structured_content == ask(vault, {"question": GASKET_QUESTION})


def test_a_managed_mcp_server_answers_only_from_its_projects(vault: Vault) -> None:
    restrictions = {"projects": {"mode": "allowlist", "ids": [vault.project_a]}}
    created = rest(
        vault.server, "POST", "/mcp-servers", vault.owner.key, json={"name": "A only", "restrictions": restrictions}
    )
    assert created.status_code == 201, created.text
    url = created.json()["access_url"]

    inside = mcp_session(url, None, "chat_ask", {"question": GASKET_QUESTION})
    outside = mcp_session(url, None, "chat_ask", {"question": MORTAR_QUESTION})
    named_outside = mcp_session(url, None, "chat_ask", {"question": MORTAR_QUESTION, "project_id": vault.project_b})

    assert (inside.structured_content["answered"], cited(inside.structured_content)) == (True, {vault.gaskets})
    assert (outside.structured_content["answered"], outside.structured_content["citations"]) == (False, [])
    assert named_outside.is_error
    assert named_outside.structured_content["code"] == "not_found"
    # The same key outside the server still reaches project B.
    assert ask(vault, {"question": MORTAR_QUESTION})["answered"] is True


# ---- meta -----------------------------------------------------------------------------------------------------------


def test_capabilities_list_both_operations_with_their_scope_cost_and_mcp_exposure(vault: Vault) -> None:
    listed = rest(vault.server, "GET", "/meta/capabilities", vault.owner.key).json()["data"]
    chat = {
        c["name"]: (c["method"], c["path"], c["scope"], c["cost"], c["mcp"])
        for c in listed
        if c["name"].startswith("chat.")
    }

    assert chat == {
        "chat.ask": ("POST", "/api/v2/chat/ask", "chat:read", 5, True),
        "chat.stream": ("POST", "/api/v2/chat/stream", "chat:read", 5, False),
    }
