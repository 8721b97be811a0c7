"""Where the tests find RabbitMQ, and per-test isolation on it.

Every virtual host and broker account the tests make carries this run's mark (`RUN`: the
machine and the pid of the pytest process), so that a run can tell what a dead run left behind
from what a live one (another checkout, testing at the same time) is using.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlparse

import httpx
import redis

AMQP_BASE = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_BASE = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
MANAGEMENT_URL = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")


def amqp_uri_for(vhost: str) -> str:
    parts = urlparse(AMQP_BASE)
    return f"{parts.scheme}://{parts.netloc}/{quote(vhost, safe='')}"


def redis_url_for(db: int) -> str:
    """A database of the machine's Redis (REDIS_URL), which the bench uses. The tests never do:
    they have a redis-server of their own (the `redis_server` fixture)."""
    parts = urlparse(REDIS_BASE)
    return f"{parts.scheme}://{parts.netloc}/{db}"


MACHINE = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:4]
RUN = f"{MACHINE}-{os.getpid()}"
VHOST_PREFIX = "guabang-test-"
# Department codes (and so the broker accounts `dept-<code>`) the tests give accounts to.
DEPARTMENT_PREFIX = "test-"
MARKED = re.compile(rf"^(?:{VHOST_PREFIX}|dept-{DEPARTMENT_PREFIX})([0-9a-f]{{4}})-(\d+)-")


def run_department(name: str) -> str:
    """A department code of this run's own, for a department the tests make a broker account
    for: accounts are the broker's, not a virtual host's, so two runs must not share one."""
    code = f"{DEPARTMENT_PREFIX}{RUN}-{name}"
    assert re.fullmatch(r"[a-z][a-z0-9-]{1,31}", code), f"not a department code: {code}"
    return code


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def made_by_this_run(name: str) -> bool:
    found = MARKED.match(name)
    return found is not None and f"{found[1]}-{found[2]}" == RUN


def left_by_a_dead_run(name: str) -> bool:
    """Made by a test run on this machine whose process is gone (a run on another machine
    sharing the broker is never judged from here)."""
    found = MARKED.match(name)
    return found is not None and found[1] == MACHINE and not _alive(int(found[2]))


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
        name = f"{VHOST_PREFIX}{RUN}-{secrets.token_hex(4)}"
        quoted = quote(name, safe="")
        httpx.put(self._url(f"vhosts/{quoted}"), auth=self.auth, timeout=10).raise_for_status()
        httpx.put(self._url(f"permissions/{quoted}/{self.user}"), auth=self.auth, timeout=10,
                  json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        return name

    def delete_vhost(self, name: str) -> None:
        httpx.delete(self._url(f"vhosts/{quote(name, safe='')}"), auth=self.auth, timeout=30)

    def delete_user(self, name: str) -> None:
        httpx.delete(self._url(f"users/{quote(name, safe='')}"), auth=self.auth, timeout=10)

    def remove_marked(self, which: Callable[[str], bool]) -> list[str]:
        """Delete the broker accounts, then the virtual hosts, whose names `which` picks (as
        `made_by_this_run` or `left_by_a_dead_run`); their names."""
        removed = []
        for kind, delete in (("users", self.delete_user), ("vhosts", self.delete_vhost)):
            listed = httpx.get(self._url(f"{kind}?columns=name"), auth=self.auth, timeout=10)
            listed.raise_for_status()
            for name in (item["name"] for item in listed.json()):
                if which(name):
                    delete(name)
                    removed.append(name)
        return removed

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
