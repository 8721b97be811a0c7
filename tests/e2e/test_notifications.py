"""Every township's feed on every channel at once: nothing lost, nothing doubled, nothing
leaked to a neighbour."""
import json
import subprocess
import sys
import time
from collections import Counter

import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import create_key
from tests.support.channels import StreamReader, TownshipQueue, WebhookReceiver
from tests.support.system import ROOT, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def neighbour(system, county):
    code = f"{county['township'][:6]}{(int(county['township'][6:]) + 500) % 1000:03d}"
    with system.client() as admin:
        admin.put(f"/v1/townships/{code}", json={"name": "邻镇", "county_code": code[:6]})
        admin.put(f"/v1/villages/{code}201", json={"name": "邻村", "township_code": code,
                                                   "hardship": 2})
    return {"township": code, "village": f"{code}201"}


def subscribe_webhook(system, township, key, url, types=("*",)):
    with system.client(key) as client:
        response = client.post(f"/v1/townships/{township}/webhooks",
                               json={"url": url, "types": list(types)})
    assert response.status_code == 201, response.text
    return response.json()


def all_of_inbox(system, township, key):
    items, cursor = [], None
    with system.client(key) as client:
        while True:
            params = {"limit": 2, **({"after": cursor} if cursor else {})}
            body = client.get(f"/v1/townships/{township}/notifications", params=params).json()
            items += body["items"]
            cursor = body["next"]
            if cursor is None:
                return items


def test_every_event_arrives_once_on_each_channel_and_never_next_door(
        system, county, neighbour):
    own_key = create_key(system, f"township:{county['township']}")
    next_key = create_key(system, f"township:{neighbour['township']}")
    own_hook, next_hook = WebhookReceiver(), WebhookReceiver()
    own_queue = TownshipQueue(system.env["AMQP_URI"], county["township"])
    next_queue = TownshipQueue(system.env["AMQP_URI"], neighbour["township"])
    secret = subscribe_webhook(system, county["township"], own_key, own_hook.url)["secret"]
    subscribe_webhook(system, neighbour["township"], next_key, next_hook.url)
    own_stream = StreamReader(system.base_url, county["township"], own_key)
    next_stream = StreamReader(system.base_url, neighbour["township"], next_key)
    try:
        department = create_key(system, f"department:{county['department']}")
        with system.client(department) as dept:
            dept.post(f"/v1/departments/{county['department']}/pool",
                      json={"kind": "cement", "unit": "吨", "quantity": "100"})
            commitments = [dept.post("/v1/commitments", json={
                "department_code": county["department"], "village_code": county["village"],
                "kind": "cement", "unit": "吨", "quantity": "3"}).json() for _ in range(6)]
            dept.post(f"/v1/commitments/{commitments[0]['id']}/deliver", json={})
            dept.post(f"/v1/commitments/{commitments[1]['id']}/cancel", json={"reason": "调整"})
            cadre = dept.post("/v1/cadres", json={"name": "赵强", "phone": "13900000000",
                                                  "department_code": county["department"]})
            assignment = dept.post("/v1/assignments", json={
                "cadre_id": cadre.json()["id"], "village_code": county["village"],
                "role": "leader", "starts_on": "2026-01-01", "ends_on": "2026-12-31"})
            assert assignment.status_code == 201
        with system.client(own_key) as township:
            township.post(f"/v1/villages/{county['village']}/problems",
                          json={"category": "organization", "title": "支部换届"})
        expected_events = 6 + 1 + 1 + 1 + 1  # commitments, delivered, cancelled, assigned,
        #                                      problem
        inbox = wait_until(lambda: (lambda items: items if len(items) >= expected_events
                                    else None)(all_of_inbox(system, county["township"],
                                                            own_key)),
                           20, 0.3, "every notification in the inbox")
        expected = [item["id"] for item in inbox]
        assert len(expected) == len(set(expected)) == expected_events

        def complete(ids):
            return sorted(set(ids)) == sorted(expected)

        wait_until(lambda: complete(own_stream.ids()), 20, 0.2, "the stream to catch up")
        wait_until(lambda: complete(own_hook.ids()), 20, 0.2, "the webhook deliveries")
        wait_until(lambda: complete(own_queue.ids()), 20, 0.2, "the AMQP messages")
        time.sleep(1.5)  # anything doubled would have arrived by now

        for channel, ids in (("stream", own_stream.ids()), ("webhook", own_hook.ids()),
                             ("amqp", own_queue.ids())):
            doubled = [i for i, n in Counter(ids).items() if n > 1]
            assert not doubled, f"{channel} delivered twice: {doubled}"
            assert sorted(ids) == sorted(expected), channel
        assert own_stream.ids() == expected  # the stream keeps the inbox's order
        for message in own_queue.messages:
            assert message.properties["message_id"] == json.loads(message.body)["id"]
            assert message.properties["delivery_mode"] == 2
            assert message.delivery_info["routing_key"].startswith(
                f"township.{county['township']}.")
        verifier = Webhook(secret)
        for delivery in own_hook.received:
            verifier.verify(delivery["body"], delivery["headers"])
        everything = json.dumps([d["body"].decode() for d in own_hook.received],
                                ensure_ascii=False)
        assert "13900000000" not in everything  # no phone number, on any channel

        assert next_stream.ids() == [] and next_hook.ids() == [] and next_queue.ids() == []
        assert all_of_inbox(system, neighbour["township"], next_key) == []
    finally:
        for closeable in (own_stream, next_stream, own_hook, next_hook, own_queue, next_queue):
            closeable.close()


