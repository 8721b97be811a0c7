"""The resources store's Lua scripts against the real Redis, each outcome a script can answer
one case of its table; then the invariants under many concurrent writers, and the sweeper."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from services.common.contract import events
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.storage.outcomes import Outcome
from services.resources import store as resources_store
from services.resources.domain import PoolBalance, totals_change
from services.resources.store import (
    COMMITMENT_DEPARTMENT,
    HOLD_DEADLINE_MS,
    NEED_VILLAGE,
    PENDING_HOLDS,
    ResourcesStore,
    need_hold,
    village_index,
)
from tests.integration.helpers import VILLAGE, add_pool, commit, commitment, need, raise_need

pytestmark = pytest.mark.integration

OUTBOX = "resources:{dept:agri}:outbox"  # the department's own outbox, in its hash slot
NEED_OUTBOX = f"resources:{{village:{VILLAGE}}}:outbox"


@pytest.fixture
def store(redis_client):
    return ResourcesStore(redis_client)


def balance(store) -> PoolBalance:
    [held] = store.pool("agri")
    return held


# --- add_to_pool.lua --------------------------------------------------------------------------

@pytest.mark.parametrize("unit, key, fingerprint, outcome, pooled, events_after", [
    ("吨", None, "fp", "ok", 3000, 2),  # a second addition adds
    ("吨", "k-1", "fp", "replay", 2000, 1),  # the first answer, nothing added
    ("吨", "k-1", "another body", "reused", 2000, 1),
    ("kg", None, "fp", "unit-mismatch", 2000, 1),
])
def test_add_to_pool(store, redis_client, unit, key, fingerprint, outcome, pooled,
                     events_after):
    first = add_pool(store, 2000, key="k-1")
    assert first == Outcome("ok", PoolBalance("cement", "吨", 2000, 0, 0))
    answer = add_pool(store, 1000, unit=unit, key=key, fingerprint=fingerprint)
    assert answer.name == outcome
    if outcome == "replay":
        assert answer.record == first.record
    if outcome == "unit-mismatch":
        assert answer.detail == "吨"
    assert balance(store).pooled == pooled
    assert redis_client.llen(OUTBOX) == events_after
    assert redis_client.ttl("resources:{dept:agri}:idempotency:pool:k-1") > 60 * 60 * 23


def test_add_to_pool_keeps_exact_hundredths_far_beyond_floats(store):
    add_pool(store, 10**14 + 1)
    assert add_pool(store, 1).record.pooled == 10**14 + 2


# --- commit.lua -------------------------------------------------------------------------------

@pytest.mark.parametrize("quantity, key, fingerprint, held_ago, outcome, reserved", [
    ("8.00", None, None, None, "ok", 1800),  # exactly what is available
    ("8.01", None, None, None, "insufficient", 1000),
    ("3.00", "k-1", "fp-1", None, "replay", 1000),  # cmt_1's key and body: cmt_1 again
    ("3.00", "k-1", "another body", None, "reused", 1000),
    # its need held this long ago (ms): just in time, then too late (the sweeper may have
    # given the hold back)
    ("3.00", None, None, HOLD_DEADLINE_MS - 2000, "ok", 1300),
    ("3.00", None, None, HOLD_DEADLINE_MS + 1, "hold-expired", 1000),
])
def test_commit(store, redis_client, monkeypatch, quantity, key, fingerprint, held_ago, outcome,
                reserved):
    add_pool(store, 2000)
    add_pool(store, 200)  # the pool's counters are read, not cached: 22.00 pooled
    first = commit(store, 1, key="k-1", quantity="10.00")
    redis_client.hincrby("resources:{dept:agri}:pool:cement", "delivered", 400)
    need_id = None
    if held_ago is not None:
        need_id = raise_need(store, "need_1", requested=5000).record["id"]
        monkeypatch.setattr(resources_store, "_now_ms",
                            lambda: int(time.time() * 1000) - held_ago)
    answer = commit(store, 2, key=key, quantity=quantity, fingerprint=fingerprint,
                    need_id=need_id).outcome
    monkeypatch.undo()
    assert answer.name == outcome
    if need_id:  # held while the pool is asked: kept if stored, given back if not
        assert need(store, need_id)["committed"] == ("3.00" if outcome == "ok" else "0.00")
        assert redis_client.zcard(PENDING_HOLDS) == 0
    if outcome in ("ok", "replay"):
        expected = (first.outcome.record if outcome == "replay"
                    else commitment(2, quantity, need_id))
        assert answer.record == expected and store.commitment(expected["id"]) == expected
    if outcome == "insufficient":
        assert answer.detail == PoolBalance("cement", "吨", 2200, 1000, 400)
        assert answer.detail.available == 800
    if outcome != "ok":
        assert store.commitment("cmt_2") is None
        # nor its lookup (a replay's is cmt_2's, this attempt's new id: cmt_1's stays)
        assert redis_client.hget(COMMITMENT_DEPARTMENT, "cmt_2") is None
    assert redis_client.hget(COMMITMENT_DEPARTMENT, "cmt_1") == "agri"
    assert balance(store).reserved == reserved
    assert redis_client.llen(OUTBOX) == 2 + 1 + (outcome == "ok")


def test_commit_refuses_another_unit_and_an_empty_pool(store):
    add_pool(store, 2000)
    record = {**commitment(1), "unit": "kg"}
    event = events.make_event("resources.commitment_created",
                              events.CommitmentCreated(**record))
    mismatch = store.commit(record, 100, event, IdempotentRequest(None, "fp"))
    assert mismatch == Outcome("unit-mismatch", detail="吨")
    empty = store.commit({**commitment(2), "kind": "gravel"}, 100, event,
                         IdempotentRequest(None, "fp"))
    assert (empty.name, empty.detail.available) == ("insufficient", 0)


# --- earlier_commitment.lua (asked before a need is held) -------------------------------------

@pytest.mark.parametrize("key, fingerprint, outcome, need_committed", [
    ("k-1", "fp-1", "replay", 1000),  # the need is full: the repeat still gets cmt_1
    ("k-1", "another body", "reused", 1000),
])
def test_earlier_commitment(store, redis_client, key, fingerprint, outcome, need_committed):
    add_pool(store)
    raise_need(store, "need_1", requested=1000)
    first = commit(store, 1, key="k-1", quantity="10.00", need_id="need_1").outcome
    answer = commit(store, 2, key=key, quantity="10.00", fingerprint=fingerprint,
                    need_id="need_1").outcome
    assert answer.name == outcome
    if outcome == "replay":
        assert answer.record == first.record
    assert need(store, "need_1")["committed"] == f"{need_committed / 100:.2f}"
    assert redis_client.zcard(PENDING_HOLDS) == 0


# --- move_commitment.lua ----------------------------------------------------------------------

@pytest.mark.parametrize("steps, expected, outcome, pool", [
    ([("committed", "delivered", -300, 200)], "committed", "ok", (0, 200)),
    ([("committed", "cancelled", -300, 0)], "committed", "ok", (0, 0)),
    ([("committed", "delivered", -300, 300), ("delivered", "confirmed", 0, 0)], "delivered",
     "ok", (0, 300)),
    ([("committed", "delivered", -300, 300), ("committed", "cancelled", -300, 0)],
     "committed", "wrong-status", (0, 300)),
    ([("committed", "cancelled", -300, 0), ("delivered", "confirmed", 0, 0)], "delivered",
     "wrong-status", (0, 0)),
])
def test_move_commitment(store, redis_client, steps, expected, outcome, pool):
    add_pool(store)
    stored = commit(store, 1, quantity="3.00").outcome.record
    for from_status, to_status, reserved, delivered in steps:
        moved = {**stored, "status": to_status}
        event = events.make_event(f"resources.commitment_{to_status}",
                                  {"delivered": events.CommitmentDelivered,
                                   "confirmed": events.CommitmentConfirmed,
                                   "cancelled": events.CommitmentCancelled}[to_status](**moved))
        answer = store.move_commitment(stored, from_status, moved, event, reserved, delivered)
        if answer.name == "ok":
            stored = answer.record
    assert answer.name == outcome
    if outcome == "wrong-status":
        assert answer.record == stored and stored["status"] != expected
    held = balance(store)
    assert (held.reserved, held.delivered) == pool
    status = stored["status"]
    assert redis_client.zrange(f"resources:{{dept:agri}}:commitments:{status}", 0, -1) == [
        "cmt_1"]
    assert store.commitment("cmt_1") == stored
    assert redis_client.llen(OUTBOX) == 2 + sum(1 for s in steps) - (outcome != "ok")


def test_move_commitment_of_an_unknown_commitment(store):
    record = commitment(9)
    event = events.make_event("resources.commitment_cancelled",
                              events.CommitmentCancelled(**{**record, "status": "cancelled"}))
    answer = store.move_commitment(record, "committed", {**record, "status": "cancelled"},
                                   event, -100, 0)
    assert answer == Outcome("not-found")


# --- raise_need.lua ---------------------------------------------------------------------------

@pytest.mark.parametrize("key, fingerprint, outcome, needs", [
    (None, "fp", "ok", ["need_1", "need_2"]),
    ("k-1", "fp", "replay", ["need_1"]),
    ("k-1", "another body", "reused", ["need_1"]),
])
def test_raise_need(store, redis_client, key, fingerprint, outcome, needs):
    first = raise_need(store, "need_1", key="k-1")
    assert (first.name, first.record["status"], first.record["requested"]) == ("ok", "open",
                                                                              "10.00")
    answer = raise_need(store, "need_2", key=key, fingerprint=fingerprint)
    assert answer.name == outcome
    if outcome == "replay":
        assert answer.record == first.record
    assert [n["id"] for n in store.needs_of_village(VILLAGE)] == needs
    assert redis_client.llen(NEED_OUTBOX) == len(needs)
    assert sorted(n["id"] for n in store.ranked_needs(None, 0, 10)) == needs
    # a replayed or refused need leaves no lookup behind
    assert sorted(redis_client.hkeys(NEED_VILLAGE)) == needs


def test_a_need_stored_but_not_ranked_is_ranked_by_the_keyed_retry(store, monkeypatch):
    """Ranking fails after the need is stored: the caller is told to retry (503 at the edge),
    and its retry with the same Idempotency-Key replays the need and ranks it."""
    place = store._place

    def down(need):
        raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(store, "_place", down)
    with pytest.raises(redis.ConnectionError):
        raise_need(store, "need_1", requested=1000, key="k-1")
    assert store.ranked_needs(None, 0, 10) == []
    monkeypatch.setattr(store, "_place", place)
    answer = raise_need(store, "need_2", requested=1000, key="k-1")
    assert answer.name == "replay" and answer.record == need(store, "need_1")
    assert [n["id"] for n in store.ranked_needs(None, 0, 10)] == ["need_1"]


# --- hold_need.lua ----------------------------------------------------------------------------

def _offer(n, amount, **changes):
    return {**commitment(n, need_id="need_1"), **changes}, amount


@pytest.mark.parametrize("offer, outcome, detail, committed", [
    (_offer(1, 600), "ok", None, 1000),  # exactly what it lacks
    (_offer(0, 400), "ok", None, 400),  # cmt_0's hold again: counted once
    (_offer(1, 601), "overcommitted", (1000, 400), 400),
    (_offer(1, 100, village_code="610581100299"), "need-elsewhere", VILLAGE, 400),
    (_offer(1, 100, unit="kg"), "need-mismatch", ("cement", "吨"), 400),
    (_offer(1, 100, kind="gravel"), "need-mismatch", ("cement", "吨"), 400),
])
def test_hold_need(store, redis_client, offer, outcome, detail, committed):
    raise_need(store, "need_1", requested=1000)
    assert store.hold_need(VILLAGE, "need_1", commitment(0, need_id="need_1"), 400).name == "ok"
    record, amount = offer
    assert store.hold_need(VILLAGE, "need_1", record, amount) == Outcome(outcome, detail=detail)
    assert need(store, "need_1")["committed"] == f"{committed / 100:.2f}"
    # each commitment's hold is named by store.need_hold, once
    holds = redis_client.hgetall(f"resources:{{village:{VILLAGE}}}:need-holds")
    assert need_hold("need_1", "cmt_0") in holds and len(holds) == 1 + (committed == 1000)


@pytest.mark.parametrize("key, fingerprint", [
    ("k-2", "fp-2"),  # a new key: earlier_commitment.lua finds nothing, the need is asked
    (None, None),
])
def test_hold_need_refuses_a_new_commitment_to_a_full_need(store, redis_client, key,
                                                           fingerprint):
    add_pool(store)
    raise_need(store, "need_1", requested=1000)
    commit(store, 1, key="k-1", quantity="10.00", need_id="need_1")
    answer = commit(store, 2, key=key, quantity="10.00", fingerprint=fingerprint,
                    need_id="need_1").outcome
    assert answer.name == "overcommitted"
    assert need(store, "need_1")["committed"] == "10.00"
    assert redis_client.zcard(PENDING_HOLDS) == 0


def test_hold_need_of_an_unknown_need(store, redis_client):
    assert store.hold_need(None, "need_none", commitment(1), 100).name == "unknown-need"
    # a lookup whose need was never stored (the process died before the script): unknown too
    redis_client.hset("resources:need-village", "need_lost", VILLAGE)
    assert store.hold_need(VILLAGE, "need_lost", commitment(1), 100).name == "unknown-need"


# --- settle_need_hold.lua ---------------------------------------------------------------------

@pytest.mark.parametrize("settlements, answers, expected", [
    ([("cmt_1", 400, 400)], [True], ("10.00", "4.00", "covered")),  # delivered in full
    ([("cmt_1", 300, 300)], [True], ("9.00", "3.00", "open")),  # partly: the rest goes back
    ([("cmt_1", 0, 0)], [True], ("6.00", "0.00", "open")),  # cancelled
    ([("cmt_1", 300, 300), ("cmt_1", 300, 300), ("cmt_1", 0, 0)], [True, False, False],
     ("9.00", "3.00", "open")),  # settled once
    ([("cmt_9", 0, 0)], [False], ("10.00", "0.00", "covered")),  # no such hold
    ([("cmt_1", 400, 400), ("cmt_2", 600, 600)], [True, True], ("10.00", "10.00",
                                                                "fulfilled")),
])
def test_settle_need_hold(store, settlements, answers, expected):
    raise_need(store, "need_1", requested=1000)
    store.hold_need(VILLAGE, "need_1", commitment(1, need_id="need_1"), 400)
    store.hold_need(VILLAGE, "need_1", commitment(2, need_id="need_1"), 600)
    assert [store.settle_need_hold("need_1", *settlement) for settlement in settlements] == (
        answers)
    now = need(store, "need_1")
    assert (now["committed"], now["delivered"], now["status"]) == expected
    assert store.settle_need_hold("need_none", "cmt_1", 0, 0) is False


# --- project_commitment.lua -------------------------------------------------------------------

def _project(store, event, previous):
    envelope = events.Envelope.model_validate_json(event.model_dump_json())
    return store.project_commitment(envelope, previous, totals_change(envelope.type,
                                                                      envelope.data))


COMMITTED = {"cement|吨|committed": "300", "cement|吨|committed|agri": "300"}
DELIVERED = {"cement|吨|committed": "0", "cement|吨|delivered": "300",
             "cement|吨|committed|agri": "0", "cement|吨|delivered|agri": "300"}


@pytest.mark.parametrize("applied, answers, totals, status", [
    (["created"], [True], COMMITTED, "committed"),
    (["created", "created"], [True, False], COMMITTED, "committed"),  # redelivered
    (["created", "delivered"], [True, True], DELIVERED, "delivered"),
    (["created", "delivered", "delivered", "created"], [True, True, False, False], DELIVERED,
     "delivered"),
])
def test_project_commitment(store, redis_client, applied, answers, totals, status):
    add_pool(store)
    created = commit(store, 1, quantity="3.00")
    delivered = {**created.outcome.record, "status": "delivered", "delivered_quantity": "3.00"}
    steps = {"created": (created.event, None),
             "delivered": (events.make_event("resources.commitment_delivered",
                                             events.CommitmentDelivered(**delivered)),
                           "committed")}
    assert [_project(store, *steps[name]) for name in applied] == answers
    assert store.village_totals(VILLAGE) == totals
    assert redis_client.zrange(village_index(VILLAGE, status), 0, -1) == ["cmt_1"]
    other = {"committed": "delivered", "delivered": "committed"}[status]
    assert redis_client.zrange(village_index(VILLAGE, other), 0, -1) == []
    assert redis_client.zrange(village_index(VILLAGE), 0, -1) == ["cmt_1"]


# --- the invariants under concurrent writers, and the sweeper ---------------------------------

def test_concurrent_commitments_never_reserve_more_than_the_pool(store, redis_client):
    add_pool(store)  # 20.00 吨

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = [c.outcome.name for c in pool.map(lambda n: commit(store, n), range(50))]

    assert outcomes.count("ok") == 20
    assert outcomes.count("insufficient") == 30
    held = balance(store)
    assert (held.reserved, held.available) == (2000, 0)
    # one event per stored commitment (plus the pool's), none for a refused one
    assert redis_client.llen(OUTBOX) == 21


def test_concurrent_commitments_to_one_need_never_over_commit_it(store):
    add_pool(store, 100_000)
    raise_need(store, "need_1", requested=1000)

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = [c.outcome.name for c in pool.map(
            lambda n: commit(store, n, quantity="1.50", need_id="need_1"), range(20))]

    assert outcomes.count("ok") == 6 and outcomes.count("overcommitted") == 14
    assert need(store, "need_1")["committed"] == "9.00"
    assert balance(store).reserved == 900


def test_a_hold_whose_commitment_was_never_stored_goes_back_to_the_need(store, redis_client):
    raise_need(store, "need_1", purpose="晾晒场")
    # the process dies after holding the need for a commitment, before reserving the pool
    lost = commitment("lost", "4.00", need_id="need_1")
    redis_client.zadd(PENDING_HOLDS, {need_hold("need_1", "cmt_lost"): 0})
    store.hold_need(VILLAGE, "need_1", lost, 400)
    assert need(store, "need_1")["committed"] == "4.00"

    assert store.sweep_pending_holds(older_than_ms=0) == 1
    assert need(store, "need_1")["committed"] == "0.00"
    assert store.sweep_pending_holds(older_than_ms=0) == 0  # once


def test_a_stored_commitment_is_answered_when_its_hold_cannot_stop_pending(
        store, redis_client, monkeypatch):
    add_pool(store)
    raise_need(store, "need_1")

    def down(*keys):
        raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(redis_client, "zrem", down)
    answer = commit(store, 1, quantity="3.00", need_id="need_1").outcome
    assert answer.name == "ok" and store.commitment("cmt_1") == answer.record
    monkeypatch.undo()
    assert redis_client.zcard(PENDING_HOLDS) == 1  # the sweeper finds it stored
    assert store.sweep_pending_holds(older_than_ms=0) == 0
    assert need(store, "need_1")["committed"] == "3.00"


def test_a_commitment_stalled_while_the_sweeper_gave_its_hold_back_is_never_stored(
        store, redis_client, monkeypatch):
    """The race of a stalled process: need held, hold swept (never stored, as far as the
    sweeper can tell), the need covered by another commitment, then the reservation."""
    add_pool(store)
    raise_need(store, "need_1", requested=1000)
    stalled = [resources_store.SWEEP_AFTER_MS + 1]
    monkeypatch.setattr(resources_store, "_now_ms",
                        lambda: int(time.time() * 1000) - stalled[0])
    hold_need = store.hold_need

    def hold_then_stall(*args):
        held = hold_need(*args)
        if stalled[0]:
            stalled[0] = 0
            assert store.sweep_pending_holds() == 1
            assert commit(store, "other", quantity="10.00", need_id="need_1").outcome.name == "ok"
        return held

    monkeypatch.setattr(store, "hold_need", hold_then_stall)
    answer = commit(store, "stalled", quantity="6.00", need_id="need_1").outcome
    assert answer.name == "hold-expired"
    assert store.commitment("cmt_stalled") is None
    assert need(store, "need_1")["committed"] == "10.00"  # its requested, not 16.00
    assert balance(store).reserved == 1000
    assert redis_client.zcard(PENDING_HOLDS) == 0


def test_a_hold_whose_answer_was_lost_but_commitment_stored_stays(store, redis_client):
    add_pool(store)
    raise_need(store, "need_2")
    commit(store, "kept", quantity="3.00", need_id="need_2")
    redis_client.zadd(PENDING_HOLDS, {need_hold("need_2", "cmt_kept"): 0})  # answer lost
    assert store.sweep_pending_holds(older_than_ms=0) == 0
    assert need(store, "need_2")["committed"] == "3.00"
