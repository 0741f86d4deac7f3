#!/usr/bin/env bash
# make spec-check: lint the contract, then check that it keeps every promise of the last release.
#
#   scripts/spec-check.sh [RELEASED [CURRENT]]
#
# RELEASED defaults to openapi/released/v2.0.0.yaml, CURRENT to openapi/openapi.yaml; a CURRENT of
# another path is linted alone (the default lints every contract redocly.yaml names). Both steps
# always run, so one run shows every problem; the exit status is non-zero if either failed.
# SPEC_LINT names another lint command (the tests stand in `true` or `false` for the Node tools).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
released="${1:-openapi/released/v2.0.0.yaml}"
current="${2:-openapi/openapi.yaml}"
lint="${SPEC_LINT:-scripts/spec-lint.sh}"
python="${PYTHON:-.venv/bin/python}"

status=0
lint_arguments=()
if [ "$current" != openapi/openapi.yaml ]; then
    lint_arguments=("$current")
fi
echo "== lint ($lint)"
$lint "${lint_arguments[@]}" || status=1
echo "== breaking changes against $released"
"$python" -m tests.contract.breaking_changes "$released" "$current" || status=1
exit "$status"
