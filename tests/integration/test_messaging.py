"""The mechanisms under every service, against the real RabbitMQ and Redis: topology declared
before consumers, the outbox relay, and consumers that retry, park and replay."""
import hashlib
import json

import pytest
from kombu import Connection, Queue
from nameko.testing.services import entrypoint_waiter

from services.common.contract import events
from services.common.messaging import dlq
from services.common.messaging.event_handler import ATTEMPT_HEADER, subscribe
from services.common.messaging.outbox import OutboxRelay, outbox_entry, outbox_key, serialize
from services.common.messaging.topology import EVENTS, SUBSCRIPTIONS, Subscription, declare_with
from tests.support.infra import queue_depth
from tests.support.system import wait_until

pytestmark = pytest.mark.integration


def department_event(code="agri"):
    return events.make_event(
        "assignment.department_registered",
        events.DepartmentRegistered(code=code, name="县农业农村局", level="county", revision=1))


def drain(amqp_uri, queue_name, expected, timeout=10):
    """Read `expected` messages from a queue (acking them), or fail after `timeout`."""
    received = []
    with Connection(amqp_uri) as connection:
        queue = Queue(queue_name, durable=True)(connection.default_channel)

        def got_all():
            message = queue.get(no_ack=True)
            if message is not None:
                received.append(message)
            return len(received) >= expected

        wait_until(got_all, timeout, 0.02, f"{expected} messages on {queue_name}")
    return received


def test_an_event_published_before_its_consumer_ever_ran_waits_in_its_queue(amqp_uri):
    declare_with(amqp_uri)  # what every service does at start, before anything publishes
    event = department_event()
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish(event.model_dump_json(), exchange=EVENTS.name,
                                      routing_key=event.type, delivery_mode=2,
                                      content_type="application/json")
    [message] = drain(amqp_uri, "notifications.directory", 1)
    assert json.loads(message.body)["event_id"] == event.event_id


class RelayingService:
    name = "relaying"
    relay = OutboxRelay("relaying")


def test_relay_publishes_the_outbox_in_order_with_confirms_and_then_empties_it(
        container_factory, nameko_config, redis_client, amqp_uri):
    declare_with(amqp_uri)
    batch = [department_event(f"dept-{n}") for n in range(150)]  # more than one relay batch
    redis_client.rpush(outbox_key("relaying"), *[serialize(e) for e in batch])

    container_factory(RelayingService, nameko_config).start()

    received = drain(amqp_uri, "notifications.directory", len(batch))
    assert [m.properties["message_id"] for m in received] == [e.event_id for e in batch]
    wait_until(lambda: redis_client.llen(outbox_key("relaying")) == 0, 5,
               what="the outbox to be emptied")


def test_relay_keeps_entries_it_could_not_publish(redis_client, settings):
    relay = OutboxRelay("relaying")
    relay.container = type("C", (), {"config": settings.nameko_config()})()
    relay.setup()

    class BrokerDown:
        def publish_batch(self, raws):
            raise ConnectionError("broker unreachable")

    relay.publisher = BrokerDown()
    redis_client.rpush(outbox_key("relaying"), serialize(department_event()))
    with pytest.raises(ConnectionError):
        relay.drain_once()
    assert redis_client.llen(outbox_key("relaying")) == 1


def test_relay_keeps_a_batch_the_broker_refused_and_publishes_it_once_it_can(
        redis_client, settings, amqp_uri):
    """An outbox entry for an exchange the broker does not have: the channel is closed, the
    batch counts as unpublished and stays; the next batch (after recover) goes out."""
    relay = OutboxRelay("relaying")
    relay.container = type("C", (), {"config": settings.nameko_config()})()
    relay.setup()
    declare_with(amqp_uri)
    good = department_event("dept-kept")
    redis_client.rpush(outbox_key("relaying"), serialize(good),
                       outbox_entry("no-such-exchange", "x", "msg-1", "{}"))
    with pytest.raises(Exception):  # noqa: B017 (the broker's refusal, whatever its class)
        relay.drain_once()
    assert redis_client.llen(outbox_key("relaying")) == 2

    relay.recover()
    redis_client.lrem(outbox_key("relaying"), 1, outbox_entry("no-such-exchange", "x",
                                                               "msg-1", "{}"))
    assert relay.drain_once() == 1
    [message] = drain(amqp_uri, "notifications.directory", 1)
    assert message.properties["message_id"] == good.event_id
    assert redis_client.llen(outbox_key("relaying")) == 0


