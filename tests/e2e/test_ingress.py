"""A department system commits over AMQP with its own broker account, as CONTRACT §5 says."""
import json
import subprocess
import sys
import uuid

import pytest
from amqp.exceptions import AccessRefused
from kombu import Connection, Exchange, Queue

from tests.e2e.conftest import create_key
from tests.support.system import ROOT, department_account, wait_until

pytestmark = pytest.mark.e2e

INGRESS = Exchange("guabang.ingress", type="topic", durable=True, passive=True)


def guabang(system, *args):
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=system.env,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.fixture
def department_system(system, county, broker_admin):
    """The department's own AMQP connection, with the account `guabang broker` made for it."""
    with system.client() as admin:
        admin.post(f"/v1/departments/{county['department']}/pool",
                   json={"kind": "fertiliser", "unit": "吨", "quantity": "10"})
    with department_account(system, broker_admin, county["department"]) as uri, \
            Connection(uri) as connection:
        yield connection


def send(connection, county, body, department=None, message_id=None, raw=None):
    """Publish like a department system does and wait for the reply on its own queue."""
    account = f"dept-{county['department']}"
    replies = Queue(f"{account}.replies.{uuid.uuid4().hex[:8]}", exclusive=True,
                    auto_delete=True)
    channel = connection.channel()
    replies(channel).declare()
    correlation = uuid.uuid4().hex
    payload = raw if raw is not None else json.dumps(
        {"department_code": department or county["department"],
         "village_code": county["village"], "kind": "fertiliser", "unit": "吨", **body})
    connection.Producer(channel).publish(
        payload, exchange=INGRESS, routing_key="commitment.create", user_id=account,
        message_id=message_id or uuid.uuid4().hex, reply_to=replies.name,
        correlation_id=correlation, content_type="application/json", delivery_mode=2)
    bound = replies(channel)
    message = wait_until(lambda: bound.get(no_ack=True), 10, 0.05, "the reply")
    channel.close()
    assert message.properties["correlation_id"] == correlation
    return json.loads(message.body)


def test_a_department_system_commits_over_amqp_and_the_township_hears_of_it(
        system, county, department_system):
    reply = send(department_system, county, {"quantity": "2.5"}, message_id="order-1")
    assert reply["status"] == 201, reply
    assert reply["body"]["quantity"] == "2.50" and reply["body"]["status"] == "committed"
    again = send(department_system, county, {"quantity": "2.5"}, message_id="order-1")
    assert again == reply  # message_id is the Idempotency-Key
    short = send(department_system, county, {"quantity": "100"})
    assert (short["status"], short["body"]["type"]) == (409, "insufficient-pool")

    township = create_key(system, f"township:{county['township']}")

    def inbox():
        with system.client(township) as client:
            return client.get(f"/v1/townships/{county['township']}/notifications").json()

    items = wait_until(lambda: inbox()["items"], 10, what="the notification")
    assert [i["data"]["id"] for i in items] == [reply["body"]["id"]]


def test_malformed_and_foreign_messages_are_answered_parked_and_the_consumer_goes_on(
        system, county, department_system):
    malformed = send(department_system, county, {}, raw=b"{not json")
    assert (malformed["status"], malformed["body"]["type"]) == (400, "malformed-json")
    invalid = send(department_system, county, {"quantity": "-3"})
    assert (invalid["status"], invalid["body"]["type"]) == (422, "validation-failed")
    foreign = send(department_system, county, {"quantity": "1"}, department="water",
                   message_id="foreign-1")
    assert (foreign["status"], foreign["body"]["type"]) == (403, "forbidden")

    listed = guabang(system, "dlq", "list")
    assert listed.returncode == 0, listed.stderr
    parked = [json.loads(line) for line in listed.stdout.splitlines()]
    from_here = [p for p in parked if p["queue"] == "resources.ingress-commitments"
                 and f"dept-{county['department']}" in json.dumps(p)]
    assert len(from_here) >= 3
    assert any(p["message_id"] == "foreign-1" and "water" in p["error"] for p in from_here)

    still = send(department_system, county, {"quantity": "1"})
    assert still["status"] == 201  # the consumer kept consuming

    # replayed by the operator, a message is judged again as its sender's, not the operator's
    assert guabang(system, "dlq", "replay").returncode == 0
    again = wait_until(lambda: [p for p in (json.loads(line) for line in guabang(
        system, "dlq", "list").stdout.splitlines()) if p["message_id"] == "foreign-1"], 10,
        0.5, "the foreign message to be parked again")
    assert "water" in again[0]["error"] and again[0]["sender"] == f"dept-{county['department']}"


def test_a_department_account_reaches_nothing_but_its_own_queues(
        system, county, department_system):
    with pytest.raises(AccessRefused):
        channel = department_system.channel()
        Queue("notifications.township-feed", passive=True)(channel).queue_declare(passive=True)
        channel.basic_consume("notifications.township-feed")
