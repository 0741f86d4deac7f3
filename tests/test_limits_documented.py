"""Every limit the code enforces is the one the spec's prose states.

A limit JSON Schema can express (`maxItems`, `maxLength`, `maximum`) is a
keyword of the spec, enforced by request validation and written nowhere in
code. The rest are written once, in the module that enforces them, and the
spec says them in words ("at most 32 KiB", "valid for one hour"): each case
below reads the value the spec states at a location and compares it with the
code's.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from core.settings import Settings
from fills.intake import MAX_DOCUMENT_IDS
from gateway.contract import load_contract
from gateway.signed_urls import DOWNLOAD_TTL_SECONDS
from gateway.validation import METADATA_MAX_BYTES, METADATA_MAX_DEPTH
from storage.api_keys import LAST_USED_RESOLUTION, PREFIX_LENGTH
from storage.idempotency import RETENTION
from storage.template_fills import MAX_SCOPE_DOCUMENTS
from tests.conftest import ROOT
from vault.docx_safety import TEMPLATE_LIMITS
from workflows.inputs import DEFAULT_MAX_ITEMS

CONTRACT = load_contract()
DEFINITION_SCHEMA = json.loads((ROOT / "workflows" / "definition.schema.json").read_text())
DEFAULTS = Settings.model_fields

UNITS = {
    None: 1,
    "bytes": 1,
    "KiB": 1024,
    "MiB": 1024 * 1024,
    "MB": 1000 * 1000,
    "second": 1,
    "minute": 60,
    "hour": 3600,
}
WORDS = {"a": 1, "an": 1, "one": 1}


def _pointer(document: Any, pointer: str) -> Any:
    node = document
    for part in pointer.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _text(location: str) -> str:
    """The prose at `location`: a JSON Pointer into the spec, `tag <name>`, an operationId, or the workflow
    definition schema's `definition#/<pointer>`."""
    if location.startswith("#/"):
        text = _pointer(CONTRACT.document, location)
    elif location.startswith("definition#/"):
        text = _pointer(DEFINITION_SCHEMA, location.removeprefix("definition"))
    elif location.startswith("tag "):
        text = next(tag for tag in CONTRACT.document["tags"] if tag["name"] == location[4:])["description"]
    else:
        text = CONTRACT.document_operation(location)["description"]
    return " ".join(str(text).split())


def _stated(match: re.Match[str]) -> float:
    number = match["n"]
    count = WORDS[number] if number in WORDS else float(number.replace(",", ""))
    unit = match.groupdict().get("unit")
    return count * UNITS[unit]


def _limit(name: str, enforced: float, location: str, statement: str) -> Any:
    return pytest.param(enforced, location, statement, id=f"{name} @ {location}")


UPLOAD_FILE = "#/components/schemas/DocumentUpload/properties/file/description"
METADATA = "#/components/schemas/DocumentUpload/properties/metadata/description"
TEMPLATE_FILE = "#/components/schemas/TemplateFillUpload/properties/file/description"
PAYLOAD_TOO_LARGE = "#/components/responses/payload_too_large"
TEMPLATE_UPLOAD_BYTES = DEFAULTS["upload_limits"].default["templates.start_fill"]

