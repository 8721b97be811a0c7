"""How the relay makes one batch of the heads of many outboxes."""
from services.common.messaging.outbox import BATCH, MAX_BATCH, _batch


def test_a_batch_takes_every_head_while_it_fits():
    batch, more = _batch([("a", ["a1", "a2"]), ("b", []), ("c", ["c1"])])
    assert batch == [("a", ["a1", "a2"]), ("c", ["c1"])]
    assert more == []


def test_a_full_head_is_looked_at_again():
    full = [f"x{n}" for n in range(BATCH)]
    batch, more = _batch([("x", full), ("y", ["y1"])])
    assert batch == [("x", full), ("y", ["y1"])]
    assert more == ["x"]


def test_a_batch_stops_at_its_limit_and_names_what_it_left():
    heads = [(f"o{n}", [f"o{n}-{m}" for m in range(BATCH)]) for n in range(MAX_BATCH // BATCH + 2)]
    batch, more = _batch(heads)
    assert sum(len(entries) for _, entries in batch) == MAX_BATCH
    assert [key for key, _ in batch] == [f"o{n}" for n in range(MAX_BATCH // BATCH)]
    assert more == [key for key, _ in heads]  # all full, or not taken at all