def test_a_receiver_that_fails_twice_gets_a_valid_delivery_and_the_log_shows_three_tries(
        system, county):
    key = create_key(system, f"township:{county['township']}")
    receiver = WebhookReceiver(answers={"*": [500, (503, {"Retry-After": "1"}), 200]})
    hook = subscribe_webhook(system, county["township"], key, receiver.url)
    try:
        with system.client(key) as township:
            township.post(f"/v1/villages/{county['village']}/problems",
                          json={"category": "plan", "title": "规划待审"})
        wait_until(lambda: len(receiver.received) >= 3, 20, 0.2, "three attempts")
        third = receiver.received[2]
        payload = Webhook(hook["secret"]).verify(third["body"], third["headers"])
        assert payload["type"] == "assignment.problem_reported"
        assert third["at"] - receiver.received[1]["at"] >= 0.95  # Retry-After: 1 honoured
        with system.client(key) as township:
            def log():
                items = township.get(f"/v1/townships/{county['township']}/webhooks/"
                                     f"{hook['id']}/deliveries").json()["items"]
                return items if items and items[0]["status"] == "delivered" else None

            [delivery] = wait_until(log, 10, 0.2, "the delivery to be recorded")
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
        assert delivery["attempts_made"] == 3
        assert {r["headers"]["webhook-id"] for r in receiver.received} == {
            delivery["notification_id"]}
    finally:
        receiver.close()


def test_exhausted_gone_and_manual_retry(system, county):
    key = create_key(system, f"township:{county['township']}")
    failing = WebhookReceiver(answers={"*": [500] * 10})
    gone = WebhookReceiver(answers={"*": [410]})
    failing_hook = subscribe_webhook(system, county["township"], key, failing.url)
    gone_hook = subscribe_webhook(system, county["township"], key, gone.url)
    base = f"/v1/townships/{county['township']}/webhooks"
    try:
        with system.client(key) as township:
            township.post(f"/v1/villages/{county['village']}/problems",
                          json={"category": "plan", "title": "一"})

            def delivery_of(hook_id, status):
                items = township.get(f"{base}/{hook_id}/deliveries").json()["items"]
                return items[0] if items and items[0]["status"] == status else None

            # schedule 0.5, 1, 2: the first try and three retries, then exhausted
            exhausted = wait_until(lambda: delivery_of(failing_hook["id"], "exhausted"), 20,
                                   0.3, "the delivery to be exhausted")
            assert len(exhausted["attempts"]) == 4
            assert wait_until(lambda: delivery_of(gone_hook["id"], "abandoned"), 10, 0.3,
                              "the 410 to be recorded")
            hooks = {h["id"]: h for h in township.get(base).json()["items"]}
            assert hooks[gone_hook["id"]]["status"] == "disabled"
            assert "secret" not in json.dumps(hooks) or all(
                h.get("secret") is None for h in hooks.values())

            township.post(f"/v1/villages/{county['village']}/problems",
                          json={"category": "plan", "title": "二"})
            time.sleep(1.0)
            assert len(gone.received) == 1  # a disabled webhook gets nothing more

            failing.answers["*"] = [200]
            retried = township.post(f"{base}/{failing_hook['id']}/deliveries/"
                                    f"{exhausted['id']}/retry")
            assert retried.status_code == 200 and retried.json()["status"] == "pending"
            again = wait_until(lambda: (lambda d: d if d and d["id"] == exhausted["id"]
                                        else None)(delivery_of(failing_hook["id"],
                                                               "delivered")),
                               10, 0.3, "the manual retry to succeed")
            assert [a["status_code"] for a in again["attempts"]][-1] == 200
            refused = township.post(f"{base}/{gone_hook['id']}/deliveries/"
                                    f"{exhausted['id']}/retry")
            assert refused.status_code in (404, 409)
        with system.client() as admin:
            status = admin.get("/v1/admin/feeds",
                               params={"township": county["township"]}).json()["items"][0]
        assert status["failing_webhooks"] >= 1 and status["unacked"] >= 2
        printed = subprocess.run(
            [sys.executable, "-m", "services.cli", "notifications", "status", "--township",
             county["township"]], env=system.env, cwd=ROOT, capture_output=True, text=True,
            timeout=30)
        assert f"{gone.url} disabled" in printed.stdout
    finally:
        failing.close()
        gone.close()


