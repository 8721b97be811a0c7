"""Where the tests find RabbitMQ, and per-test isolation on it."""
from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlparse

import httpx
import redis

AMQP_BASE = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_BASE = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
MANAGEMENT_URL = os.environ.get("RABBIT_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")


def amqp_uri_for(vhost: str) -> str:
    parts = urlparse(AMQP_BASE)
    return f"{parts.scheme}://{parts.netloc}/{quote(vhost, safe='')}"


def redis_url_for(db: int) -> str:
    """A database of the machine's Redis (REDIS_URL), which the bench uses. The tests never do:
    they have a redis-server of their own (the `redis_server` fixture)."""
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


@contextmanager
def temporary_vhost(admin: BrokerAdmin) -> Iterator[str]:
    """A fresh virtual host, deleted afterwards."""
    name = admin.create_vhost()
    try:
        yield name
    finally:
        admin.delete_vhost(name)


def queue_depth(amqp_uri: str, queue_name: str) -> int:
    """Messages ready in a queue, asked of the broker itself (the management API's counts lag)."""
    from kombu import Connection

    with Connection(amqp_uri) as connection:
        _, depth, _ = connection.default_channel.queue_declare(queue_name, passive=True)
        return depth


def snapshot(client: redis.Redis) -> dict[bytes, str]:
    """Every key of a Redis database with a digest of its value, but for the rate counters (a
    refused request still counts against its key's rate)."""
    return {key: hashlib.sha256(client.dump(key) or b"").hexdigest()
            for key in client.scan_iter(count=1000) if not key.startswith(b"gateway:rate:")}


def settled(client: redis.Redis, timeout: float = 5.0) -> dict[bytes, str]:
    """The store once background work (relays, projections) has stopped changing it."""
    deadline = time.monotonic() + timeout
    before = snapshot(client)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        after = snapshot(client)
        if after == before:
            return after
        before = after
    return before
