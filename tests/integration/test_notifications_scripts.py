"""Every Lua script of the notifications store against the real Redis, one row per outcome;
and the writes that must hold with many concurrent writers."""
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.common.storage.idempotent_requests import ANSWER_KEPT_SECONDS, IdempotentRequest
from services.notifications import domain, signing
from services.notifications.store import DUE_DELIVERIES, NotificationsStore, due_member
from services.notifications.use_cases import deliveries, feed
from tests.unit.notifications.helpers import problem_event

pytestmark = pytest.mark.integration

T, T2 = "610581100", "610581101"
SLOT = f"notifications:{{township:{T}}}"


@pytest.fixture
def store(redis_client):
    return NotificationsStore(redis_client)


def notification(n=1, township=T) -> dict:
    return {"id": f"ntf_{township}_{n}", "township_code": township, "title_zh": f"东村{n}"}


def delivery(n=1, webhook="whk_1", township=T, status="pending") -> dict:
    return {"id": f"dlv_{webhook}_{n}", "webhook_id": webhook,
            "notification_id": f"ntf_{township}_{n}", "status": status, "attempts_made": 0,
            "created_at": "2026-11-26T00:00:00.000Z", "next_attempt_at": None}


def webhook(webhook_id="whk_1", status="active") -> dict:
    return {"id": webhook_id, "url": "https://t.example/h", "types": ["*"], "status": status,
            "created_at": "2026-11-26T00:00:00.000Z", "consecutive_failures": 0,
            "secret_sealed": "sealed"}


def save(store, hook=None, key=None, body="fp", scope="admin", township=T):
    return store.save_webhook(township, hook or webhook(), IdempotentRequest(key, body), scope)


def queue(store, webhook_id, count, township=T, first=0):
    for n in range(first, first + count):
        store.deliver(notification(f"{webhook_id}_{n}", township), "message",
                      [delivery(f"{n}", webhook_id, township) | {
                          "notification_id": f"ntf_{township}_{webhook_id}_{n}"}])


# --- deliver.lua -----------------------------------------------------------------------------

@pytest.mark.parametrize("case, first, again, stored", [
    ("a new notification is stored", notification(1), None, 1),
    ("the same id again is not", notification(1), notification(1), 1),
    ("another id is", notification(1), notification(2), 2),
])
def test_deliver(store, redis_client, case, first, again, stored):
    assert store.deliver(first, "message", [delivery(1)])
    if again is not None:
        assert store.deliver(again, "message", [delivery(2)]) == (again != first)
    items, _ = store.inbox(T, None, 50)
    assert len(items) == stored, case
    assert redis_client.llen(f"{SLOT}:outbox") == stored
    assert redis_client.zcard(DUE_DELIVERIES) == stored
    assert redis_client.zscore(DUE_DELIVERIES, due_member(T, "dlv_whk_1_1", "whk_1"))
    assert redis_client.zcard(f"{SLOT}:unacked") == stored
    assert store.townships() == [T]


