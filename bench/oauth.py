"""meta.whoami with an OAuth access token (ES256 signature, audience, grant lookup) against the same with an API key."""

from __future__ import annotations

import os

from bench.harness import ROUNDS, report, seeded_database, server, wrk
from core.settings import Settings
from gateway.contract import load_contract
from gateway.oauth.resources import OAuthServer
from storage import oauth
from storage.database import dispose_engine, session_scope
from storage.models import Mode, User

BASELINE = "Vaultgate meta.whoami, API key"
ISSUER = "http://bench.invalid"


def access_token(database_url: str) -> str:
    """A token for `/api/v2` minted as the gateway would, by the same instance key (the harness shares it)."""
    settings = Settings(database_url=database_url, public_url=ISSUER)
    server = OAuthServer(settings, load_contract(), settings.instance_key())
    with session_scope(database_url) as session:
        user = session.query(User).one()
        grant = oauth.create_grant(
            session, user=user, mode=Mode.test, client_id="bench", client_name="Bench", scopes=server.read_scopes
        )
        grant_id, user_id = grant.id, user.id
    token, _ = server.tokens.issue(
        user_id=user_id, audience=server.resources.api, client_id="bench", scopes=server.read_scopes, grant_id=grant_id
    )
    dispose_engine(database_url)
    return token


def run() -> None:
    with seeded_database() as (database_url, keys):
        env = {
            "VAULTGATE_DATABASE_URL": database_url,
            "VAULTGATE_LOG_LEVEL": "warning",
            "VAULTGATE_RATE_LIMITS_ENABLED": "false",
            "VAULTGATE_PUBLIC_URL": ISSUER,
            # A token a long run outlives would measure 401s.
            "VAULTGATE_OAUTH_ACCESS_TOKEN_SECONDS": "3600",
        }
        os.environ["VAULTGATE_OAUTH_ACCESS_TOKEN_SECONDS"] = "3600"
        credentials = {BASELINE: keys[0], "Vaultgate meta.whoami, OAuth access token": access_token(database_url)}
        results: dict[str, list[float]] = {name: [] for name in credentials}
        for _ in range(ROUNDS):
            with server("gateway.app:create_app", env) as url:
                for name, credential in credentials.items():
                    results[name].append(
                        wrk(f"{url}/api/v2/meta/whoami", headers={"Authorization": f"Bearer {credential}"})
                    )
    report("Issue 16: meta.whoami with an OAuth token vs with an API key (rate limits off)", results, BASELINE)
