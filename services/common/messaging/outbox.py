"""The transactional outbox (ENGINEERING rule 1: no dual write).

A service stores an event in its outbox list in the same MULTI/EXEC or Lua call that stores the
state the event describes. The relay, running inside the service, publishes the outbox in order
with publisher confirms and removes an entry only after the broker confirmed it. A crash between
confirm and removal publishes the entry again; consumers are idempotent on `event_id`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid

import eventlet
from kombu import Connection

from services.common.config import settings_of
from services.common.contract.events import Envelope
from services.common.messaging import background
from services.common.messaging.background import BackgroundLoop
from services.common.messaging.topology import EVENTS
from services.common.storage.redis_store import connect
from services.common.storage.scripts import ScriptPipeline, load_script

log = logging.getLogger(__name__)

BATCH = 100  # entries per outbox per batch
MAX_BATCH = 1000  # entries per batch in all: the broker confirms a batch within CONFIRM_TIMEOUT
IDLE_WAIT = 0.1  # seconds between looks when nothing woke the relay
FULL_LOOK = 1.0  # seconds between looks at every outbox (another replica's, a dead process's)
LOCK_TTL_MS = 10_000
LOCK_CHECK = 2.0  # seconds a relay trusts that it still holds the lock


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


_written: dict[str, set[str]] = {}  # per service, the outboxes written since its relay last looked


def wake_relay(service: str, outbox: str) -> None:
    """Tell this process's relay that `outbox` has new entries: it publishes them at once
    instead of on its next look."""
    _written.setdefault(service, set()).add(outbox)
    background.wake(outbox_key(service))


class OutboxPublisher:
    """Publishes outbox entries in batches on one long-lived channel in confirm mode: every
    message of a batch is sent, then the broker's confirms are awaited together. A batch
    counts as published only when every message in it was confirmed."""

    CONFIRM_TIMEOUT = 10.0

    def __init__(self, amqp_uri: str):
        self.connection = Connection(amqp_uri)
        self.channel = None
        self._last_tag = 0
        self._unconfirmed: set[int] = set()
        self._refused = 0

    def _open(self):
        if self.channel is None:
            self.connection.ensure_connection(max_retries=1)
            channel = self.connection.channel()
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            self.channel, self._last_tag = channel, 0
        return self.channel

    def _settled(self, tag: int, multiple: bool) -> int:
        done = {t for t in self._unconfirmed if t <= tag} if multiple else {tag}
        self._unconfirmed -= done
        return len(done)

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settled(tag, multiple)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._refused += self._settled(tag, multiple)

    def publish_batch(self, raws: list[str]) -> None:
        """Publish the entries in order; returns once the broker confirmed every one of them,
        raises if it refused one or did not answer in time (then none counts as published)."""
        channel = self._open()
        self._refused = 0
        for raw in raws:
            entry = json.loads(raw)
            message = channel.prepare_message(
                entry["body"].encode(), content_type="application/json",
                content_encoding="utf-8",
                properties={"delivery_mode": 2, "message_id": entry["message_id"],
                            "type": entry["type"]})
            channel.basic_publish(message, exchange=entry["exchange"],
                                  routing_key=entry["routing_key"])
            self._last_tag += 1
            self._unconfirmed.add(self._last_tag)
        deadline = time.monotonic() + self.CONFIRM_TIMEOUT
        while self._unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the broker confirmed {len(raws) - len(self._unconfirmed)} "
                                   f"of {len(raws)} messages in {self.CONFIRM_TIMEOUT} s")
            self.connection.drain_events(timeout=remaining)
        if self._refused:
            raise RuntimeError(f"the broker refused {self._refused} of {len(raws)} messages")

    def reset(self) -> None:
        self.channel, self._unconfirmed = None, set()
        try:
            self.connection.close()
        except Exception:  # closing a broken connection may fail in many ways; it is gone anyway
            pass
        self.connection = self.connection.clone()


def _batch(heads) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """The (outbox, entries) to publish now, at most MAX_BATCH entries in all, and the outboxes
    that may hold more than that."""
    batch, total, more = [], 0, []
    for key, entries in heads:
        if not entries:
            continue
        taken = entries[:max(MAX_BATCH - total, 0)]
        if taken:
            batch.append((key, taken))
            total += len(taken)
        if len(taken) < len(entries) or len(entries) == BATCH:
            more.append(key)
    return batch, more


class OutboxRelay(BackgroundLoop):
    """Runs the relay beside the service's workers."""

    def __init__(self, service: str):
        self.service = service
        self.key = outbox_key(service)
        self.lock_key = f"{self.key}:relay-lock"
        self.token = uuid.uuid4().hex
        self.wakes_on = self.key
        self.idle_wait = IDLE_WAIT
        self._last_full_look = 0.0
        self._lock_checked = -LOCK_CHECK

    def setup(self):
        settings = settings_of(self.container)
        self.redis = connect(settings.redis_url)
        self.publisher = OutboxPublisher(settings.amqp_uri)
        self.trim = load_script(self.redis, "services.common.messaging", "trim_if_owner")
        self.take_or_keep = load_script(self.redis, "services.common.messaging", "take_or_keep")

    def step(self) -> bool:
        # let the workers that are ready run first: what they store joins this batch instead
        # of making one of its own (a batch's cost hardly depends on its size)
        eventlet.sleep(0)
        return self.drain_once() > 0

    def recover(self) -> None:
        self.publisher.reset()
        self._last_full_look = 0.0  # the failed step's outboxes are looked at again
        self._lock_checked = -LOCK_CHECK

    def _hold_lock(self) -> bool:
        """Whether this relay holds the lock, asked of Redis at most every LOCK_CHECK seconds
        (each trim extends it too). Believing a moment too long, after the lock was lost,
        only publishes a batch twice: a trim removes entries only while its relay holds it."""
        now = time.monotonic()
        if now - self._lock_checked < LOCK_CHECK:
            return True
        if self.take_or_keep(keys=[self.lock_key], args=[self.token, LOCK_TTL_MS]):
            self._lock_checked = now
            return True
        return False

    def _outboxes_to_look_at(self) -> list[str]:
        """The outboxes written in this process; every outbox of the service every FULL_LOOK
        seconds (entries written by another replica, or left by a process that died before its
        relay ran)."""
        written = _written.pop(self.service, set())
        now = time.monotonic()
        if now - self._last_full_look >= FULL_LOOK:
            self._last_full_look = now
            return [self.key, *sorted(self.redis.smembers(outboxes_key(self.service)))]
        return sorted(written)

    def drain_once(self) -> int:
        """Publish a batch from the head of each outbox that may have entries, as one batch to
        the broker; returns how many were published."""
        if not self._hold_lock():
            return 0  # another replica's relay is draining these outboxes
        keys = self._outboxes_to_look_at()
        if not keys:
            return 0
        with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.lrange(key, 0, BATCH - 1)
            heads, look_again = _batch(zip(keys, pipe.execute(), strict=True))
        if not heads:
            return 0
        self.publisher.publish_batch([raw for _, entries in heads for raw in entries])
        with ScriptPipeline(self.redis) as pipe:
            for key, entries in heads:
                last = hashlib.sha1(entries[-1].encode()).hexdigest()
                pipe.script(self.trim, [key, self.lock_key],
                            [self.token, len(entries), LOCK_TTL_MS, last])
            pipe.execute()
        # outboxes with more than this batch took are looked at again in the next step
        _written.setdefault(self.service, set()).update(look_again)
        return sum(len(entries) for _, entries in heads)
