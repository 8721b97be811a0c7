"""The transactional outbox (ENGINEERING rule 1: no dual write).

A service stores an event in its outbox list in the same MULTI/EXEC or Lua call that stores the
state the event describes. The relay, running inside the service, publishes the outbox in order
with publisher confirms and removes an entry only after the broker confirmed it. A crash between
confirm and removal publishes the entry again; consumers are idempotent on `event_id`.
"""
from __future__ import annotations

import json
import logging
import uuid

from kombu import Connection

from services.common import background
from services.common.background import BackgroundLoop
from services.common.config import settings_of
from services.common.events import Envelope
from services.common.redis_provider import connect
from services.common.topology import EVENTS

log = logging.getLogger(__name__)

BATCH = 100
IDLE_WAIT = 0.1  # seconds between polls when nothing woke the relay
LOCK_TTL_MS = 10_000

# Remove the first `n` entries only while this relay still holds the lock: with the lock lost,
# another relay may already have removed them, and trimming again would drop unpublished events.
_TRIM_IF_OWNER = """
if redis.call('GET', KEYS[2]) == ARGV[1] then
    redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
    redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
    return 1
end
return 0
"""

_REFRESH_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 0
"""

def outbox_key(service: str) -> str:
    return f"{service}:outbox"


def outboxes_key(service: str) -> str:
    """The set of a service's further outboxes: one per Redis Cluster slot it writes in, so an
    event is stored in the same slot, and the same script, as the state it describes."""
    return f"{service}:outboxes"


_registered: set[str] = set()


def register_outbox(client, service: str, key: str) -> str:
    """Make sure the relay drains `key`; call before the first write to it (idempotent)."""
    if key not in _registered:
        client.sadd(outboxes_key(service), key)
        _registered.add(key)
    return key


def outbox_entry(exchange: str, routing_key: str, message_id: str, body: str,
                 message_type: str | None = None) -> str:
    """An outbox entry: a message and where it goes, stored as one string."""
    return json.dumps({"exchange": exchange, "routing_key": routing_key,
                       "message_id": message_id, "type": message_type, "body": body},
                      ensure_ascii=False)


def serialize(envelope: Envelope) -> str:
    """The outbox entry of an event: to `guabang.events`, routed by its type."""
    return outbox_entry(EVENTS.name, envelope.type, envelope.event_id,
                        envelope.model_dump_json(), envelope.type)


def ring(service: str) -> None:
    """Tell this process's relay that the outbox has new entries (saves a poll interval)."""
    background.ring(outbox_key(service))


class OutboxPublisher:
    """Publishes outbox entries with publisher confirms on one long-lived connection."""

    def __init__(self, amqp_uri: str):
        self.connection = Connection(amqp_uri, transport_options={"confirm_publish": True})
        self.producer = None

    def publish(self, raw: str) -> None:
        entry = json.loads(raw)
        if self.producer is None:
            self.connection.ensure_connection(max_retries=1)
            self.producer = self.connection.Producer()
        # With confirm_publish, publish() returns only once the broker has confirmed the message.
        self.producer.publish(
            entry["body"],
            exchange=entry["exchange"],
            routing_key=entry["routing_key"],
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=entry["message_id"],
            type=entry["type"],
        )

    def reset(self) -> None:
        self.producer = None
        try:
            self.connection.close()
        except Exception:  # closing a broken connection may fail in many ways; it is gone anyway
            pass
        self.connection = self.connection.clone()


class OutboxRelay(BackgroundLoop):
    """Runs the relay beside the service's workers."""

    def __init__(self, service: str):
        self.service = service
        self.key = outbox_key(service)
        self.lock_key = f"{self.key}:relay-lock"
        self.token = uuid.uuid4().hex
        self.bell = self.key
        self.idle_wait = IDLE_WAIT

    def setup(self):
        settings = settings_of(self.container)
        self.redis = connect(settings.redis_url)
        self.publisher = OutboxPublisher(settings.amqp_uri)
        self.trim = self.redis.register_script(_TRIM_IF_OWNER)
        self.refresh = self.redis.register_script(_REFRESH_IF_OWNER)

    def step(self) -> bool:
        return self.drain_once() > 0

    def recover(self) -> None:
        self.publisher.reset()

    def _hold_lock(self) -> bool:
        if self.redis.set(self.lock_key, self.token, nx=True, px=LOCK_TTL_MS):
            return True
        return bool(self.refresh(keys=[self.lock_key], args=[self.token, LOCK_TTL_MS]))

    def drain_once(self) -> int:
        """Publish one batch from the head of every outbox; returns how many were published."""
        if not self._hold_lock():
            return 0  # another replica's relay is draining these outboxes
        published = 0
        for key in [self.key, *sorted(self.redis.smembers(outboxes_key(self.service)))]:
            entries = self.redis.lrange(key, 0, BATCH - 1)
            for raw in entries:
                self.publisher.publish(raw)
            if entries:
                self.trim(keys=[key, self.lock_key], args=[self.token, len(entries), LOCK_TTL_MS])
            published += len(entries)
        return published
