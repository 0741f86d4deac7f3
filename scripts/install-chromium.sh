#!/usr/bin/env bash
# Install Debian's chromium (used by the headless /docs test) if it is missing.
# Idempotent and quiet: prints one line when it installs, nothing when already
# present, and the apt output only if something fails. Needs root (apt-get).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-chromium: apt-get failed" >&2
    exit 1
fi
echo "install-chromium: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
