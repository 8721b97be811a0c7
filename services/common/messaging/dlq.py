"""Listing and replaying messages parked in `guabang.dlq` (operators: `guabang dlq`)."""
from __future__ import annotations

from kombu import Connection

from services.common.messaging.event_handler import ATTEMPT_HEADER
from services.common.messaging.topology import DEAD_LETTER_QUEUE, declare_topology


def _describe(message) -> dict:
    headers = message.headers or {}
    body = message.body
    return {
        "message_id": message.properties.get("message_id"),
        "queue": headers.get("x-guabang-original-queue"),
        "error": headers.get("x-guabang-error"),
        "failed_at": headers.get("x-guabang-failed-at"),
        "attempts": headers.get(ATTEMPT_HEADER),
        "sender": headers.get("x-guabang-sender") or message.properties.get("user_id"),
        "body": body.decode("utf-8", "replace") if isinstance(body, bytes) else body,
    }


def list_parked(amqp_uri: str) -> list[dict]:
    """Every parked message, oldest first; they all stay parked (none is acked)."""
    with Connection(amqp_uri) as connection:
        declare_topology(connection)
        channel = connection.channel()
        queue = DEAD_LETTER_QUEUE(channel)
        parked = []
        while True:
            message = queue.get(no_ack=False)
            if message is None:
                break
            parked.append(_describe(message))
        channel.close()  # unacked messages go back to the queue, in their order
        return parked


def replay(amqp_uri: str, limit: int | None = None) -> int:
    """Send parked messages back to the queue they failed in, with a fresh retry budget.

    Each is acked from the dead-letter queue only after the broker confirmed its republish.
    """
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        declare_topology(connection)
        channel = connection.channel()
        producer = connection.Producer(channel=channel)
        queue = DEAD_LETTER_QUEUE(channel)
        replayed = 0
        while limit is None or replayed < limit:
            message = queue.get(no_ack=False)
            if message is None:
                break
            # a fresh retry budget; the sender stays known (the ingress consumer trusts it only
            # from the operator's own account, which this connection is)
            headers = {k: v for k, v in (message.headers or {}).items()
                       if (not k.startswith("x-guabang-") or k == "x-guabang-sender")
                       and k != ATTEMPT_HEADER}
            target = (message.headers or {}).get("x-guabang-original-queue")
            if not target:
                message.reject(requeue=True)
                break
            producer.publish(
                message.body, exchange="", routing_key=target,
                content_type=message.content_type, content_encoding=message.content_encoding,
                delivery_mode=2, message_id=message.properties.get("message_id"),
                type=message.properties.get("type"), headers=headers,
                reply_to=message.properties.get("reply_to"),
                correlation_id=message.properties.get("correlation_id"),
                user_id=connection.userid,
            )
            message.ack()
            replayed += 1
        channel.close()
        return replayed
