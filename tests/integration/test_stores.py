"""The services' atomic writes, against the real Redis, with many concurrent writers."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.common.contract import events
from services.common.contract.problems import Problem
from services.common.storage.directory_projection import DirectoryProjection
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
