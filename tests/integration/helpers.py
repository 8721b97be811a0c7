"""Records and writes the integration tests of the stores share: a commitment, a pool, a need."""
from __future__ import annotations

from typing import NamedTuple

from services.common.contract import events
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.storage.outcomes import Outcome
from services.resources.store import ResourcesStore

VILLAGE, TOWNSHIP = "610581100201", "610581100"


def commitment(n, quantity="1.00", need_id=None) -> dict:
    return {"id": f"cmt_{n}", "status": "committed", "department_code": "agri",
            "village_code": VILLAGE, "township_code": TOWNSHIP, "kind": "cement",
            "unit": "吨", "quantity": quantity, "need_id": need_id, "note": None,
            "created_at": "2026-11-26T00:00:00.000Z"}


class Committed(NamedTuple):
    outcome: Outcome
    event: events.Envelope


def commit(store: ResourcesStore, n, key=None, quantity="1.00", fingerprint=None,
           need_id=None) -> Committed:
    """`cmt_{n}` committed through the store, with its event: (outcome, event)."""
    record = commitment(n, quantity, need_id)
    event = events.make_event("resources.commitment_created", events.CommitmentCreated(**record),
                              township_code=TOWNSHIP, village_code=VILLAGE)
    outcome = store.commit(record, int(float(quantity) * 100), event,
                           IdempotentRequest(key, fingerprint or f"fp-{n}"))
    return Committed(outcome, event)


def add_pool(store: ResourcesStore, quantity=2000, unit="吨", key=None, fingerprint="fp"):
    event = events.make_event("resources.pool_increased", events.PoolIncreased(
        department_code="agri", kind="cement", unit=unit, quantity="20.00"))
    return store.add_to_pool("agri", "cement", unit, quantity, event,
                             IdempotentRequest(key, fingerprint))


def raise_need(store: ResourcesStore, need_id="need_1", requested=1000, purpose="路", key=None,
               fingerprint="fp") -> Outcome:
    need = {"id": need_id, "village_code": VILLAGE, "township_code": TOWNSHIP, "hardship": 3,
            "kind": "cement", "unit": "吨", "category": "economy", "purpose": purpose,
            "raised_by": "admin", "created_at": "2026-11-26T00:00:00Z"}
    event = events.make_event("resources.need_raised",
                              events.NeedRaised.of(need, requested="10.00"),
                              township_code=TOWNSHIP, village_code=VILLAGE)
    return store.raise_need(need, requested, event, IdempotentRequest(key, fingerprint),
                            scope="admin")


def need(store: ResourcesStore, need_id: str) -> dict:
    """A need of the village, as its list shows it."""
    [found] = [n for n in store.needs_of_village(VILLAGE) if n["id"] == need_id]
    return found
