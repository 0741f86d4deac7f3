"""The CHANGELOG's operation lists come from the spec diff: what counts as added, changed, deprecated, removed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.contract import SAFE_LOADER
from tests.conftest import ROOT
from tests.contract.changelog_operations import (
    BEGIN_MARKER,
    END_MARKER,
    main,
    operation_changes,
    render,
)

Spec = dict[str, Any]

with (ROOT / "openapi" / "released" / "v2.0.0.yaml").open(encoding="utf-8") as handle:
    RELEASED: Spec = yaml.load(handle, Loader=SAFE_LOADER)


@pytest.fixture
def released() -> Spec:
    return copy.deepcopy(RELEASED)


def _lines(released: Spec, current: Spec) -> str:
    return render(operation_changes(released, current))


def test_the_same_contract_lists_nothing(released: Spec) -> None:
    assert _lines(released, copy.deepcopy(released)) == "No operation added, changed, deprecated or removed."


def test_a_new_operation_is_added(released: Spec) -> None:
    current = copy.deepcopy(released)
    current["paths"]["/projects/{project_id}"]["delete"] = {
        **copy.deepcopy(current["paths"]["/projects/{project_id}"]["get"]),
        "operationId": "vault.delete_project",
    }

    assert _lines(released, current) == "### Added\n- `vault.delete_project` DELETE /api/v2/projects/{project_id}"


def test_documentation_alone_changes_no_operation(released: Spec) -> None:
    current = copy.deepcopy(released)
    search = current["paths"]["/vault/search"]["get"]
    search["description"] = "Search, described anew."
    search["summary"] = "Search anew"
    current["components"]["schemas"]["Project"]["properties"]["name"]["description"] = "What people call it."
    current["components"]["responses"]["not_found"]["content"]["application/problem+json"]["example"]["detail"] = "?"

    assert operation_changes(released, current).changed == []


def test_a_shared_schema_change_lists_every_operation_using_it(released: Spec) -> None:
    current = copy.deepcopy(released)
    current["components"]["schemas"]["Project"]["properties"]["color"] = {"type": "string"}

    assert _lines(released, current) == "\n".join(
        [
            "### Changed",
            "- `vault.list_projects` GET /api/v2/projects: response 200",
            "- `vault.create_project` POST /api/v2/projects: response 201",
            "- `vault.get_project` GET /api/v2/projects/{project_id}: response 200",
        ]
    )


def test_the_changed_parts_are_named(released: Spec) -> None:
    current = copy.deepcopy(released)
    search = current["paths"]["/vault/search"]["get"]
    search["x-cost"] = 20
    search["parameters"].append({"name": "lang", "in": "query", "schema": {"type": "string"}})

    assert operation_changes(released, current).changed[0].line() == (
        "- `vault.search` GET /api/v2/vault/search: x-cost, parameters"
    )


def test_error_codes_listed_for_the_first_time_are_no_change_but_a_changed_list_is(released: Spec) -> None:
    with_codes = copy.deepcopy(released)
    with_codes["paths"]["/health"]["get"]["x-error-codes"] = ["internal_error"]
    assert operation_changes(released, with_codes).changed == []

    more_codes = copy.deepcopy(with_codes)
    more_codes["paths"]["/health"]["get"]["x-error-codes"].append("service_unavailable")

    assert _lines(with_codes, more_codes) == "### Changed\n- `meta.health` GET /api/v2/health: x-error-codes"


def test_a_deprecation_is_listed_with_its_sunset_and_a_removal_as_removed(released: Spec) -> None:
    current = copy.deepcopy(released)
    current["paths"]["/workflows"]["get"].update(
        {"deprecated": True, "x-deprecated-at": "2027-01-01", "x-sunset": "2027-04-01"}
    )
    del current["paths"]["/meta/rate-limit"]

    changes = operation_changes(released, current)

    assert [entry.line() for entry in changes.deprecated] == [
        "- `workflows.list` GET /api/v2/workflows: sunset 2027-04-01"
    ]
    assert [entry.line() for entry in changes.removed] == ["- `meta.rate_limit` GET /api/v2/meta/rate-limit"]


def test_write_fills_the_markers_and_check_then_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(f"# Changelog\n\n## Unreleased\n\n{BEGIN_MARKER}\nstale\n{END_MARKER}\n\nProse.\n")

    assert main(["--check", str(changelog)]) == 1
    assert "differ from the spec diff" in capsys.readouterr().out

    assert main(["--write", str(changelog)]) == 0
    assert main(["--check", str(changelog)]) == 0
    written = changelog.read_text()
    assert "\n### Added\n- `mcp_servers.list` GET /api/v2/mcp-servers\n" in written
    assert "\n- `chat.ask` POST /api/v2/chat/ask\n" in written
    assert written.endswith(f"{END_MARKER}\n\nProse.\n")


def test_the_changelog_lists_what_the_spec_diff_says(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--check", str(ROOT / "CHANGELOG.md")])

    assert status == 0, capsys.readouterr().out
