# The two commands a newcomer needs: `make serve` and `make test`.
VENV    := .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)
SCALAR  := gateway/static/scalar/standalone.js

.PHONY: serve test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

$(SCALAR): scripts/fetch-scalar.sh
	scripts/fetch-scalar.sh

serve: $(STAMP) $(SCALAR)
	$(VENV)/bin/vaultgate serve --demo

test: $(STAMP) $(SCALAR)
	scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PYTHON) -m bench

# The current contract against the last release: exits 1 on a breaking change (openapi/RELEASES.md).
.PHONY: compat
compat: $(STAMP)
	$(PYTHON) -m tests.contract.breaking_changes openapi/released/v2.0.0.yaml openapi/openapi.yaml

# Lint both contracts (Redocly CLI pinned in scripts/node/package-lock.json, rules in redocly.yaml).
.PHONY: spec-lint spec-check changelog sdk wheel
spec-lint:
	scripts/spec-lint.sh

# The contract's lint, then the breaking-change check against the last release; non-zero on either
# (openapi/RELEASES.md).
spec-check: $(STAMP)
	scripts/spec-check.sh

# Rewrite the CHANGELOG's operation lists (between its markers) from the spec diff.
changelog: $(STAMP)
	$(PYTHON) -m tests.contract.changelog_operations --write CHANGELOG.md

# The Python client generated from the contract (sdk/python/vaultgate_client); commit what it changes.
sdk: $(STAMP)
	scripts/sdk.sh

# A wheel that serves the contract, /docs and the demo with no checkout (README: Installing from a wheel).
# From a clean build directory: setuptools reuses build/lib, where a module deleted since would still ship.
wheel: $(STAMP) $(SCALAR)
	rm -rf build
	$(PYTHON) -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .

clean:
	rm -rf $(VENV) var gateway/static/scalar build dist
