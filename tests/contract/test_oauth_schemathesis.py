"""The authorization server's contract run: the schemathesis CLI fuzzes its JSON endpoints (openapi/oauth.yaml)
on a live server, with every check.

Its own server: the run registers hundreds of clients, far past what one address may (30 a minute), so the
server it fuzzes allows more; the shared live server keeps the real allowance for the tests that use it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ROOT, running_server

# The consent page (GET/POST /oauth/authorize) answers HTML to a browser; tests/test_oauth_* drive it.
CONFIG = """
seed = 20261203
# One worker, as in the main run: two threads intermittently crash CPython 3.11 inside schemathesis.
workers = 1

[checks]
enabled = true

[generation]
max-examples = 25

# A warning means part of the run proved nothing: fail on it. Except two, each inevitable here: the token
# endpoint rejects most calls (`validation_mismatch`, `low_valid_rate`) because no fuzzed code or refresh
# token is ever one this server issued (tests/test_oauth_* exchange real ones).
[warnings]
fail-on = ["missing_auth", "missing_test_data", "base_url_mismatch", "missing_deserializer",
           "unused_openapi_auth", "unsupported_regex", "method_not_allowed", "constants_extraction",
           "unmatched_filter", "unresolvable_reference", "rate_limited", "dictionary_mismatch", "timeout_units"]

# Rules a schema cannot state refuse some schema-valid metadata with 400: plain http redirect URIs for hosts
# other than loopback, `javascript:`-like schemes, malformed hosts or ports, grant_types without
# authorization_code, scopes that are not read scopes. tests/test_oauth_clients.py covers each.
[[operations]]
include-operation-id = "oauth.register_client"
checks.positive_data_acceptance.expected-statuses = ["2xx", 400]

# A registered confidential client, so calls authenticate and reach the grant logic; the fuzzed codes and
# refresh tokens are still never real ones (400 invalid_grant, invalid_request, invalid_scope, invalid_target).
# 401 invalid_client: the coverage phase tries client_id's boundary values, not this client's id, so in that
# phase the token endpoint answers only 401, which must not fail the run as a missing credential would.
[[operations]]
include-operation-id-regex = '^oauth\\.(token|revoke)$'
parameters = {{ "body.client_id" = "{token_client_id}", "body.client_secret" = "{token_client_secret}" }}
checks.positive_data_acceptance.expected-statuses = ["2xx", 400, 401]
warnings.fail-on = []

# RFC 7592 with the registration's own token: one client read, another deleted. A client is deleted once
# (204); every later call answers 401, as for any token that manages no client, so this operation is bound to
# end up "returning only 401" in a phase: that warning does not fail the run here.
[[operations]]
include-operation-id = "oauth.read_client"
parameters = {{ "path.client_id" = "{read_client_id}" }}
headers = {{ Authorization = "Bearer {read_token}" }}
# A read rotates the registration token (RFC 7592 §3 answers a new one): after the first, this one is a 401.
checks.positive_data_acceptance.expected-statuses = ["2xx", 401]
warnings.fail-on = []

[[operations]]
include-operation-id = "oauth.delete_client"
parameters = {{ "path.client_id" = "{deleted_client_id}" }}
headers = {{ Authorization = "Bearer {deleted_token}" }}
checks.positive_data_acceptance.expected-statuses = ["2xx", 401]
warnings.fail-on = []
"""


def register(url: str, auth_method: str) -> dict[str, str]:
    metadata = {"redirect_uris": ["http://127.0.0.1/callback"], "token_endpoint_auth_method": auth_method}
    response = httpx.post(f"{url}/oauth/register", json=metadata)
    response.raise_for_status()
    return dict(response.json())


def test_authorization_server_conforms_to_its_contract(tmp_path: Path) -> None:
    extra_env = {"VAULTGATE_OAUTH_REGISTRATIONS_PER_MINUTE": "1000000"}
    with running_server(tmp_path, seed_examples=False, extra_env=extra_env) as server:
        confidential, read, deleted = (
            register(server.url, method) for method in ("client_secret_post", "none", "none")
        )
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            CONFIG.format(
                token_client_id=confidential["client_id"],
                token_client_secret=confidential["client_secret"],
                read_client_id=read["client_id"],
                read_token=read["registration_access_token"],
                deleted_client_id=deleted["client_id"],
                deleted_token=deleted["registration_access_token"],
            )
        )
        st = Path(sys.executable).parent / "st"
        result = subprocess.run(
            [
                str(st),
                "--config-file",
                str(config),
                "run",
                str(ROOT / "openapi" / "oauth.yaml"),
                "--url",
                server.url,
                "--exclude-path",
                "/oauth/authorize",
                "--checks",
                "all",
                # No stateful phase: a registration links to nothing the fuzzer could follow without its token.
                "--phases",
                "examples,coverage,fuzzing",
            ],
            env={**os.environ, "NO_COLOR": "1"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )

    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