def test_an_inbox_holds_one_notification_per_id_however_often_delivered(store, redis_client):
    item = {"id": "ntf_1", "township_code": T, "title_zh": "东村"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        stored = list(pool.map(lambda _: store.deliver(dict(item), "amqp message",
                                                       [delivery(1)]), range(10)))
    assert stored.count(True) == 1
    items, next_cursor = store.inbox(T, None, 50)
    assert [i["id"] for i in items] == ["ntf_1"] and next_cursor is None
    assert store.inbox(T2, None, 50) == ([], None)
    assert redis_client.llen(f"{SLOT}:outbox") == 1  # the work that follows, stored once too
    [claim] = store.claim_due(60_000, 10, 8, {})
    assert (claim.township_code, claim.delivery_id, claim.webhook_id) == (T, "dlv_whk_1_1",
                                                                          "whk_1")


def test_inbox_pages_in_a_stable_order(store):
    for n in range(7):
        store.deliver({"id": f"ntf_{n}", "township_code": T}, "message", [])
    seen, cursor = [], None
    while True:
        items, cursor = store.inbox(T, int(cursor) if cursor else None, 3)
        seen += [i["id"] for i in items]
        if cursor is None:
            break
    assert seen == [f"ntf_{n}" for n in range(7)]


# --- ack.lua ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case, township, notification_id, outcome, acked_by", [
    ("the first receipt is recorded", T, "ntf_610581100_1", "ok", "township:610581100"),
    ("a second keeps the first", T, "ntf_610581100_1", "ok", "township:610581100"),
    ("an unknown id", T, "ntf_none", "not-found", None),
    ("another township's notification", T2, "ntf_610581100_1", "not-found", None),
])
def test_ack(store, redis_client, case, township, notification_id, outcome, acked_by):
    store.deliver(notification(1), "message", [])
    store.deliver(notification(1, T2), "message", [])
    first = {"acked_at": "2026-11-26T08:00:00.000Z", "acked_by": "township:610581100"}
    if case == "a second keeps the first":
        store.ack(T, notification_id, first)
        first = {"acked_at": "2026-11-27T08:00:00.000Z", "acked_by": "admin"}
    answer = store.ack(township, notification_id, first)
    assert answer.name == outcome, case
    acked = answer.record
    if acked_by is None:
        assert acked is None, case
        assert redis_client.zcard(f"notifications:{{township:{township}}}:unacked") == 1
        return
    assert acked["acked_by"] == acked_by and acked["acked_at"] == "2026-11-26T08:00:00.000Z"
    assert (acked["id"], acked["title_zh"], acked["cursor"]) == (notification_id, "东村1", "1")
    assert store.unacked_count(T) == 0


# --- webhooks.lua ----------------------------------------------------------------------------

DISABLED = {"status": "disabled", "disabled_reason": "the receiver answered 410 Gone"}


@pytest.mark.parametrize("case, hooks, health, expected", [
    ("none", [], {}, []),
    ("each as it stands (its health over its record), oldest first",
     [webhook("whk_2") | {"created_at": "2026-11-27T00:00:00.000Z"}, webhook("whk_1")],
     {"whk_2": {"consecutive_failures": "3", "last_error": "HTTP 500"} | DISABLED},
     [("whk_1", "active", 0, None, None),
      ("whk_2", "disabled", 3, "HTTP 500", DISABLED["disabled_reason"])]),
    ("a record written disabled, with no health (stored before health was kept apart)",
     [webhook("whk_1") | DISABLED], {}, [("whk_1", "disabled", 0, None,
                                         DISABLED["disabled_reason"])]),
    ("failures in a row are the health's count, not the record's",
     [webhook("whk_1") | {"consecutive_failures": 5}], {}, [("whk_1", "active", 0, None, None)]),
])
def test_webhooks(store, redis_client, case, hooks, health, expected):
    for hook in hooks:
        save(store, hook)
    for webhook_id, fields in health.items():
        redis_client.hset(f"{SLOT}:webhook:{webhook_id}:health", mapping=fields)
    found = [(w["id"], w["status"], w["consecutive_failures"], w.get("last_error"),
              w.get("disabled_reason")) for w in store.webhooks(T)]
    assert found == expected, case
    assert {w["url"] for w in store.webhooks(T)} == {h["url"] for h in hooks}  # the record's


# --- save_webhook.lua ------------------------------------------------------------------------

