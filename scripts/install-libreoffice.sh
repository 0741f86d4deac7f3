#!/usr/bin/env bash
# Install Debian's LibreOffice Writer (headless; the template tests convert a filled DOCX to PDF) if missing.
# Idempotent and quiet: prints one line when it installs, nothing when already
# present, and the apt output only if something fails. Needs root (apt-get).
set -euo pipefail

if command -v libreoffice >/dev/null 2>&1; then
    exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-libreoffice: apt-get failed" >&2
    exit 1
fi
echo "install-libreoffice: installed $(libreoffice --version 2>/dev/null || echo libreoffice)"
