"""Every exchange, queue and binding of Guabang, in one place.

Each service declares all of it when it starts (`declare_topology`), so an event published
before its consumer ever ran is already held in the consumer's queue (nameko publishes events
with `mandatory=False`: an event with no bound queue would vanish).
"""
from __future__ import annotations

from dataclasses import dataclass

from kombu import Connection, Exchange, Queue
from nameko.extensions import DependencyProvider

from services.common.config import settings_of

EVENTS = Exchange("guabang.events", type="topic", durable=True)
NOTIFICATIONS = Exchange("guabang.notifications", type="topic", durable=True)
# Department systems publish commitments here (CONTRACT §5), routing key `commitment.create`.
INGRESS = Exchange("guabang.ingress", type="topic", durable=True)
INGRESS_COMMITMENTS = Queue("resources.ingress-commitments", exchange=INGRESS,
                            routing_key="commitment.create", durable=True)
DEFAULT = Exchange("", type="direct")  # the broker's default exchange, routes by queue name

DEAD_LETTER_QUEUE = Queue("guabang.dlq", exchange=DEFAULT, routing_key="guabang.dlq", durable=True)


@dataclass(frozen=True)
class Subscription:
    """A durable queue of one consumer, bound to the event types it handles."""

    queue_name: str
    event_types: tuple[str, ...]

    @property
    def queue(self) -> Queue:
        return Queue(self.queue_name, durable=True)

    @property
    def retry_queue_name(self) -> str:
        return f"{self.queue_name}.retry"

    @property
    def retry_queue(self) -> Queue:
        # Messages wait here for their per-message TTL, then dead-letter back to the main queue.
        return Queue(
            self.retry_queue_name,
            durable=True,
            queue_arguments={
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.queue_name,
            },
        )


# Events a township is told about (CONTRACT §3 Notifications), each rendered by a title template.
TOWNSHIP_FEED_EVENTS = (
    "assignment.assignment_started",
    "assignment.assignment_ended",
    "assignment.village_leaderless",
    "assignment.problem_reported",
    "assignment.problem_resolved",
    "assignment.inspection_filed",
    "resources.commitment_created",
    "resources.commitment_delivered",
    "resources.commitment_confirmed",
    "resources.commitment_cancelled",
    "resources.need_raised",
)

COMMITMENT_EVENTS = (
    "resources.commitment_created",
    "resources.commitment_delivered",
    "resources.commitment_confirmed",
    "resources.commitment_cancelled",
)

SUBSCRIPTIONS: dict[str, Subscription] = {
    sub.queue_name: sub
    for sub in (
        Subscription(
            "resources.directory",
            ("assignment.village_registered", "assignment.department_registered"),
        ),
        # villages and departments name the titles; an older broker may still route
        # assignment.township_registered here, and the projection still applies it
        Subscription(
            "notifications.directory",
            ("assignment.village_registered", "assignment.department_registered"),
        ),
        Subscription("notifications.township-feed", TOWNSHIP_FEED_EVENTS),
        # the resources service keeps its villages' views and needs from its own events
        Subscription("resources.commitment-views", COMMITMENT_EVENTS),
    )
}


def declare_topology(connection: Connection) -> None:
    """Declare every exchange, queue and binding; safe to repeat (declarations are idempotent)."""
    channel = connection.default_channel
    for exchange in (EVENTS, NOTIFICATIONS, INGRESS):
        exchange(channel).declare()
    DEAD_LETTER_QUEUE(channel).declare()
    INGRESS_COMMITMENTS(channel).declare()  # declares its binding too
    for sub in SUBSCRIPTIONS.values():
        queue = sub.queue(channel)
        queue.declare()
        for event_type in sub.event_types:
            queue.bind_to(exchange=EVENTS.name, routing_key=event_type)
        sub.retry_queue(channel).declare()


def declare_with(amqp_uri: str) -> None:
    with Connection(amqp_uri) as connection:
        declare_topology(connection)


class DeclareTopology(DependencyProvider):
    """Declares every exchange, queue and binding before the service consumes or publishes."""

    def setup(self):
        declare_with(settings_of(self.container).amqp_uri)
