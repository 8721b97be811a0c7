"""The services' atomic writes, against the real Redis, with many concurrent writers."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.common.contract import events
from services.common.contract.problems import Problem
from services.common.storage.directory_projection import DirectoryProjection
from services.notifications.store import NotificationsStore
from services.resources.store import ResourcesStore
from tests.integration.helpers import add_pool, commit, commitment, raise_need

OUTBOX = "resources:{dept:agri}:outbox"  # the department's own outbox, in its hash slot

pytestmark = pytest.mark.integration


def test_concurrent_commitments_never_reserve_more_than_the_pool(redis_client):
    store = ResourcesStore(redis_client)
    add_pool(store)  # 20.00 吨

    def attempt(n):
        try:
            commit(store, n)
            return "committed"
        except Problem as problem:
            return problem.type

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, range(50)))

    assert outcomes.count("committed") == 20
    assert outcomes.count("insufficient-pool") == 30
    [item] = store.pool("agri")
    assert (item["reserved"], item["available"]) == ("20.00", "0.00")
    # one event per stored commitment (plus the pool's), none for a refused one
    assert redis_client.llen(OUTBOX) == 21


def test_a_refused_commitment_changes_nothing(redis_client):
    store = ResourcesStore(redis_client)
    add_pool(store, 500)
    with pytest.raises(Problem) as refused:
        commit(store, 1, quantity="6.00")
    assert refused.value.extra["available"] == "5.00"
    assert store.pool("agri")[0]["reserved"] == "0.00"
    assert store.commitment("cmt_1") is None
    assert redis_client.llen(OUTBOX) == 1  # only the pool's event


def test_idempotency_key_replays_the_first_commitment_and_refuses_another_body(redis_client):
    store = ResourcesStore(redis_client)
    add_pool(store)
    first, replayed, _ = commit(store, 1, key="k-1")
    assert not replayed
    again, replayed, _ = commit(store, 2, key="k-1", fingerprint="fp-1")
    assert replayed and again == first
    with pytest.raises(Problem) as reused:
        commit(store, 3, key="k-1", fingerprint="another body")
    assert reused.value.type == "idempotency-key-reused"
    assert store.pool("agri")[0]["reserved"] == "1.00"


def test_a_kind_keeps_its_unit(redis_client):
    store = ResourcesStore(redis_client)
    add_pool(store)
    event = events.make_event("resources.pool_increased", events.PoolIncreased(
        department_code="agri", kind="cement", unit="kg", quantity="1.00"))
    with pytest.raises(Problem) as mismatch:
        store.add_to_pool("agri", "cement", "kg", 100, event, "fp2", None)
    assert mismatch.value.status == 422 and "吨" in mismatch.value.detail


def test_an_inbox_holds_one_notification_per_id_however_often_delivered(redis_client):
    store = NotificationsStore(redis_client)
    item = {"id": "ntf_1", "township_code": "610581100", "title_zh": "东村"}
    delivery = {"id": "dlv_1", "webhook_id": "whk_1", "notification_id": "ntf_1",
                "status": "pending", "attempts_made": 0}

    with ThreadPoolExecutor(max_workers=10) as pool:
        stored = list(pool.map(lambda _: store.deliver(dict(item), "amqp message", [delivery]),
                               range(10)))

    assert stored.count(True) == 1
    items, next_cursor = store.inbox("610581100", None, 50)
    assert [i["id"] for i in items] == ["ntf_1"] and next_cursor is None
    assert store.inbox("610581101", None, 50) == ([], None)
    # the work that follows from it was stored once too
    assert redis_client.llen("notifications:{township:610581100}:outbox") == 1
    [claim] = store.claim_due(60_000, 10, 8, {})
    assert (claim.township_code, claim.delivery_id, claim.webhook_id) == (
        "610581100", "dlv_1", "whk_1")


def _queue_deliveries(store, township, webhook_id, count, first=0):
    for n in range(first, first + count):
        store.deliver({"id": f"ntf_{township}_{webhook_id}_{n}", "township_code": township},
                      "message", [{"id": f"dlv_{webhook_id}_{n}", "webhook_id": webhook_id,
                                   "notification_id": f"ntf_{township}_{webhook_id}_{n}",
                                   "status": "pending", "attempts_made": 0}])


def test_a_claim_takes_no_more_for_a_webhook_than_it_has_free_slots(redis_client):
    store = NotificationsStore(redis_client)
    _queue_deliveries(store, "610581100", "whk_slow", 12)
    _queue_deliveries(store, "610581101", "whk_next", 1)  # queued behind the twelve

    first = store.claim_due(60_000, 50, 8, {})
    assert sorted(c.webhook_id for c in first) == ["whk_next"] + ["whk_slow"] * 8

    # the slow webhook's eight are in flight: its other four stay due, the claim takes none
    assert store.claim_due(60_000, 50, 8, {"whk_slow": 8}) == []
    assert redis_client.zcard("notifications:webhooks:due") == 13
    # one attempt ended: one slot, one more claimed
    [again] = store.claim_due(60_000, 50, 8, {"whk_slow": 7})
    assert again.webhook_id == "whk_slow"


def test_a_busy_webhooks_queue_never_hides_another_townships_delivery(redis_client):
    """A claim looks at a bounded head of the queue; what it passed by (a busy webhook's) goes
    behind, so the next claims reach the neighbour's delivery."""
    store = NotificationsStore(redis_client)
    _queue_deliveries(store, "610581100", "whk_slow", 300)
    _queue_deliveries(store, "610581101", "whk_next", 1)

    found = []
    deadline = time.monotonic() + 3
    while not found and time.monotonic() < deadline:
        found = list(store.claim_due(60_000, 50, 8, {"whk_slow": 8}))
        time.sleep(0.05)
    assert [c.delivery_id for c in found] == ["dlv_whk_next_0"]


def test_an_attempt_reads_delivery_webhook_health_and_notification_at_once(redis_client):
    store = NotificationsStore(redis_client)
    store.save_webhook("610581100", {"id": "whk_1", "url": "https://t.example/h",
                                     "types": ["*"], "status": "active",
                                     "created_at": "2026-11-26T00:00:00.000Z"}, "fp", None)
    _queue_deliveries(store, "610581100", "whk_1", 1)
    redis_client.hset("notifications:{township:610581100}:webhook:whk_1:health",
                      "consecutive_failures", 2)
    [claim] = store.claim_due(60_000, 10, 8, {})

    context = store.attempt_context(claim.township_code, claim.delivery_id)

    assert context.delivery["id"] == "dlv_whk_1_0" and context.delivery["status"] == "pending"
    assert context.webhook["url"] == "https://t.example/h"
    assert context.webhook["consecutive_failures"] == 2
    assert context.notification == {"id": "ntf_610581100_whk_1_0",
                                    "township_code": "610581100"}
    assert store.attempt_context("610581100", "dlv_none") is None


def test_inbox_pages_in_a_stable_order(redis_client):
    store = NotificationsStore(redis_client)
    for n in range(7):
        store.deliver({"id": f"ntf_{n}", "township_code": "610581100"}, "message", [])
    seen, cursor = [], None
    while True:
        items, cursor = store.inbox("610581100", int(cursor) if cursor else None, 3)
        seen += [i["id"] for i in items]
        if cursor is None:
            break
    assert seen == [f"ntf_{n}" for n in range(7)]


def test_a_projection_never_goes_back_to_an_older_revision(redis_client):
    projection = DirectoryProjection(redis_client, "resources")

    def village(revision, name):
        return events.make_event("assignment.village_registered", events.VillageRegistered(
            code="610581100201", name=name, township_code="610581100", hardship=3, tags=[],
            revision=revision), township_code="610581100", village_code="610581100201")

    newer, older = village(2, "东村(新)"), village(1, "东村")
    assert projection.apply(newer, "test")
    assert not projection.apply(older, "test")  # arrived late: ignored
    assert projection.get("village", "610581100201")["name"] == "东村(新)"


def test_a_village_moved_to_another_township_is_seen_at_once_where_the_move_was_applied(
        redis_client):
    projection = DirectoryProjection(redis_client, "resources")

    def village(revision, township):
        return events.make_event("assignment.village_registered", events.VillageRegistered(
            code="610581100201", name="东村", township_code=township, hardship=3, tags=[],
            revision=revision), township_code=township, village_code="610581100201")

    projection.apply(village(1, "610581100"), "test")
    assert projection.get("village", "610581100201")["township_code"] == "610581100"  # cached
    projection.apply(village(2, "610581101"), "test")
    assert projection.get("village", "610581100201")["township_code"] == "610581101"


def test_a_cached_record_is_never_replaced_by_an_older_read(redis_client):
    projection = DirectoryProjection(redis_client, "resources")
    projection._keep("village", {"code": "610581100201", "revision": 3, "name": "新"})
    kept = projection._keep("village", {"code": "610581100201", "revision": 2, "name": "旧"})
    assert kept["name"] == "新" and projection.get("village", "610581100201")["name"] == "新"


def test_a_hold_whose_commitment_was_never_stored_goes_back_to_the_need(redis_client):
    store = ResourcesStore(redis_client)
    raise_need(store, "need_1", purpose="晾晒场")
    # the process dies after holding the need for a commitment, before reserving the pool
    lost = commitment("lost", "4.00", need_id="need_1")
    redis_client.zadd("resources:need-holds:pending", {"need_1|cmt_lost": 0})
    store.hold_need("need_1", lost, 400)
    assert store.need("need_1")["committed"] == "4.00"

    assert store.sweep_pending_holds(older_than_ms=0) == 1
    assert store.need("need_1")["committed"] == "0.00"
    assert store.sweep_pending_holds(older_than_ms=0) == 0  # once


def test_a_hold_whose_answer_was_lost_but_commitment_stored_stays(redis_client):
    store = ResourcesStore(redis_client)
    add_pool(store)
    raise_need(store, "need_2")
    commit(store, "kept", quantity="3.00", need_id="need_2")
    redis_client.zadd("resources:need-holds:pending", {"need_2|cmt_kept": 0})  # answer lost
    assert store.sweep_pending_holds(older_than_ms=0) == 0
    assert store.need("need_2")["committed"] == "3.00"
