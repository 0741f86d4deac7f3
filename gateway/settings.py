"""Process configuration, read once from `VAULTGATE_*` environment variables."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    """Every knob the gateway has; the README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix="VAULTGATE_")

    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'vaultgate.db'}"
    host: str = "127.0.0.1"
    port: int = 8080
    # Response validation costs throughput; tests and the contract run turn it on.
    validate_responses: bool = False
    log_level: str = "info"
    # How stale a revocation made by another process may be seen here (0 turns the cache off).
    credential_cache_seconds: float = 1.0
    # Off only behind another limiter (and for `make bench`'s baseline).
    rate_limits_enabled: bool = True
    # Unset: rate-limit buckets in process memory. Set: shared by every process through Redis.
    redis_url: str | None = None
    # SPEC §2 body caps; uploads per operation, e.g. '{"templates.start_fill": 26214400}'.
    max_json_body_bytes: int = 128 * 1024
    max_upload_bytes: int = 50 * 1024 * 1024
    upload_limits: dict[str, int] = {"templates.start_fill": 25 * 1024 * 1024}


@cache
def get_settings() -> Settings:
    return Settings()