def test_only_one_relay_of_a_service_publishes_until_it_is_gone(redis_client, settings,
                                                                amqp_uri):
    def relay():
        made = OutboxRelay("relaying")
        made.container = type("C", (), {"config": settings.nameko_config()})()
        made.setup()
        return made

    declare_with(amqp_uri)
    first, second = relay(), relay()
    redis_client.rpush(outbox_key("relaying"), serialize(department_event("dept-a")))
    assert first.drain_once() == 1
    redis_client.rpush(outbox_key("relaying"), serialize(department_event("dept-b")))
    assert second.drain_once() == 0  # the first holds the lock
    redis_client.delete(f"{outbox_key('relaying')}:relay-lock")  # the first is gone
    assert second.drain_once() == 1
    assert len(drain(amqp_uri, "notifications.directory", 2)) == 2


def test_a_trim_sent_twice_removes_the_published_entries_once(redis_client, settings):
    """The client may send a pipeline again when a broken connection lost its replies: the
    second trim must not remove entries that were never published."""
    relay = OutboxRelay("relaying")
    relay.container = type("C", (), {"config": settings.nameko_config()})()
    relay.setup()
    assert relay._hold_lock()
    key = outbox_key("relaying")
    entries = [serialize(department_event(f"dept-{n}")) for n in range(3)]
    redis_client.rpush(key, *entries)
    published = [2, hashlib.sha1(entries[1].encode()).hexdigest()]

    def trim():
        return relay.trim(keys=[key, relay.lock_key],
                          args=[relay.token, published[0], 10_000, published[1]])

    assert trim() == 1
    assert trim() == 0
    assert redis_client.lrange(key, 0, -1) == entries[2:]


FLAKY = Subscription("test.flaky", ("assignment.department_registered",))
calls: dict[str, int] = {}


class FlakyService:
    """Fails the first `fail_times` deliveries of each event, then succeeds."""

    name = "flaky"
    fail_times = 2

    @subscribe(FLAKY)
    def handle(self, body):
        calls[body["event_id"]] = calls.get(body["event_id"], 0) + 1
        if calls[body["event_id"]] <= self.fail_times:
            raise RuntimeError("transient failure")


@pytest.fixture
def flaky_topology(amqp_uri, monkeypatch):
    monkeypatch.setitem(SUBSCRIPTIONS, FLAKY.queue_name, FLAKY)
    declare_with(amqp_uri)
    calls.clear()


def publish(amqp_uri, event):
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish(event.model_dump_json(), exchange=EVENTS.name,
                                      routing_key=event.type, delivery_mode=2,
                                      content_type="application/json",
                                      message_id=event.event_id)


def test_a_transient_failure_is_retried_with_delay_and_then_succeeds(
        container_factory, nameko_config, amqp_uri, flaky_topology):
    container = container_factory(FlakyService, nameko_config)
    container.start()
    event = department_event()
    with entrypoint_waiter(container, "handle", timeout=10,
                           callback=lambda worker_ctx, result, exc_info: exc_info is None):
        publish(amqp_uri, event)
    assert calls[event.event_id] == 3
    assert dlq.list_parked(amqp_uri) == []
    assert queue_depth(amqp_uri, FLAKY.queue_name) == 0
    assert queue_depth(amqp_uri, FLAKY.retry_queue_name) == 0


def test_a_handler_that_keeps_failing_parks_its_message_which_replay_brings_back(
        container_factory, nameko_config, amqp_uri, flaky_topology, monkeypatch):
    monkeypatch.setattr(FlakyService, "fail_times", 100)
    container = container_factory(FlakyService, nameko_config)
    container.start()
    event = department_event()
    publish(amqp_uri, event)

    parked = wait_until(lambda: dlq.list_parked(amqp_uri), 10, 0.2, "a parked message")
    assert len(parked) == 1
    assert parked[0]["message_id"] == event.event_id
    assert parked[0]["queue"] == FLAKY.queue_name
    assert "transient failure" in parked[0]["error"]
    assert calls[event.event_id] == 3  # the first try and both retries
    assert dlq.list_parked(amqp_uri) == parked, "listing must not consume"

    monkeypatch.setattr(FlakyService, "fail_times", 0)  # the operator fixed the cause
    with entrypoint_waiter(container, "handle", timeout=10,
                           callback=lambda worker_ctx, result, exc_info: exc_info is None):
        assert dlq.replay(amqp_uri) == 1
    assert calls[event.event_id] == 4
    assert dlq.list_parked(amqp_uri) == []


def test_attempt_header_name_is_stable():
    # `guabang dlq list` prints it; operators' scripts read it.
    assert ATTEMPT_HEADER == "x-guabang-attempt"
