"""The price of the API guarantees: rate limiting on a cheap GET, rate limiting plus idempotency on a POST.

Each pair runs the same operation on the same database, with the guarantee
off and on, in alternating order, in one run.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench.harness import ROUNDS, report, seeded_database, server, wrk

KEYS = 40  # spread calls over many keys so no bucket runs dry mid-run (each holds 6,000 tokens)
BODY = json.dumps({"name": "bench", "scopes": ["meta:read"]})

# One request per call: rotate through the API keys; with IDEMPOTENT, a fresh Idempotency-Key each.
_SCRIPT = """
local keys = {%(keys)s}
local counter = 0
local threads = 0
-- setup() runs in the main state and hands each thread its id as a global;
-- the run nonce keeps the warm-up's keys apart from the measured run's.
function setup(thread) threads = threads + 1; thread:set("thread_id", threads) end
function init(args) nonce = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000)) end
function request()
  counter = counter + 1
  local headers = {["Authorization"] = "Bearer " .. keys[(counter %% #keys) + 1]}
  if "%(method)s" == "POST" then headers["Content-Type"] = "application/json" end
  if %(idempotent)s then headers["Idempotency-Key"] = nonce .. "-" .. thread_id .. "-" .. counter end
  return wrk.format("%(method)s", "%(path)s", headers, %(body)s)
end
"""


def _script(directory: Path, keys: list[str], method: str, path: str, idempotent: bool = False) -> Path:
    script = directory / f"{method}-{idempotent}.lua"
    body = f"'{BODY}'" if method == "POST" else "nil"
    quoted_keys = ", ".join(f'"{key}"' for key in keys)
    script.write_text(
        _SCRIPT
        % {"keys": quoted_keys, "method": method, "path": path, "idempotent": str(idempotent).lower(), "body": body}
    )
    return script


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
        get_script = _script(scripts, keys, "GET", "/api/v2/meta/whoami")
        for _ in range(ROUNDS):
            for name, env in zip(get_results, (off, base), strict=True):
                with server("gateway.app:create_app", env) as url:
                    get_results[name].append(wrk(url, script=get_script))
            for (name, env), idempotent in zip(zip(post_results, (off, base), strict=True), (False, True), strict=True):
                with server("gateway.app:create_app", env) as url:
                    post_results[name].append(
                        wrk(url, script=_script(scripts, keys, "POST", "/api/v2/api-keys", idempotent))
                    )
    report("Issue 3: rate limiting on a cheap GET", get_results, "GET whoami, rate limits off")
    report("Issue 3: rate limiting + idempotency on a POST", post_results, "POST api-keys, both off")
