"""A nameko entrypoint that never drops a message whose handler failed (ENGINEERING rule 3).

nameko's own consumers ack a message whose handler raised (`requeue_on_error=False`) or requeue
it in a hot loop. `subscribe` instead republishes a failed message, with publisher confirms, to
its queue's retry queue with a growing per-message TTL (from which it dead-letters back to the
queue), and after the last retry parks it in `guabang.dlq` with its error for `guabang dlq`.
Only once that republish is confirmed is the original acked; if it cannot be republished, the
original is requeued, so a message is never acked away unhandled.
"""
from __future__ import annotations

import logging
import traceback

import eventlet
from kombu import Connection
from nameko.messaging import Consumer

from services.common.config import settings_of
from services.common.contract.events import utc_now
from services.common.messaging.rpc_server import BROKER_GONE
from services.common.messaging.topology import DEAD_LETTER_QUEUE, SUBSCRIPTIONS, Subscription

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-guabang-attempt"


def republish(amqp_uri: str, message, routing_key: str, headers: dict, expiration=None) -> None:
    """Publish a copy of `message` to the default exchange and wait for the broker's confirm."""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer()
        producer.publish(
            message.body,
            exchange="",
            routing_key=routing_key,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            delivery_mode=2,
            message_id=message.properties.get("message_id"),
            type=message.properties.get("type"),
            headers=headers,
            expiration=expiration,
        )


class ReliableConsumer(Consumer):
    def __init__(self, subscription: str | Subscription, **kwargs):
        if isinstance(subscription, str):
            subscription = SUBSCRIPTIONS[subscription]
        self.subscription = subscription
        super().__init__(queue=subscription.queue, **kwargs)

    def setup(self):
        self.settings = settings_of(self.container)
        super().setup()

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self._settle(self.queue_consumer.ack_message, message)
            return
        try:
            self._retry_later_or_park(message, exc_info)
        except Exception:
            log.exception("could not set aside a failed message; returning it to its queue")
            eventlet.sleep(1.0)  # no hot loop while the broker is in trouble
            self._settle(self.queue_consumer.requeue_message, message)
        else:
            self._settle(self.queue_consumer.ack_message, message)

    @staticmethod
    def _settle(settle, message) -> None:
        """Ack or requeue. nameko lets a connection reset escape from these, which kills the
        container; if the connection is gone, the broker gives the message out again and the
        handler, idempotent on event_id, absorbs it."""
        try:
            settle(message)
        except BROKER_GONE as exc:
            log.warning("could not settle a message, the broker went away (%s)", exc)

    def _retry_later_or_park(self, message, exc_info) -> None:
        headers = dict(message.headers or {})
        attempt = int(headers.get(ATTEMPT_HEADER, 0))
        error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
        delays = self.settings.handler_retry_delays
        queue_name = self.subscription.queue_name
        if attempt < len(delays):
            headers.update({ATTEMPT_HEADER: attempt + 1, "x-guabang-last-error": error[:1000]})
            log.warning("handler for %s failed (attempt %d), retrying in %ss: %s",
                        queue_name, attempt + 1, delays[attempt], error)
            republish(self.settings.amqp_uri, message, self.subscription.retry_queue_name,
                      headers, expiration=delays[attempt])
        else:
            headers.update({
                ATTEMPT_HEADER: attempt + 1,
                "x-guabang-original-queue": queue_name,
                "x-guabang-error": error[:1000],
                "x-guabang-failed-at": utc_now(),
            })
            log.error("handler for %s failed %d times, parked in %s: %s",
                      queue_name, attempt + 1, DEAD_LETTER_QUEUE.name, error)
            republish(self.settings.amqp_uri, message, DEAD_LETTER_QUEUE.name, headers)


subscribe = ReliableConsumer.decorator
