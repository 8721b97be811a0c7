"""Configuration from the environment, with defaults that work on a developer's machine."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from nameko.extensions import DependencyProvider


def _float_list(raw: str) -> tuple[float, ...]:
    return tuple(float(part) for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672/"
    redis_url: str = "redis://127.0.0.1:6379/0"
    admin_token: str | None = None
    http_host: str = "0.0.0.0"
    http_port: int = 8000
    # Bound on every synchronous call between services, so a stopped service gives 503, not a hang.
    rpc_timeout: float = 5.0
    # Delays (seconds) before each retry of a failed event handler; then the message is parked.
    handler_retry_delays: tuple[float, ...] = field(default=(1.0, 5.0, 30.0, 120.0, 600.0))
    max_body_bytes: int = 1024 * 1024
    # Requests a second one API key may make; more are answered 429 with Retry-After.
    rate_limit: int = 100
    # Where webhooks may point: empty allows any http(s) host; otherwise a comma-separated list
    # of networks (CIDR) and host names. Operators use it to forbid internal addresses.
    webhook_allowed: tuple[str, ...] = ()
    # Fernet key that seals webhook secrets at rest (`guabang start` makes and keeps one).
    secrets_key: str | None = None
    # Delays (seconds) between webhook attempts; its length is the number of retries.
    webhook_retry_schedule: tuple[float, ...] | None = None
    webhook_timeout: float = 10.0
    # Deliveries in flight at once: a slow receiver holds one of these, never the others.
    webhook_concurrency: int = 50
    # RabbitMQ's management API, for `guabang broker add-department`.
    management_url: str = "http://guest:guest@127.0.0.1:15672"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            amqp_uri=env.get("AMQP_URI", defaults.amqp_uri),
            redis_url=env.get("REDIS_URL", defaults.redis_url),
            admin_token=env.get("GUABANG_ADMIN_TOKEN") or None,
            http_host=env.get("GUABANG_HTTP_HOST", defaults.http_host),
            http_port=int(env.get("GUABANG_HTTP_PORT", defaults.http_port)),
            rpc_timeout=float(env.get("GUABANG_RPC_TIMEOUT", defaults.rpc_timeout)),
            secrets_key=env.get("GUABANG_SECRETS_KEY") or None,
            webhook_retry_schedule=_float_list(env["GUABANG_WEBHOOK_RETRY_SCHEDULE"])
            if env.get("GUABANG_WEBHOOK_RETRY_SCHEDULE") else None,
            webhook_timeout=float(env.get("GUABANG_WEBHOOK_TIMEOUT", defaults.webhook_timeout)),
            webhook_concurrency=int(env.get("GUABANG_WEBHOOK_CONCURRENCY",
                                            defaults.webhook_concurrency)),
            rate_limit=int(env.get("GUABANG_RATE_LIMIT", defaults.rate_limit)),
            webhook_allowed=tuple(part.strip() for part in
                                  env.get("GUABANG_WEBHOOK_ALLOWED", "").split(",")
                                  if part.strip()),
            management_url=env.get("RABBITMQ_MANAGEMENT_URL", defaults.management_url),
            handler_retry_delays=_float_list(env["GUABANG_HANDLER_RETRY_DELAYS"])
            if "GUABANG_HANDLER_RETRY_DELAYS" in env
            else defaults.handler_retry_delays,
        )

    def nameko_config(self) -> dict:
        """The dict nameko's containers read; our own extensions read `GUABANG` from it."""
        return {
            "AMQP_URI": self.amqp_uri,
            "WEB_SERVER_ADDRESS": f"{self.http_host}:{self.http_port}",
            "serializer": "json",
            # Messages a consumer holds unacked at once: bounds work in flight per service.
            "PREFETCH_COUNT": 20,
            "GUABANG": self,
        }


def settings_of(container) -> Settings:
    """The Settings a running container was started with (env defaults when absent)."""
    return container.config.get("GUABANG") or Settings.from_env()


class SettingsProvider(DependencyProvider):
    """The Settings the service was started with."""

    def get_dependency(self, worker_ctx):
        return settings_of(self.container)
