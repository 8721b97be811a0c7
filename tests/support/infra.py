"""Where the tests find RabbitMQ and Redis, and per-test isolation on them."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlparse

import httpx

AMQP_BASE = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_BASE = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
MANAGEMENT_URL = os.environ.get("RABBIT_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")


def amqp_uri_for(vhost: str) -> str:
    parts = urlparse(AMQP_BASE)
    return f"{parts.scheme}://{parts.netloc}/{quote(vhost, safe='')}"


def redis_url_for(db: int) -> str:
    parts = urlparse(REDIS_BASE)
    return f"{parts.scheme}://{parts.netloc}/{db}"


@dataclass
class BrokerAdmin:
    """RabbitMQ's management HTTP API: virtual hosts for isolation, queue inspection."""

    base: str
    auth: tuple[str, str]
    user: str

    @classmethod
    def from_env(cls) -> BrokerAdmin:
        parts = urlparse(MANAGEMENT_URL)
        amqp = urlparse(AMQP_BASE)
        return cls(f"{parts.scheme}://{parts.hostname}:{parts.port}",
                   (parts.username or "guest", parts.password or "guest"),
                   amqp.username or "guest")

    def _url(self, path: str) -> str:
        return f"{self.base}/api/{path}"

    def create_vhost(self) -> str:
        name = f"guabang-test-{secrets.token_hex(4)}"
        quoted = quote(name, safe="")
        httpx.put(self._url(f"vhosts/{quoted}"), auth=self.auth, timeout=10).raise_for_status()
        httpx.put(self._url(f"permissions/{quoted}/{self.user}"), auth=self.auth, timeout=10,
                  json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        return name

    def delete_vhost(self, name: str) -> None:
        httpx.delete(self._url(f"vhosts/{quote(name, safe='')}"), auth=self.auth, timeout=30)

    def queue(self, vhost: str, queue: str) -> dict | None:
        response = httpx.get(self._url(f"queues/{quote(vhost, safe='')}/{quote(queue, safe='')}"),
                             auth=self.auth, timeout=10)
        return response.json() if response.status_code == 200 else None


def queue_depth(amqp_uri: str, queue_name: str) -> int:
    """Messages ready in a queue, asked of the broker itself (the management API's counts lag)."""
    from kombu import Connection

    with Connection(amqp_uri) as connection:
        _, depth, _ = connection.default_channel.queue_declare(queue_name, passive=True)
        return depth
