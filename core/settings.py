"""Process configuration, read once from `VAULTGATE_*` environment variables."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.secrets import InstanceKey, load_instance_key

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    """Every knob the gateway has; the README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix="VAULTGATE_")

    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'vaultgate.db'}"
    host: str = "127.0.0.1"
    port: int = 8080
    # Response validation costs throughput; tests and the contract run turn it on.
    validate_responses: bool = False
    # The instance key (signing and sealing keys derive from it), never stored in the database: this
    # value, else the file below, which `serve --demo` creates. The same on every machine of an installation.
    secret_key: SecretStr | None = None
    secret_key_file: Path = DEFAULT_DATA_DIR / "secret.key"
    log_level: str = "info"
    # How stale a revocation made by another process may be seen here (0 turns the cache off).
    credential_cache_seconds: float = 1.0
    # Off only behind another limiter (and for `make bench`'s baseline).
    rate_limits_enabled: bool = True
    # Unset: rate-limit buckets in process memory. Set: shared by every process through Redis.
    redis_url: str | None = None
    # Lookups of API keys not verified lately (a forged key costs a database query), per client address:
    # a burst, then a steady rate; past it, 429. Keys that worked lately are never held back.
    key_lookups_per_address: int = 100
    key_lookups_refill_per_second: float = 1.0
    # The client address is the TCP peer, unless this is on: then the last `X-Forwarded-For` entry, the one
    # the reverse proxy in front added. Turn it on only when every request comes through that proxy.
    trust_forwarded_for: bool = False
    # Request bodies over these are refused with 413 before they are read whole: JSON bodies, uploads, and
    # uploads per operation, e.g. '{"templates.start_fill": 26214400}'. openapi/openapi.yaml states the
    # defaults (tests/test_limits_documented.py keeps them equal).
    max_json_body_bytes: int = 128 * 1024
    max_upload_bytes: int = 50 * 1024 * 1024
    upload_limits: dict[str, int] = {"templates.start_fill": 25 * 1024 * 1024}
    # Background jobs: worker threads inside each `vaultgate serve` process (0: only `vaultgate worker` runs jobs).
    job_workers: int = 2
    # A worker that stops heartbeating for this long loses its job to another worker.
    job_lease_seconds: float = 30.0
    job_max_attempts: int = 3
    # Text extraction runs in a child process bounded by these.
    extraction_timeout_seconds: float = 120.0
    extraction_memory_bytes: int = 1024 * 1024 * 1024
    # Template fills render in a child process bounded by these (CPU seconds too: the timeout).
    render_timeout_seconds: float = 60.0
    render_memory_bytes: int = 1024 * 1024 * 1024
    # Blobs on local disk unless an S3 bucket is named.
    blob_dir: Path = DEFAULT_DATA_DIR / "blobs"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    # The gateway's external base URL for the links it signs (e.g. https://vault.example.com); unset: the `host`
    # and `port` above. Never the request's Host header, which the caller controls.
    public_url: str | None = None
    # For the MCP conformance test only (tests/test_mcp_conformance.py): /mcp also serves the fixture tools,
    # resources and prompts the official conformance runner calls (gateway.agents.fixtures). Never in production.
    mcp_conformance_fixtures: bool = False
    # OAuth (the authorization server at /oauth/…): access tokens are short-lived JWTs; refresh tokens rotate on
    # every use and end this many days after their last use; codes are single-use and live seconds.
    oauth_access_token_seconds: int = 600
    oauth_refresh_token_days: int = 30
    oauth_code_seconds: int = 60
    # Client ID Metadata Documents are fetched from the public internet only: a `client_id` URL resolving to a
    # private, loopback or link-local address is refused unless this is on (tests serve them on loopback).
    oauth_allow_private_cimd: bool = False
    # Anyone may register a client (RFC 7591), so each client address may make this many requests to the
    # registration endpoints at once, refilled at this many a minute (the contract run raises it).
    oauth_registrations_per_minute: int = 30

    # Chat answers are extractive unless an OpenAI-compatible chat-completions endpoint is named here (e.g.
    # https://api.openai.com/v1 or a local server's /v1); its answer falls back to the extractive one when it
    # fails or says nothing within `chat_timeout_seconds` (and at most `chat_answer_seconds` in all).
    chat_base_url: str | None = None
    chat_model: str | None = None
    chat_api_key: SecretStr | None = None
    chat_timeout_seconds: float = 15.0
    chat_answer_seconds: float = 120.0
    # Sent as the answer's `max_tokens`; also bounds what is read of the generator's stream (1 KiB a token).
    chat_max_tokens: int = 1024
    # A streamed answer sends a keep-alive comment after this long without an event (proxies drop idle streams).
    chat_keepalive_seconds: float = 15.0

    def instance_key(self) -> InstanceKey:
        """Raises `InstanceKeyError` with what to do when there is no usable key."""
        configured = self.secret_key.get_secret_value() if self.secret_key is not None else None
        return load_instance_key(configured, self.secret_key_file)


@cache
def get_settings() -> Settings:
    return Settings()
