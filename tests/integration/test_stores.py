"""The services' atomic writes, against the real Redis, with many concurrent writers."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.common import events
from services.common.directory import DirectoryProjection
from services.common.problems import Problem
from services.notifications.store import NotificationsStore
from services.resources.store import ResourcesStore

OUTBOX = "resources:{dept:agri}:outbox"  # the department's own outbox, in its hash slot

pytestmark = pytest.mark.integration


def commitment(n, quantity="1.00"):
    return {"id": f"cmt_{n}", "status": "committed", "department_code": "agri",
            "village_code": "610581100201", "township_code": "610581100", "kind": "cement",
            "unit": "吨", "quantity": quantity, "need_id": None, "note": None,
            "created_at": "2026-11-26T00:00:00.000Z"}


def commit(store, n, key=None, quantity="1.00", fingerprint=None):
    record = commitment(n, quantity)
    event = events.make_event("resources.commitment_created", events.CommitmentCreated(**record),
                              township_code="610581100", village_code="610581100201")
    return store.commit(record, int(float(quantity) * 100), event,
                        fingerprint or f"fp-{n}", key)


def add_pool(store, quantity=2000):
    event = events.make_event("resources.pool_increased", events.PoolIncreased(
        department_code="agri", kind="cement", unit="吨", quantity="20.00"))
    return store.add_to_pool("agri", "cement", "吨", quantity, event, "fp", None)


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
    first, replayed = commit(store, 1, key="k-1")
    assert not replayed
    again, replayed = commit(store, 2, key="k-1", fingerprint="fp-1")
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
    assert store.claim_due(60_000, 10) == [("610581100", "dlv_1")]


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


def test_a_hold_whose_commitment_was_never_stored_goes_back_to_the_need(redis_client):
    store = ResourcesStore(redis_client)
    need = {"id": "need_1", "village_code": "610581100201", "township_code": "610581100",
            "hardship": 3, "kind": "cement", "unit": "吨", "category": "economy",
            "purpose": "晾晒场", "raised_by": "admin", "created_at": "2026-11-26T00:00:00Z"}
    event = events.make_event("resources.need_raised", events.NeedRaised(
        **{k: need[k] for k in events.NeedRaised.model_fields if k in need},
        requested="10.00"), township_code="610581100", village_code="610581100201")
    store.raise_need(need, 1000, event, "fp", None, scope="admin")
    # the process dies after holding the need for a commitment, before reserving the pool
    lost = commitment("lost", "4.00") | {"need_id": "need_1"}
    redis_client.zadd("resources:need-holds:pending", {"need_1|cmt_lost": 0})
    store.hold_need("need_1", lost, 400)
    assert store.need("need_1")["committed"] == "4.00"

    assert store.sweep_pending_holds(older_than_ms=0) == 1
    assert store.need("need_1")["committed"] == "0.00"
    assert store.sweep_pending_holds(older_than_ms=0) == 0  # once


def test_a_hold_whose_answer_was_lost_but_commitment_stored_stays(redis_client):
    store = ResourcesStore(redis_client)
    add_pool(store)
    need = {"id": "need_2", "village_code": "610581100201", "township_code": "610581100",
            "hardship": 3, "kind": "cement", "unit": "吨", "category": "economy",
            "purpose": "路", "raised_by": "admin", "created_at": "2026-11-26T00:00:00Z"}
    event = events.make_event("resources.need_raised", events.NeedRaised(
        **{k: need[k] for k in events.NeedRaised.model_fields if k in need},
        requested="10.00"), township_code="610581100", village_code="610581100201")
    store.raise_need(need, 1000, event, "fp", None, scope="admin")
    stored = commitment("kept", "3.00") | {"need_id": "need_2"}
    created = events.make_event("resources.commitment_created",
                                events.CommitmentCreated(**stored),
                                township_code="610581100", village_code="610581100201")
    store.commit(stored, 300, created, "fp-kept", None)
    redis_client.zadd("resources:need-holds:pending", {"need_2|cmt_kept": 0})  # answer lost
    assert store.sweep_pending_holds(older_than_ms=0) == 0
    assert store.need("need_2")["committed"] == "3.00"
