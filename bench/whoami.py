"""meta.whoami through the whole gateway against a bare Starlette route doing the same key lookup."""

from __future__ import annotations

from bench.harness import ROUNDS, report, seeded_database, server, wrk

BASELINE = "bare Starlette + the same key lookup"


def run() -> None:
    with seeded_database() as (database_url, keys):
        # The baseline has no rate limiter; `python -m bench guarantees` prices it separately.
        env = {
            "VAULTGATE_DATABASE_URL": database_url,
            "VAULTGATE_LOG_LEVEL": "warning",
            "VAULTGATE_RATE_LIMITS_ENABLED": "false",
        }
        apps = {BASELINE: ("bench.bare_app:app", False), "Vaultgate meta.whoami": ("gateway.app:create_app", True)}
        results: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(ROUNDS):
            for name, (app, factory) in apps.items():
                with server(app, env, factory) as url:
                    results[name].append(
                        wrk(f"{url}/api/v2/meta/whoami", headers={"Authorization": f"Bearer {keys[0]}"})
                    )
    report("Issue 2: meta.whoami (rate limits off) vs a bare Starlette handler", results, BASELINE)
