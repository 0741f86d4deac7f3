#!/usr/bin/env bash
# Fetch the Scalar API reference standalone bundle (served at /docs) into
# gateway/static/scalar/, so the docs page works with no internet access.
# Idempotent: does nothing if the pinned version is already in place.
set -euo pipefail

SCALAR_VERSION="1.72.1"
# sha256 of package/dist/browser/standalone.js in @scalar/api-reference@1.72.1
SCALAR_SHA256="bf091006bdc3af6067af77c2f534812e3e633e94a94e87138069f570f33b762c"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
dest="gateway/static/scalar"

if [ -f "$dest/standalone.js" ] && [ -f "$dest/VERSION" ] \
    && [ "$(cat "$dest/VERSION")" = "$SCALAR_VERSION" ]; then
    exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if ! (cd "$tmp" && npm pack --loglevel=error "@scalar/api-reference@${SCALAR_VERSION}") \
    >"$tmp/npm.log" 2>&1; then
    cat "$tmp/npm.log" >&2
    echo "fetch-scalar: npm pack @scalar/api-reference@${SCALAR_VERSION} failed" >&2
    exit 1
fi
tar -xzf "$tmp"/scalar-api-reference-*.tgz -C "$tmp" package/dist/browser/standalone.js

actual="$(sha256sum "$tmp/package/dist/browser/standalone.js" | cut -d' ' -f1)"
if [ "$actual" != "$SCALAR_SHA256" ]; then
    echo "fetch-scalar: checksum mismatch for standalone.js" \
        "(expected $SCALAR_SHA256, got $actual)" >&2
    exit 1
fi

mkdir -p "$dest"
# Write to temp names and rename, so an interrupted run never leaves a
# half-written bundle next to a VERSION file that claims it is complete.
cp "$tmp/package/dist/browser/standalone.js" "$dest/standalone.js.tmp"
mv "$dest/standalone.js.tmp" "$dest/standalone.js"
echo "$SCALAR_VERSION" >"$dest/VERSION.tmp"
mv "$dest/VERSION.tmp" "$dest/VERSION"
echo "fetch-scalar: installed @scalar/api-reference@${SCALAR_VERSION} into $dest"
