#!/usr/bin/env bash
# make spec-check: lint the contracts, then check that openapi/openapi.yaml keeps every promise of the
# last release (openapi/RELEASES.md).
#
#   scripts/spec-check.sh [RELEASED [CURRENT]]
#
# RELEASED defaults to openapi/released/v2.0.0.yaml, CURRENT to openapi/openapi.yaml; they choose what
# the breaking-change check compares. The lint always reads the contracts redocly.yaml names, as its
# reviewed ignore file (.redocly.lint-ignore.yaml) is keyed by their paths. Both steps always run, so
# one run shows every problem; the exit status is non-zero if either failed. SPEC_LINT names another
# lint command (the tests stand in `true` or `false` for the Node tools).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
released="${1:-openapi/released/v2.0.0.yaml}"
current="${2:-openapi/openapi.yaml}"
lint="${SPEC_LINT:-scripts/spec-lint.sh}"
python="${PYTHON:-.venv/bin/python}"

status=0
echo "== lint ($lint)"
$lint || status=1
echo "== breaking changes against $released"
"$python" -m tests.contract.breaking_changes "$released" "$current" || status=1
exit "$status"
