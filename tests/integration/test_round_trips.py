"""Writes batched into one pipeline: the same effects as one command at a time, in fewer
round trips to Redis, and a script Redis has lost (restart, SCRIPT FLUSH) still runs."""
import time

import pytest

from services.common.contract import events
from services.gateway.keys import ApiKeys
from services.resources.domain import totals_change
from services.resources.store import ALL_COMMITMENTS, PENDING_HOLDS, ResourcesStore, township_index
from tests.integration.helpers import TOWNSHIP, VILLAGE, add_pool, commit, need, raise_need

pytestmark = pytest.mark.integration


@pytest.fixture
def store(redis_client):
    store = ResourcesStore(redis_client)
    add_pool(store)
    return store


def project(store, event):
    envelope = events.Envelope.model_validate_json(event.model_dump_json())
    return store.project_commitment(envelope, None,
                                    totals_change(envelope.type, envelope.data))


def test_a_commitment_is_stored_with_its_lookup_in_one_round_trip(store, round_trips):
    commit(store, 0)  # Redis has the script from now on (a first run loads it)
    round_trips.clear()
    stored = commit(store, 1, quantity="2.50").outcome.record
    assert len(round_trips) == 1  # was 2: the lookup's HSET, then the script
    assert store.commitment("cmt_1") == stored
    assert store.pool("agri")[0].reserved == 350  # 1.00 + 2.50


def test_a_commitment_to_a_need_holds_it_ranks_it_and_leaves_no_pending_hold(
        store, redis_client, round_trips):
    raise_need(store)
    commit(store, 0, need_id="need_1")  # Redis has the scripts from now on
    round_trips.clear()
    commit(store, 1, need_id="need_1", quantity="4.00")
    # pending hold with the need's village, hold, rank (read, write), commit, hold settled
    assert len(round_trips) == 6  # was 9
    assert need(store, "need_1")["committed"] == "5.00"
    assert store.ranked_needs(TOWNSHIP, 0, 10)[0]["committed"] == "5.00"
    assert redis_client.zcard(PENDING_HOLDS) == 0


def test_a_keyed_commitment_to_a_need_asks_for_its_earlier_answer_in_the_same_round_trip(
        store, round_trips):
    raise_need(store)
    commit(store, 0, need_id="need_1", key="k-0")  # Redis has the scripts from now on
    round_trips.clear()
    commit(store, 1, need_id="need_1", quantity="4.00", key="k-1")
    assert len(round_trips) == 6  # was 7: the earlier answer read alone, then the commitment
    round_trips.clear()
    replayed = commit(store, 2, need_id="need_1", quantity="4.00", key="k-1", fingerprint="fp-1")
    assert replayed.outcome.name == "replay" and len(round_trips) == 2  # was 2
    assert need(store, "need_1")["committed"] == "5.00"


def test_a_commitment_the_pool_refuses_gives_its_need_hold_back(store, redis_client):
    raise_need(store, requested=5000)
    assert commit(store, 1, need_id="need_1", quantity="30.00").outcome.name == "insufficient"
    assert need(store, "need_1")["committed"] == "0.00"
    assert store.commitment("cmt_1") is None
    assert redis_client.zcard(PENDING_HOLDS) == 0


def test_a_commitment_event_is_projected_once_with_its_listing_indexes(
        store, redis_client, round_trips):
    project(store, commit(store, 0).event)  # Redis has the script from now on
    event = commit(store, 1, quantity="3.00").event
    round_trips.clear()
    assert project(store, event) is True
    assert len(round_trips) == 1  # was 3: the script, then each listing index
    assert project(store, event) is False  # redelivered: counted once
    assert store.village_totals(VILLAGE)["cement|吨|committed"] == "400"
    assert redis_client.zrange(township_index(TOWNSHIP), 0, -1) == ["cmt_0", "cmt_1"]
    assert redis_client.zrange(ALL_COMMITMENTS, 0, -1) == ["cmt_0", "cmt_1"]


def test_scripts_redis_has_lost_are_loaded_and_run(store, redis_client):
    redis_client.script_flush()
    outcome, event = commit(store, 1)
    assert store.commitment("cmt_1") == outcome.record
    assert store.pool("agri")[0].reserved == 100  # reserved once, not twice
    redis_client.script_flush()
    assert project(store, event) is True
    assert store.village_totals(VILLAGE)["cement|吨|committed"] == "100"
    assert redis_client.zrange(township_index(TOWNSHIP), 0, -1) == ["cmt_1"]


def test_authenticate_finds_the_principal_and_counts_the_request_in_one_round_trip(
        redis_client, round_trips):
    keys = ApiKeys(redis_client, "the-admin-token")
    created = keys.create("inspector:x")
    time.sleep(1 - time.time() % 1)  # the counts below fall in one one-second window
    round_trips.clear()
    assert keys.authenticate(created["key"], 2) == ("inspector:x", 0)
    assert len(round_trips) == 1  # was 2: HGET, then MULTI INCR EXPIRE EXEC
    assert keys.authenticate("the-admin-token", 2) == ("admin", 0)
    assert keys.authenticate("gbk_unknown", 2)[0] is None
    # a key, the admin's included, has 2 requests this second and is limited alike
    assert keys.authenticate(created["key"], 2) == ("inspector:x", 0)
    assert keys.authenticate(created["key"], 2) == ("inspector:x", 1)
    assert keys.authenticate("the-admin-token", 2) == ("admin", 0)
    assert keys.authenticate("the-admin-token", 2) == ("admin", 1)
    keys.revoke(created["id"])
    assert keys.authenticate(created["key"], 100)[0] is None
    assert keys.principal_of(created["key"]) is None
