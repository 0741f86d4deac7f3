"""The price of the API guarantees: rate limiting on a cheap GET, rate limiting plus idempotency on a POST.

Each pair runs the same operation on the same database, with the guarantee
off and on, in alternating order, in one run.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench.harness import ROUNDS, report, seeded_database, server, wrk

KEYS = 40  # POST draws 5 tokens; spread over many keys so no bucket runs dry mid-run
BODY = json.dumps({"name": "bench", "scopes": ["meta:read"]})

# One request per call: rotate through the keys; with IDEMPOTENT, a fresh key per request.
_POST_SCRIPT = """
local keys = {%(keys)s}
local counter = 0
local threads = 0
-- setup() runs in the main state and hands each thread its id as a global;
-- the run nonce keeps the warm-up's keys apart from the measured run's.
function setup(thread) threads = threads + 1; thread:set("thread_id", threads) end
function init(args) nonce = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000)) end
function request()
  counter = counter + 1
  local headers = {["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. keys[(counter %% #keys) + 1]}
  if %(idempotent)s then headers["Idempotency-Key"] = nonce .. "-" .. thread_id .. "-" .. counter end
  return wrk.format("POST", "/api/v2/api-keys", headers, '%(body)s')
end
"""


def _post_script(directory: Path, keys: list[str], idempotent: bool) -> Path:
    path = directory / f"post-{idempotent}.lua"
    path.write_text(
        _POST_SCRIPT
        % {"keys": ", ".join(f'"{key}"' for key in keys), "idempotent": "true" if idempotent else "false", "body": BODY}
    )
    return path


def run() -> None:
    scripts = Path(tempfile.mkdtemp(prefix="vaultgate-bench-lua-"))
    with seeded_database(keys=KEYS) as (database_url, keys):
        base = {"VAULTGATE_DATABASE_URL": database_url, "VAULTGATE_LOG_LEVEL": "warning"}
        off = {**base, "VAULTGATE_RATE_LIMITS_ENABLED": "false"}
        get_results: dict[str, list[float]] = {"GET whoami, rate limits off": [], "GET whoami, rate limits on": []}
        post_results: dict[str, list[float]] = {
            "POST api-keys, both off": [],
            "POST api-keys, rate limits + Idempotency-Key": [],
        }
        auth = {"Authorization": f"Bearer {keys[0]}"}
        for _ in range(ROUNDS):
            for name, env in zip(get_results, (off, base), strict=True):
                with server("gateway.app:create_app", env) as url:
                    get_results[name].append(wrk(f"{url}/api/v2/meta/whoami", headers=auth))
            for (name, env), idempotent in zip(zip(post_results, (off, base), strict=True), (False, True), strict=True):
                with server("gateway.app:create_app", env) as url:
                    post_results[name].append(wrk(url, script=_post_script(scripts, keys, idempotent)))
    report("Issue 3: rate limiting on a cheap GET", get_results, "GET whoami, rate limits off")
    report("Issue 3: rate limiting + idempotency on a POST", post_results, "POST api-keys, both off")
