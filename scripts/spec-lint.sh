#!/usr/bin/env bash
# Lint the contracts (openapi/openapi.yaml and openapi/oauth.yaml) with the Redocly CLI that
# scripts/node/package-lock.json pins, under redocly.yaml (recommended rules plus ours, scripts/redocly/) and
# .redocly.lint-ignore.yaml. Exits non-zero on any error or warning (Redocly alone lets warnings pass).
#
# Offline once the tools are installed: no telemetry, no update check, and the specs reference nothing remote.
# Extra arguments go to `redocly lint` (e.g. `--format=stylish`); with `--config <file>` and an API root it
# lints another copy, as the rule tests do.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="$(scripts/node-tools.sh)"
if [ ! -x "$bin/redocly" ]; then
    echo "spec-lint: no redocly in $bin (scripts/node/package.json pins @redocly/cli)" >&2
    exit 1
fi

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
output="$(mktemp)"
summary="$(mktemp)"
trap 'rm -f "$output" "$summary"' EXIT
# The pinned Node 22 first: Redocly CLI runs on the machine's Node too, but then warns that it is old.
status=0
PATH="$bin:$PATH" redocly lint --max-problems 1000 "$@" 2>"$summary" | tee "$output" || status=$?
# The summary stays on stderr, so that `--format=json` leaves stdout parseable.
cat "$summary" >&2
cat "$summary" >>"$output"
if [ "$status" -ne 0 ]; then
    exit "$status"
fi
# Redocly exits 0 on warnings; ours is a zero-warning lint. Its summary line ("You have N warnings.", or the
# JSON format's totals) is the only place that says so.
if grep -Eq '^You have [0-9]+ warnings?\.|"warnings": [1-9]' "$output"; then
    echo "spec-lint: warnings fail the lint too (fix them, or add a reviewed entry to .redocly.lint-ignore.yaml)" >&2
    exit 1
fi
