#!/usr/bin/env bash
# Everything CI checks: lint, types, and the whole pytest suite (SQLite and
# PostgreSQL, the live-server contract run, headless Chromium on /docs, LibreOffice
# reading a filled template).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-chromium.sh
scripts/install-libreoffice.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