@pytest.mark.parametrize("case, key, body, scope, outcome, stored", [
    ("the first with its key is made", "k1", "fp", "admin", "ok", 2),
    ("without a key, one more is made", None, "fp", "admin", "ok", 2),
    ("the same key and body get the first", "k1", "fp", "admin", "replay", 1),
    ("the same key with another body", "k1", "other", "admin", "reused", 1),
    ("the key's webhook was removed since", "k1", "fp", "admin", "gone", 0),
    ("another caller's key of that name", "k1", "fp", "township:610581100", "ok", 2),
])
def test_save_webhook(store, redis_client, case, key, body, scope, outcome, stored):
    remembered = f"{SLOT}:idempotency:webhook:admin:k1"  # the key's name, as it always was
    if case.startswith("the first"):
        remembered = f"{SLOT}:idempotency:webhook:admin:k0"
        first = save(store, webhook("whk_first"), key="k0")
    else:
        first = save(store, webhook("whk_first"), key="k1")
    assert first.name == "ok"
    if outcome == "gone":
        store.delete_webhook(T, "whk_first")
    health = {"consecutive_failures": 2, "last_error": "HTTP 500"}  # what attempts learned
    redis_client.hset(f"{SLOT}:webhook:whk_first:health", mapping=health)

    saved = save(store, webhook("whk_second"), key=key, body=body, scope=scope)

    assert saved.name == outcome, case
    assert len(store.webhooks(T)) == stored
    made = saved.record["id"] if saved.record else saved.detail  # 'gone' names it
    assert {"ok": "whk_second", "replay": "whk_first", "gone": "whk_first",
            "reused": None}[outcome] == made
    if outcome == "ok":
        assert saved.record == webhook("whk_second")
    if outcome == "replay":  # as it stands now
        assert saved.record == {**webhook("whk_first"), **health}
    # the first answer is kept under its key with the one TTL
    assert json.loads(redis_client.get(remembered))["id"] == "whk_first"
    assert 0 < redis_client.ttl(remembered) <= ANSWER_KEPT_SECONDS


# --- claim_due.lua ---------------------------------------------------------------------------

def test_a_claim_takes_no_more_for_a_webhook_than_it_has_free_slots(store, redis_client):
    queue(store, "whk_slow", 12)
    queue(store, "whk_next", 1, township=T2)  # queued behind the twelve

    first = store.claim_due(60_000, 50, 8, {})
    assert sorted(c.webhook_id for c in first) == ["whk_next"] + ["whk_slow"] * 8
    # the slow webhook's eight are in flight: its other four stay due, the claim takes none
    assert store.claim_due(60_000, 50, 8, {"whk_slow": 8}) == []
    assert redis_client.zcard(DUE_DELIVERIES) == 13
    # one attempt ended: one slot, one more claimed
    [again] = store.claim_due(60_000, 50, 8, {"whk_slow": 7})
    assert again.webhook_id == "whk_slow"


@pytest.mark.parametrize("case, members, in_flight, limit, claimed", [
    ("nothing due", {}, {}, 10, []),
    ("due ones, oldest first, up to the limit",
     {f"{T}|dlv_1|whk_1": -2, f"{T}|dlv_2|whk_2": -1, f"{T}|dlv_3|whk_3": 0}, {}, 2,
     ["dlv_1", "dlv_2"]),
    ("not one due later", {f"{T}|dlv_1|whk_1": 60_000}, {}, 10, []),
    ("a busy webhook's are passed by",
     {f"{T}|dlv_1|whk_1": -1, f"{T}|dlv_2|whk_2": 0}, {"whk_1": 8}, 10, ["dlv_2"]),
    ("a member from before members named their webhook", {f"{T}|dlv_1": 0}, {}, 10,
     ["dlv_1"]),
])
def test_claim_due(store, redis_client, case, members, in_flight, limit, claimed):
    now = int(time.time() * 1000)
    if members:
        redis_client.zadd(DUE_DELIVERIES, {m: now + offset for m, offset in members.items()})
    claims = store.claim_due(60_000, limit, 8, in_flight)
    assert [c.delivery_id for c in claims] == claimed, case
    for claim in claims:  # leased: due again only if its attempt is never recorded
        assert redis_client.zscore(DUE_DELIVERIES, claim.member) >= now + 59_000


def test_a_busy_webhooks_queue_never_hides_another_townships_delivery(store):
    """A claim looks at a bounded head of the queue; what it passed by (a busy webhook's) goes
    behind, so the next claims reach the neighbour's delivery."""
    queue(store, "whk_slow", 300)
    queue(store, "whk_next", 1, township=T2)
    found = []
    deadline = time.monotonic() + 3
    while not found and time.monotonic() < deadline:
        found = list(store.claim_due(60_000, 50, 8, {"whk_slow": 8}))
        time.sleep(0.05)
    assert [c.delivery_id for c in found] == ["dlv_whk_next_0"]


# --- attempt_context.lua ---------------------------------------------------------------------

