"""The shared scripts of services/common against the real Redis, one row per outcome: the
relay's lock and trim (messaging/lua) and a directory projection's write (storage/lua); what
each wrote and what it left alone. And the relay's batch in its two round trips."""
import hashlib
import json
import time

import pytest

from services.common.messaging.outbox import LOCK_TTL_MS, OutboxRelay, outbox_key, wake_relay
from services.common.storage.scripts import load_script

pytestmark = pytest.mark.integration

OUTBOX = outbox_key("relaying")
LOCK = f"{OUTBOX}:relay-lock"
MINE, THEIRS = "token-mine", "token-theirs"


def sha1(entry: str) -> str:
    return hashlib.sha1(entry.encode()).hexdigest()


# --- messaging/lua/take_or_keep.lua ----------------------------------------------------------

@pytest.mark.parametrize("case, holder, held_ms, answer, after, ttl_at_least", [
    ("a free lock is taken", None, None, 1, MINE, LOCK_TTL_MS - 1000),
    ("this relay's lock is kept, its expiry renewed", MINE, 500, 1, MINE, LOCK_TTL_MS - 1000),
    ("another relay's is left to it, expiry and all", THEIRS, 500, 0, THEIRS, 1),
])
def test_take_or_keep(redis_client, case, holder, held_ms, answer, after, ttl_at_least):
    take_or_keep = load_script(redis_client, "services.common.messaging", "take_or_keep")
    if holder:
        redis_client.set(LOCK, holder, px=held_ms)

    assert take_or_keep(keys=[LOCK], args=[MINE, LOCK_TTL_MS]) == answer, case

    assert redis_client.get(LOCK) == after, case
    ttl = redis_client.pttl(LOCK)
    assert ttl_at_least <= ttl <= (LOCK_TTL_MS if answer else held_ms), case


# --- messaging/lua/trim_if_owner.lua ---------------------------------------------------------

ENTRIES = [json.dumps({"n": n}) for n in range(3)]


@pytest.mark.parametrize("case, holder, published, last, answer, left, renewed", [
    ("the published head is trimmed, the lock renewed",
     MINE, 2, ENTRIES[1], 1, ENTRIES[2:], True),
    ("every entry published: the outbox is emptied", MINE, 3, ENTRIES[2], 1, [], True),
    ("another relay holds the lock: nothing changes", THEIRS, 2, ENTRIES[1], 0, ENTRIES, False),
    ("no relay holds it (it expired): nothing changes", None, 2, ENTRIES[1], 0, ENTRIES, False),
    ("a trim sent again (the n-th is an entry never published): the outbox stays",
     MINE, 1, ENTRIES[0], 0, ENTRIES[1:], True),
    ("fewer entries left than were published: the outbox stays",
     MINE, 5, ENTRIES[2], 0, ENTRIES, True),
])
def test_trim_if_owner(redis_client, case, holder, published, last, answer, left, renewed):
    trim = load_script(redis_client, "services.common.messaging", "trim_if_owner")
    redis_client.rpush(OUTBOX, *ENTRIES)
    redis_client.rpush("other:outbox", *ENTRIES)
    if holder:
        redis_client.set(LOCK, holder, px=500)
    if case.startswith("a trim sent again"):  # the first trim of entries 0 removed them
        assert trim(keys=[OUTBOX, LOCK], args=[MINE, 1, LOCK_TTL_MS, sha1(ENTRIES[0])]) == 1

    assert trim(keys=[OUTBOX, LOCK], args=[MINE, published, LOCK_TTL_MS, sha1(last)]) == \
        answer, case

    assert redis_client.lrange(OUTBOX, 0, -1) == left, case
    assert redis_client.exists(OUTBOX) == bool(left)
    assert redis_client.get(LOCK) == holder, case  # a trim never takes the lock
    assert (redis_client.pttl(LOCK) > 500) == renewed, case
    assert redis_client.lrange("other:outbox", 0, -1) == ENTRIES  # another outbox: untouched


def test_a_relay_publishes_a_batch_of_several_outboxes_in_two_round_trips(
        redis_client, settings, round_trips):
    """A step while the lock is trusted and between full looks: every written outbox's head in
    one pipeline, then every trim in one (ScriptPipeline), whatever the number of outboxes."""
    relay = OutboxRelay("relaying")
    relay.container = type("C", (), {"config": settings.nameko_config()})()
    relay.setup()
    published = []
    relay.publisher = type("Confirmed", (), {"publish_batch": lambda _, raws: published.extend(
        raws)})()
    slots = [f"relaying:{{slot:{n}}}:outbox" for n in range(3)]
    redis_client.rpush(OUTBOX, ENTRIES[0])
    assert relay.drain_once() == 1  # takes the lock, looks at every outbox, loads the scripts
    for slot in slots:
        redis_client.rpush(slot, *ENTRIES)
        wake_relay("relaying", slot)
    relay._lock_checked = relay._last_full_look = time.monotonic()
    round_trips.clear()

    assert relay.drain_once() == 9

    assert len(round_trips) == 2
    assert published == [ENTRIES[0], *ENTRIES * 3]
    assert [redis_client.llen(key) for key in (OUTBOX, *slots)] == [0, 0, 0, 0]


# --- storage/lua/upsert_if_newer.lua ---------------------------------------------------------

DIRECTORY = "resources:directory:village"
CODE = "610581100201"


def village(revision, name="东村") -> dict:
    record = {"code": CODE, "name": name, "township_code": "610581100"}
    return record if revision is None else {**record, "revision": revision}


@pytest.mark.parametrize("case, held, revision, answer, kept", [
    ("none held: stored", None, 2, 1, "new"),
    ("an older revision held: replaced", village(1, "旧"), 2, 1, "new"),
    ("the same revision held: kept", village(2, "旧"), 2, 0, "held"),
    ("a newer revision held: kept (the event came late)", village(3, "旧"), 2, 0, "held"),
    ("one held with no revision: replaced", village(None, "旧"), 2, 1, "new"),
])
def test_upsert_if_newer(redis_client, case, held, revision, answer, kept):
    upsert = load_script(redis_client, "services.common.storage", "upsert_if_newer")
    neighbour = json.dumps(village(9) | {"code": "610581100202"}, ensure_ascii=False)
    redis_client.hset(DIRECTORY, "610581100202", neighbour)
    if held is not None:
        redis_client.hset(DIRECTORY, CODE, json.dumps(held, ensure_ascii=False))
    record = json.dumps(village(revision, "新"), ensure_ascii=False)

    assert upsert(keys=[DIRECTORY], args=[CODE, record, revision]) == answer, case

    stored = json.loads(redis_client.hget(DIRECTORY, CODE))
    assert stored == (json.loads(record) if kept == "new" else held), case
    assert redis_client.hget(DIRECTORY, "610581100202") == neighbour  # another code: untouched
