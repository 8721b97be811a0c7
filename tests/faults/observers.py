"""What the suite watches with: a durable queue of its own that keeps consuming across broker
restarts, used twice (every event on `guabang.events`, and each township's queue on
`guabang.notifications`)."""
from __future__ import annotations

import json
import threading
import time

from kombu import Connection, Exchange, Queue

from tests.support.system import wait_until


class QueueTap:
    """A durable queue bound to an exchange, consumed by a thread that reconnects whenever the
    connection goes. Durable, so what is published while it reconnects (or while the broker
    restarts) waits for it; acked only after it is recorded, so a message whose ack was lost
    comes again: that is a redelivery, counted, never a loss."""

    def __init__(self, amqp_uri: str, queue_name: str, exchange: str, binding: str):
        self.amqp_uri = amqp_uri
        self.queue = Queue(queue_name, Exchange(exchange, type="topic", durable=True),
                           routing_key=binding, durable=True)
        self.received: list[dict] = []  # one entry per delivery, redeliveries included
        self.connections = 0
        self._running = True
        with Connection(amqp_uri) as connection:
            # Declared now, before any load: anything published from here on is kept for us.
            self.queue(connection.default_channel).declare()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self._running:
            try:
                with Connection(self.amqp_uri, connect_timeout=3) as connection:
                    with connection.Consumer([self.queue], on_message=self._on_message,
                                             prefetch_count=200):
                        self.connections += 1
                        while self._running:
                            try:
                                connection.drain_events(timeout=1)
                            except TimeoutError:
                                continue
            except Exception:  # the broker went away (or is not back yet): connect again
                if self._running:
                    time.sleep(0.5)

    def _on_message(self, message) -> None:
        self.received.append({"message_id": message.properties.get("message_id"),
                              "body": json.loads(message.body),
                              "redelivered": bool(message.delivery_info.get("redelivered"))})
        message.ack()

    def wait_connected(self, timeout: float = 30.0) -> None:
        wait_until(lambda: self.connections > 0, timeout, 0.1, f"a consumer on {self.queue.name}")

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=5)