@pytest.mark.parametrize("case, remove, expected", [
    ("everything", None, ("dlv_whk_1_0", "https://t.example/h", 2, "active", True)),
    ("the webhook was disabled by an attempt", "status", ("dlv_whk_1_0", "https://t.example/h",
                                                          2, "disabled", True)),
    ("the webhook was removed", "webhook", ("dlv_whk_1_0", None, None, None, True)),
    ("the notification is not stored", "notification", ("dlv_whk_1_0", "https://t.example/h",
                                                        2, "active", False)),
    ("no such delivery", "delivery", None),
])
def test_attempt_context(store, redis_client, case, remove, expected):
    save(store, webhook("whk_1"))
    queue(store, "whk_1", 1)
    redis_client.hset(f"{SLOT}:webhook:whk_1:health", "consecutive_failures", 2)
    if remove == "status":
        redis_client.hset(f"{SLOT}:webhook:whk_1:health", mapping=DISABLED)
    elif remove == "webhook":
        store.delete_webhook(T, "whk_1")
    elif remove == "notification":
        redis_client.delete(f"{SLOT}:items")
    elif remove == "delivery":
        redis_client.delete(f"{SLOT}:deliveries")

    context = store.attempt_context(T, "dlv_whk_1_0")
    if expected is None:
        assert context is None, case
        return
    hook = context.webhook
    assert (context.delivery["id"], hook and hook["url"], hook and hook["consecutive_failures"],
            hook and hook["status"], context.notification is not None) == expected, case
    if context.notification:
        assert context.notification == {"id": "ntf_610581100_whk_1_0", "township_code": T,
                                        "title_zh": "东村whk_1_0"}


# --- record_attempt.lua ----------------------------------------------------------------------

AT = "2026-11-26T08:00:00.000Z"


@pytest.mark.parametrize("case, status, next_due, verdict, note, health", [
    ("delivered", "delivered", None, "succeeded", "",
     {"consecutive_failures": "0", "last_success_at": AT}),
    ("failed, tried again later", "pending", 10 ** 13, "failed", "HTTP 500",
     {"consecutive_failures": "2", "last_error": "HTTP 500"}),
    ("exhausted", "exhausted", None, "failed", "ReadTimeout",
     {"consecutive_failures": "2", "last_error": "ReadTimeout"}),
    ("410: the webhook is disabled", "abandoned", None, "gone", "the receiver answered 410",
     {"consecutive_failures": "1", "status": "disabled", "disabled_at": AT,
      "disabled_reason": "the receiver answered 410"}),
    ("abandoned, saying nothing about the webhook", "abandoned", None, "", "",
     {"consecutive_failures": "1"}),
])
def test_record_attempt(store, redis_client, case, status, next_due, verdict, note, health):
    queue(store, "whk_1", 1)
    [claim] = store.claim_due(60_000, 10, 8, {})
    redis_client.hset(f"{SLOT}:webhook:whk_1:health", "consecutive_failures", 1)
    recorded = delivery("0", "whk_1") | {"status": status, "attempts_made": 1,
                                         "notification_id": "ntf_610581100_whk_1_0"}
    attempt = {"number": 1, "at": AT, "status_code": 500, "error": None, "duration_ms": 3}

    store.record_attempt(T, recorded, attempt, next_due, verdict, note,
                         claimed_as=claim.member)

    assert store.attempts(T, [recorded["id"]]) == {recorded["id"]: [attempt]}
    assert json.loads(redis_client.hget(f"{SLOT}:deliveries", recorded["id"])) == recorded
    assert redis_client.zscore(DUE_DELIVERIES, claim.member) == next_due, case
    assert redis_client.hgetall(f"{SLOT}:webhook:whk_1:health") == health, case


def test_an_attempt_claimed_under_an_older_member_leaves_no_trace_of_it(store, redis_client):
    queue(store, "whk_1", 1)
    older = f"{T}|dlv_whk_1_0"
    redis_client.delete(DUE_DELIVERIES)
    redis_client.zadd(DUE_DELIVERIES, {older: 0})
    recorded = delivery("0", "whk_1") | {"status": "pending", "attempts_made": 1}
    store.record_attempt(T, recorded, {"at": AT}, 10 ** 13, "failed", "HTTP 500",
                         claimed_as=older)
    assert redis_client.zrange(DUE_DELIVERIES, 0, -1) == [due_member(T, "dlv_whk_1_0",
                                                                      "whk_1")]


