"""Records and writes the integration tests of the stores share: a commitment, a pool, a need."""
from __future__ import annotations

from typing import NamedTuple

from services.common.contract import events
from services.resources.store import ResourcesStore

VILLAGE, TOWNSHIP = "610581100201", "610581100"


def commitment(n, quantity="1.00", need_id=None) -> dict:
    return {"id": f"cmt_{n}", "status": "committed", "department_code": "agri",
            "village_code": VILLAGE, "township_code": TOWNSHIP, "kind": "cement",
            "unit": "吨", "quantity": quantity, "need_id": need_id, "note": None,
            "created_at": "2026-11-26T00:00:00.000Z"}


class Committed(NamedTuple):
    commitment: dict
    replayed: bool
    event: events.Envelope


def commit(store: ResourcesStore, n, key=None, quantity="1.00", fingerprint=None,
           need_id=None) -> Committed:
    """`cmt_{n}` committed through the store, with its event: (stored, replayed, event)."""
    record = commitment(n, quantity, need_id)
    event = events.make_event("resources.commitment_created", events.CommitmentCreated(**record),
                              township_code=TOWNSHIP, village_code=VILLAGE)
    stored, replayed = store.commit(record, int(float(quantity) * 100), event,
                                    fingerprint or f"fp-{n}", key)
    return Committed(stored, replayed, event)


def add_pool(store: ResourcesStore, quantity=2000):
    event = events.make_event("resources.pool_increased", events.PoolIncreased(
        department_code="agri", kind="cement", unit="吨", quantity="20.00"))
    return store.add_to_pool("agri", "cement", "吨", quantity, event, "fp", None)


def raise_need(store: ResourcesStore, need_id="need_1", requested=1000, purpose="路"):
    need = {"id": need_id, "village_code": VILLAGE, "township_code": TOWNSHIP, "hardship": 3,
            "kind": "cement", "unit": "吨", "category": "economy", "purpose": purpose,
            "raised_by": "admin", "created_at": "2026-11-26T00:00:00Z"}
    event = events.make_event("resources.need_raised", events.NeedRaised(
        **{k: need[k] for k in events.NeedRaised.model_fields if k in need},
        requested="10.00"), township_code=TOWNSHIP, village_code=VILLAGE)
    store.raise_need(need, requested, event, "fp", None, scope="admin")
