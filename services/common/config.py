"""Configuration from the environment, with defaults that work on a developer's machine.

Every variable is declared once, below: its name, type, default and constraint. A process
checks them all when it starts (`Settings.from_env`); a bad value is one line naming the
variable and what it wants (`ConfigError`), and the process exits with status 2.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Literal
from urllib.parse import urlparse

from nameko.extensions import DependencyProvider
from pydantic import AfterValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars


def _url(*schemes: str):
    """A URL with one of `schemes` and a host (a unix:// socket has a path instead)."""

    def check(value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in schemes or not (parsed.hostname or parsed.scheme == "unix"):
            raise ValueError(f"a URL {' or '.join(s + '://' for s in schemes)} with a host")
        return value

    return Annotated[str, AfterValidator(check)]


AmqpUrl = _url("amqp", "amqps")
RedisUrl = _url("redis", "rediss", "unix")
HttpUrl = _url("http", "https")
Seconds = Annotated[tuple[float, ...], NoDecode]  # "1,5,30" in the environment
Names = Annotated[tuple[str, ...], NoDecode]  # "10.0.0.0/8,hooks.example.cn"
HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
                       r"(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$", re.IGNORECASE)


def _env(name: str, **options):
    return Field(validation_alias=name, **options)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, validate_by_name=True, extra="ignore",
                                      case_sensitive=True)

    amqp_uri: AmqpUrl = _env("AMQP_URI", default="amqp://guest:guest@127.0.0.1:5672/")
    redis_url: RedisUrl = _env("REDIS_URL", default="redis://127.0.0.1:6379/0")
    # Unset: `guabang start` makes one per run; `guabang run` has no bootstrap key.
    admin_token: str | None = _env("GUABANG_ADMIN_TOKEN", default=None)
    http_host: str = _env("GUABANG_HTTP_HOST", default="0.0.0.0", min_length=1)
    http_port: int = _env("GUABANG_HTTP_PORT", default=8000, ge=1, le=65535)
    # Bound on every synchronous call between services, so a stopped service gives 503, not a hang.
    rpc_timeout: float = _env("GUABANG_RPC_TIMEOUT", default=5.0, gt=0)
    # Delays (seconds) before each retry of a failed event handler; then the message is parked.
    handler_retry_delays: Seconds = _env("GUABANG_HANDLER_RETRY_DELAYS",
                                         default=(1.0, 5.0, 30.0, 120.0, 600.0))
    # Requests a second one API key may make; more are answered 429 with Retry-After.
    rate_limit: int = _env("GUABANG_RATE_LIMIT", default=100, ge=1)
    # Where webhooks may point: empty allows any http(s) host; otherwise a comma-separated list
    # of networks (CIDR) and host names. Operators use it to forbid internal addresses.
    webhook_allowed: Names = _env("GUABANG_WEBHOOK_ALLOWED", default=())
    # Fernet key that seals webhook secrets at rest (`guabang start` makes and keeps one).
    secrets_key: str | None = _env("GUABANG_SECRETS_KEY", default=None)
    # Delays (seconds) between webhook attempts; its length is the number of retries. Unset:
    # DEFAULT_SCHEDULE of services/notifications/domain.py.
    webhook_retry_schedule: Seconds | None = _env("GUABANG_WEBHOOK_RETRY_SCHEDULE", default=None)
    webhook_timeout: float = _env("GUABANG_WEBHOOK_TIMEOUT", default=10.0, gt=0)
    # Deliveries in flight at once: a slow receiver holds one of these, never the others.
    webhook_concurrency: int = _env("GUABANG_WEBHOOK_CONCURRENCY", default=50, ge=1)
    # RabbitMQ's management API, for `guabang broker add-department`.
    management_url: HttpUrl = _env("RABBITMQ_MANAGEMENT_URL",
                                   default="http://guest:guest@127.0.0.1:15672")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = _env(
        "GUABANG_LOG_LEVEL", default="INFO")

    @field_validator("admin_token", "secrets_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        return None if value == "" else value

    @field_validator("handler_retry_delays", "webhook_retry_schedule", mode="before")
    @classmethod
    def _seconds(cls, value, info: ValidationInfo):
        if not isinstance(value, str):
            return value
        if not value.strip() and info.field_name == "webhook_retry_schedule":
            return None  # empty: the default schedule; empty retry delays: park at once
        try:
            delays = tuple(float(part) for part in value.split(",") if part.strip())
        except ValueError:
            raise ValueError("comma-separated seconds, e.g. 1,5,30") from None
        if any(delay <= 0 for delay in delays):
            raise ValueError("each delay must be more than 0 seconds")
        return delays

    @field_validator("webhook_allowed", mode="before")
    @classmethod
    def _allowed(cls, value):
        if not isinstance(value, str):
            return value
        entries = tuple(part.strip() for part in value.split(",") if part.strip())
        for entry in entries:
            if not HOST_NAME.match(entry):
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is neither a network (CIDR) nor a host "
                                     "name") from None
        return entries

    @field_validator("secrets_key")
    @classmethod
    def _fernet_key(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            if len(base64.urlsafe_b64decode(value.encode())) == 32:
                return value
        except (binascii.Error, ValueError):
            pass
        raise ValueError("a Fernet key: 32 bytes in URL-safe base64, as `python -c 'from "
                         "cryptography.fernet import Fernet; print(Fernet.generate_key()"
                         ".decode())'` prints")

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value):
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in `environ` (default: this process's environment), every value
        checked; ConfigError names each bad one."""
        source = EnvSettingsSource(cls) if environ is None else _Mapping(cls, environ)
        given = source()
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            raise ConfigError(exc, given) from None

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


SECRET = {"GUABANG_ADMIN_TOKEN", "GUABANG_SECRETS_KEY"}  # never echoed back


class ConfigError(Exception):
    """Bad values in the environment: `lines` has one line per bad variable."""

    def __init__(self, exc: ValidationError, given: Mapping[str, str]):
        self.lines = []
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else "configuration"
            shown = "" if name in SECRET else f"={_shown(given.get(name, error['input']))}"
            message = error["msg"].removeprefix("Value error, ")
            self.lines.append(f"{name}{shown}: {message}")
        super().__init__("\n".join(self.lines))


def _shown(value) -> str:
    text = str(value)
    parsed = urlparse(text)
    if parsed.password:  # a URL with a password: show it without
        text = text.replace(f":{parsed.password}@", ":**@", 1)
    return repr(text)


class _Mapping(EnvSettingsSource):
    """The environment source, reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls, environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self):
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty,
                              self.env_parse_none_str)


def settings_of(container) -> Settings:
    """The Settings a running container was started with (env defaults when absent)."""
    return container.config.get("GUABANG") or Settings.from_env()


class SettingsProvider(DependencyProvider):
    """The Settings the service was started with."""

    def get_dependency(self, worker_ctx):
        return settings_of(self.container)