# --- retry_delivery.lua ----------------------------------------------------------------------

@pytest.mark.parametrize("case, webhook_id, delivery_id, status, disabled, outcome", [
    ("a finished delivery is due again", "whk_1", "dlv_whk_1_0", "exhausted", None, "ok"),
    ("one waiting already", "whk_1", "dlv_whk_1_0", "pending", None, "pending"),
    ("its webhook is disabled", "whk_1", "dlv_whk_1_0", "exhausted", "health",
     "webhook-disabled"),
    ("its webhook's record says disabled (stored before health was kept apart)", "whk_1",
     "dlv_whk_1_0", "exhausted", "record", "webhook-disabled"),
    ("no such webhook", "whk_none", "dlv_whk_1_0", "exhausted", None, "no-webhook"),
    ("no such delivery", "whk_1", "dlv_none", "exhausted", None, "no-delivery"),
    ("another webhook's delivery", "whk_2", "dlv_whk_1_0", "exhausted", None,
     "no-delivery"),
])
def test_retry_delivery(store, redis_client, case, webhook_id, delivery_id, status, disabled,
                        outcome):
    save(store, webhook("whk_1") | ({"status": "disabled", "disabled_reason": "410 Gone"}
                                    if disabled == "record" else {}))
    save(store, webhook("whk_2"))
    queue(store, "whk_1", 1)
    finished = json.loads(redis_client.hget(f"{SLOT}:deliveries", "dlv_whk_1_0")) | {
        "status": status, "attempts_made": 4}
    store.record_attempt(T, finished, {"at": AT, "error": "HTTP 500"},
                         None if status != "pending" else 10 ** 13, claimed_as="")
    if disabled == "health":
        redis_client.hset(f"{SLOT}:webhook:whk_1:health",
                          mapping={"status": "disabled", "disabled_reason": "410 Gone"})
    before = redis_client.hget(f"{SLOT}:deliveries", "dlv_whk_1_0")

    retry = store.retry(T, webhook_id, delivery_id, AT)

    assert retry.name == outcome, case
    if outcome != "ok":
        assert redis_client.hget(f"{SLOT}:deliveries", "dlv_whk_1_0") == before
        assert retry.detail == ("410 Gone" if disabled else None)
        return
    assert retry.record == {**finished, "status": "pending", "next_attempt_at": AT,
                              "attempts": [{"at": AT, "error": "HTTP 500"}]}
    stored = json.loads(redis_client.hget(f"{SLOT}:deliveries", "dlv_whk_1_0"))
    assert stored == {**finished, "status": "pending", "next_attempt_at": AT}
    [claim] = store.claim_due(60_000, 10, 8, {})
    assert claim.delivery_id == "dlv_whk_1_0"


# --- round trips on the measured paths -------------------------------------------------------

def test_an_event_becomes_a_notification_in_two_round_trips(store, round_trips):
    """The township's webhooks (one script), then the notification with everything that
    follows from it (one script); names come from the directory (cached)."""
    save(store, webhook("whk_1"))
    feed.notify_township(store, lambda *_: None, problem_event("先").model_dump(mode="json"))
    round_trips.clear()
    assert feed.notify_township(store, lambda *_: None,
                                problem_event("后").model_dump(mode="json"))
    assert len(round_trips) == 2
    assert len(store.claim_due(60_000, 10, 8, {})) == 2


def test_an_attempt_is_claimed_read_and_recorded_in_three_round_trips(store, round_trips):
    save(store, webhook("whk_1"))
    queue(store, "whk_1", 2)
    sender = deliveries.Sender(post=lambda *_: domain.Answer(200, None, None, 1),
                               open_secret=lambda sealed: signing.new_secret())
    [first] = store.claim_due(60_000, 1, 8, {})
    deliveries.attempt_delivery(store, first, sender)  # Redis has the scripts from now on
    round_trips.clear()
    [second] = store.claim_due(60_000, 1, 8, {})
    deliveries.attempt_delivery(store, second, sender)
    assert len(round_trips) == 3
    assert store.attempt_context(T, second.delivery_id).delivery["status"] == "delivered"