def test_a_slow_receiver_never_delays_another_townships_deliveries(system, county, neighbour):
    slow_key = create_key(system, f"township:{county['township']}")
    fast_key = create_key(system, f"township:{neighbour['township']}")
    slow, fast = WebhookReceiver(delay=6.0), WebhookReceiver()
    subscribe_webhook(system, county["township"], slow_key, slow.url)
    subscribe_webhook(system, neighbour["township"], fast_key, fast.url)
    try:
        with system.client(slow_key) as township:
            for n in range(60):  # more than the dispatcher's whole pool of slots
                township.post(f"/v1/villages/{county['village']}/problems",
                              json={"category": "plan", "title": f"慢{n}"})
        wait_until(lambda: len(slow.received) >= 1, 10, 0.1, "the slow receiver to be busy")
        started = time.monotonic()
        with system.client(fast_key) as township:
            township.post(f"/v1/villages/{neighbour['village']}/problems",
                          json={"category": "plan", "title": "快"})
        wait_until(lambda: fast.received, 5, 0.05, "the other township's delivery")
        assert time.monotonic() - started < 3.0
    finally:
        slow.close()
        fast.close()


def test_receipts_and_the_unacked_filter(system, county):
    key = create_key(system, f"township:{county['township']}")
    inspector = create_key(system, "inspector:省督查组")
    with system.client(key) as township:
        for title in ("甲", "乙"):
            township.post(f"/v1/villages/{county['village']}/problems",
                          json={"category": "dispute", "title": title})
        base = f"/v1/townships/{county['township']}/notifications"
        items = wait_until(lambda: (lambda i: i if len(i) == 2 else None)(
            township.get(base).json()["items"]), 10, 0.2, "two notifications")
        acked = township.post(f"{base}/{items[0]['id']}/ack")
        assert acked.status_code == 200
        receipt = acked.json()
        assert receipt["acked_by"] == f"township:{county['township']}" and receipt["acked_at"]
        assert township.post(f"{base}/{items[0]['id']}/ack").json()["acked_at"] == \
            receipt["acked_at"]  # signed once
        unacked = township.get(base, params={"unacked": "true"}).json()["items"]
        assert [i["id"] for i in unacked] == [items[1]["id"]]
        assert township.post(f"{base}/ntf_nosuchthing/ack").status_code == 404
    with system.client(inspector) as reader:
        assert reader.get(base).status_code == 200
        assert reader.post(f"{base}/{items[1]['id']}/ack").status_code == 403


def test_the_stream_resumes_across_a_gateway_restart_without_gaps_or_repeats(system, county):
    key = create_key(system, f"township:{county['township']}")
    stream = StreamReader(system.base_url, county["township"], key)
    try:
        with system.client(key) as township:
            for n in range(3):
                township.post(f"/v1/villages/{county['village']}/problems",
                              json={"category": "economy", "title": f"前{n}"})
        wait_until(lambda: len(stream.events) >= 3, 10, 0.1, "three events")
        system.stop("gateway")
        system.start("gateway")
        system.wait_healthy()
        with system.client(key) as township:
            for n in range(3):
                township.post(f"/v1/villages/{county['village']}/problems",
                              json={"category": "economy", "title": f"后{n}"})
        wait_until(lambda: len(stream.events) >= 6, 20, 0.1, "the stream to resume")
        time.sleep(1.0)
        titles = [e["data"]["data"]["title"] for e in stream.events]
        assert titles == ["前0", "前1", "前2", "后0", "后1", "后2"]
        assert stream.connections >= 2
    finally:
        stream.close()


def test_a_webhook_made_twice_with_one_idempotency_key_is_one_webhook(system, county):
    key = create_key(system, f"township:{county['township']}")
    body = {"url": "http://127.0.0.1:9/once", "types": ["*"]}
    with system.client(key) as township:
        base = f"/v1/townships/{county['township']}/webhooks"
        first = township.post(base, json=body, headers={"Idempotency-Key": "hook-1"})
        again = township.post(base, json=body, headers={"Idempotency-Key": "hook-1"})
        assert (again.status_code, again.json()) == (201, first.json())  # secret included
        other = township.post(base, json={**body, "url": "http://127.0.0.1:9/two"},
                              headers={"Idempotency-Key": "hook-1"})
        assert other.json()["type"] == "idempotency-key-reused"
        hooks = [h for h in township.get(base).json()["items"] if h["url"].endswith("/once")]
    assert len(hooks) == 1


def test_a_revoked_key_loses_its_stream(system, county):
    with system.client() as admin:
        made = admin.post("/v1/api-keys", json={"principal": f"township:{county['township']}"})
    stream = StreamReader(system.base_url, county["township"], made.json()["key"])
    try:
        wait_until(lambda: stream.connections >= 1, 10, 0.1, "the stream to open")
        with system.client() as admin:
            admin.delete(f"/v1/api-keys/{made.json()['id']}")
        wait_until(lambda: stream.refused, 25, 0.2, "the stream to be closed and refused")
    finally:
        stream.close()
