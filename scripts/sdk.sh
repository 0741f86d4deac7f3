#!/usr/bin/env bash
# Generates the Python client package from the contract (`make sdk`): sdk/python/vaultgate_client/, or the
# directory given as the first argument (the drift test's). Uses the pinned openapi-python-client and ruff
# from .venv, so the output is byte for byte what tests/test_sdk.py regenerates.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
output=${1:-sdk/python/vaultgate_client}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# openapi-python-client 0.29.1 merges `allOf` in place: the first `XPage: allOf [Page, {data: [X]}]` it reads
# narrows the shared `Page.data` to X's list, and every other page then parses its items as X. Each page is
# flattened into a plain object first (same wire format), until the generator stops mutating shared properties.
"$root/.venv/bin/python" - openapi/openapi.yaml "$work/openapi.json" <<'PY'
import json
import sys

import yaml

spec = yaml.load(open(sys.argv[1], encoding="utf-8"), Loader=yaml.CSafeLoader)
schemas = spec["components"]["schemas"]
page = schemas["Page"]
for schema in schemas.values():
    parts = schema.get("allOf", [])
    if len(parts) == 2 and parts[0] == {"$ref": "#/components/schemas/Page"}:
        schema.pop("allOf")
        schema.update(type="object", required=list(page["required"]))
        schema["properties"] = {**page["properties"], **parts[1]["properties"]}
json.dump(spec, open(sys.argv[2], "w", encoding="utf-8"), indent=1, default=str)
PY

(
  cd "$work"
  PATH="$root/.venv/bin:$PATH" openapi-python-client generate --meta none --overwrite \
    --path openapi.json --config "$root/sdk/openapi-python-client.yaml" --output-path generated >/dev/null
)
rm -rf "$output"
mkdir -p "$(dirname "$output")"
mv "$work/generated" "$output"
# PEP 561: the generated code is fully annotated, so type checkers of applications read it.
touch "$output/py.typed"
