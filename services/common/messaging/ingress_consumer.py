"""An entrypoint for messages from outside systems, taken raw and never trusted.

nameko's consumers let kombu decode a body before the service sees it: a message that is not
JSON, or has an unexpected content type, never reaches the service; kombu logs it and drops
it, so its sender gets no answer and the operator finds no trace. This entrypoint takes the
undecoded message from its own connection, so the service method judges the bytes, answers,
and parks what it refuses; nothing a sender does can stop it or make a message vanish.

The method gets the bytes and the message's properties, with `sender`: the broker-checked
account that sent it (`sender_of`). It returns an `IngressOutcome`; the entrypoint then sends
the reply (to `reply_to`, with `correlation_id`), parks the message in `guabang.dlq` when the
outcome says so, and only then acks. If the method raises (the store is down, say), the
message goes back to its queue after a pause, so it is never lost and never spins.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlparse

import eventlet
from kombu import Connection, Queue
from nameko.amqp.publish import get_producer
from nameko.extensions import Entrypoint

from services.common.config import settings_of
from services.common.contract.events import utc_now
from services.common.messaging.topology import DEAD_LETTER_QUEUE

log = logging.getLogger(__name__)


@dataclass
class IngressOutcome:
    status: int
    body: dict
    park_reason: str | None = None  # set: the message is parked in the dead-letter queue
    extra_headers: dict = field(default_factory=dict)


def sender_of(user_id: str | None, headers: dict | None, operator_account: str) -> str | None:
    """The broker account that sent a message. RabbitMQ checks `user_id`; a message the
    operator replayed from the dead-letter queue (`guabang dlq replay`) carries the operator's
    account there, and its first sender in the header this consumer wrote when parking it."""
    replayed_for = (headers or {}).get("x-guabang-sender")
    if user_id == operator_account and replayed_for:
        return replayed_for
    return user_id


class RawConsumer(Entrypoint):
    def __init__(self, queue: Queue, prefetch_count: int = 10, **kwargs):
        self.queue = queue
        self.prefetch_count = prefetch_count
        super().__init__(**kwargs)

    def setup(self):
        self.settings = settings_of(self.container)
        # the account `guabang dlq replay` publishes with (see `sender_of`)
        self.operator_account = urlparse(self.settings.amqp_uri).username or ""
        self._running = False
        self._thread = None

    def start(self):
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._consume)

    def stop(self):
        self._running = False
        if self._thread is not None:
            self._thread.wait()

    def kill(self):
        self._running = False
        if self._thread is not None:
            self._thread.kill()

    def _consume(self):
        while self._running:
            try:
                with Connection(self.settings.amqp_uri) as connection:
                    consumer = connection.Consumer(queues=[self.queue],
                                                   on_message=self._on_message,
                                                   prefetch_count=self.prefetch_count)
                    with consumer:
                        while self._running:
                            try:
                                connection.drain_events(timeout=1)
                            except TimeoutError:
                                continue
            except Exception:
                if self._running:
                    log.exception("consumer of %s lost its connection; reconnecting",
                                  self.queue.name)
                    eventlet.sleep(1.0)

    def _on_message(self, message):
        properties = dict(message.properties)
        properties["headers"] = dict(message.headers or {})
        properties["sender"] = self._sender(message)
        self.container.spawn_worker(self, (message.body, properties), {},
                                    handle_result=partial(self._settle, message))

    def _settle(self, message, worker_ctx, result, exc_info):
        if exc_info is not None:
            log.error("could not handle a message from %s; it goes back to the queue",
                      self.queue.name, exc_info=exc_info)
            eventlet.sleep(1.0)  # no hot loop while, say, the store is down
            self._settle_safely(message.requeue)
            return result, exc_info
        try:
            self._answer(message, result)
        except Exception:
            log.exception("could not answer or park a message; it goes back to the queue")
            eventlet.sleep(1.0)
            self._settle_safely(message.requeue)
            return result, exc_info
        self._settle_safely(message.ack)
        return result, exc_info

    def _settle_safely(self, settle) -> None:
        """Ack or requeue; if the connection is gone, the broker hands the message out again
        (the sender's message_id makes the second handling a replay), so it is not lost."""
        try:
            settle()
        except Exception as exc:
            log.warning("could not settle a message of %s (%s); it will be redelivered",
                        self.queue.name, exc)

    def _publish(self, body, routing_key: str, **properties) -> None:
        # a pooled producer per publish: workers answer concurrently, and one connection
        # must never be read by two greenthreads at once
        with get_producer(self.settings.amqp_uri, confirms=True) as producer:
            producer.publish(body, exchange="", routing_key=routing_key, retry=True,
                             **properties)

    def _answer(self, message, outcome: IngressOutcome) -> None:
        # park first: if answering then fails, the message comes back and is answered again,
        # but it is never answered yet lost
        if outcome.park_reason:
            self._park(message, outcome)
        reply_to = message.properties.get("reply_to")
        if reply_to:
            self._publish(json.dumps({"status": outcome.status, "body": outcome.body},
                                     ensure_ascii=False),
                          reply_to, content_type="application/json",
                          content_encoding="utf-8",
                          correlation_id=message.properties.get("correlation_id"))

    def _sender(self, message) -> str:
        return sender_of(message.properties.get("user_id"), message.headers,
                         self.operator_account) or ""

    def _park(self, message, outcome: IngressOutcome) -> None:
        headers = dict(message.headers or {})
        headers.update({
            "x-guabang-original-queue": self.queue.name,
            "x-guabang-error": outcome.park_reason[:1000],
            "x-guabang-failed-at": utc_now(),
            "x-guabang-sender": self._sender(message),
            **outcome.extra_headers,
        })
        body = message.body
        if isinstance(body, str):  # the client library decoded it: park the bytes
            body = body.encode("utf-8", "surrogateescape")
        self._publish(body, DEAD_LETTER_QUEUE.name, headers=headers,
                      delivery_mode=2, content_type=message.content_type or
                      "application/octet-stream", content_encoding="binary",
                      message_id=message.properties.get("message_id"),
                      reply_to=message.properties.get("reply_to"),
                      correlation_id=message.properties.get("correlation_id"))


raw_consumer = RawConsumer.decorator