LIMITS = [
    _limit(
        "template document ids",
        MAX_DOCUMENT_IDS,
        "#/components/schemas/TemplateFillUpload/properties/document_ids/description",
        r"up to (?P<n>\d+) comma-separated",
    ),
    _limit("metadata size", METADATA_MAX_BYTES, METADATA, r"at most (?P<n>\d+) (?P<unit>KiB) serialized"),
    _limit("metadata depth", METADATA_MAX_DEPTH, METADATA, r"nested at most (?P<n>\d+) deep"),
    _limit(
        "download link", DOWNLOAD_TTL_SECONDS, "vault.download_document", r"valid for (?P<n>one|\d+) (?P<unit>hour)"
    ),
    _limit(
        "download link", DOWNLOAD_TTL_SECONDS, "templates.get_fill_status", r"valid for (?P<n>one|\d+) (?P<unit>hour)"
    ),
    _limit(
        "download link",
        DOWNLOAD_TTL_SECONDS,
        "#/components/schemas/TemplateFill/properties/filled_download_url/description",
        r"valid for (?P<n>one|\d+) (?P<unit>hour)",
    ),
    _limit(
        "documents per fill",
        MAX_SCOPE_DOCUMENTS,
        "#/components/schemas/TemplateFill/properties/error_code/description",
        r"`scope_too_large` \(over (?P<n>\d+) documents\)",
    ),
    _limit(
        "idempotent replays",
        RETENTION.total_seconds(),
        "#/components/parameters/idempotency_key/description",
        r"kept for (?P<n>\d+) (?P<unit>hour)s",
    ),
    _limit(
        "idempotent replays",
        RETENTION.total_seconds(),
        "api_keys.create",
        r"kept encrypted for (?P<n>\d+) (?P<unit>hour)s",
    ),
    _limit(
        "JSON body cap",
        DEFAULTS["max_json_body_bytes"].default,
        f"{PAYLOAD_TOO_LARGE}/description",
        r"JSON (?P<n>\d+) (?P<unit>KiB)",
    ),
    _limit(
        "JSON body cap",
        DEFAULTS["max_json_body_bytes"].default,
        f"{PAYLOAD_TOO_LARGE}/content/application~1problem+json/example/detail",
        r"limit of (?P<n>\d+) (?P<unit>bytes)",
    ),
    _limit(
        "upload cap",
        DEFAULTS["max_upload_bytes"].default,
        "vault.upload_document",
        r"Files over (?P<n>\d+) (?P<unit>MiB)",
    ),
    _limit("upload cap", DEFAULTS["max_upload_bytes"].default, UPLOAD_FILE, r"at most (?P<n>\d+) (?P<unit>MiB)"),
    _limit(
        "template upload cap", TEMPLATE_UPLOAD_BYTES, "templates.start_fill", r"Templates over (?P<n>\d+) (?P<unit>MiB)"
    ),
    _limit("template upload cap", TEMPLATE_UPLOAD_BYTES, TEMPLATE_FILE, r"at most (?P<n>\d+) (?P<unit>MiB)"),
    _limit(
        "template body",
        TEMPLATE_LIMITS.max_xml_part_bytes,
        "templates.start_fill",
        r"a body over (?P<n>\d+) (?P<unit>MB)",
    ),
    _limit(
        "template body",
        TEMPLATE_LIMITS.max_xml_part_bytes,
        TEMPLATE_FILE,
        r"document body at most (?P<n>\d+) (?P<unit>MB)",
    ),
    _limit("key prefix", PREFIX_LENGTH, "tag api_keys", r"(?P<n>\d+)-character prefix"),
    _limit(
        "key prefix",
        PREFIX_LENGTH,
        "#/components/schemas/ApiKey/properties/prefix/description",
        r"first (?P<n>\d+) characters",
    ),
    _limit(
        "last use resolution",
        LAST_USED_RESOLUTION.total_seconds(),
        "#/components/schemas/ApiKey/properties/last_used_at/description",
        r"at most once (?P<n>a|\d+) (?P<unit>minute|second)",
    ),
    _limit(
        "revocation elsewhere",
        DEFAULTS["credential_cache_seconds"].default,
        "api_keys.revoke",
        r"within (?P<n>a|\d+) (?P<unit>second)s? on every other",
    ),
    _limit(
        "document ids input",
        DEFAULT_MAX_ITEMS,
        "definition#/$defs/input/properties/max_items/description",
        r"\(default (?P<n>\d+)\)",
    ),
]


@pytest.mark.parametrize(("enforced", "location", "statement"), LIMITS)
def test_the_spec_states_each_limit_as_the_code_enforces_it(enforced: float, location: str, statement: str) -> None:
    text = _text(location)
    stated = [_stated(match) for match in re.finditer(statement, text)]
    assert stated, f"{location} no longer says /{statement}/: {text!r}"
    assert stated == [enforced] * len(stated), f"{location} states {stated}; the code enforces {enforced}"


def test_a_document_ids_input_holds_at_most_its_default() -> None:
    # `max_items` only narrows the default: the schema's maximum is the same number.
    assert DEFINITION_SCHEMA["$defs"]["input"]["properties"]["max_items"]["maximum"] == DEFAULT_MAX_ITEMS
