"""A department's pool: what it adds, and what it holds per kind."""
from __future__ import annotations

from services.common.contract import events
from services.common.contract.http_bodies import PoolAddition
from services.common.contract.principals import Principal
from services.common.contract.problems import forbidden, validated
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.use_cases import Directory, created
from services.common.values.quantities import to_hundredths
from services.resources import access
from services.resources.store import ResourcesStore
from services.resources.use_cases import shared


def add_to_pool(store: ResourcesStore, directory: Directory, actor: str, department_code: str,
                body: dict, idempotency_key: str | None = None) -> dict:
    """Returns {"item": pool item, "replayed": bool}: the department's own addition, or the
    county's."""
    principal = Principal.parse(actor)
    if not access.acts_on_pool(principal, department_code):
        raise forbidden(principal, f"add to the pool of {department_code}")
    shared.department_in_path(directory, department_code)
    addition = validated(PoolAddition, body)
    event = events.make_event("resources.pool_increased", events.PoolIncreased(
        department_code=department_code, kind=addition.kind, unit=addition.unit,
        quantity=addition.quantity, note=addition.note))
    outcome = store.add_to_pool(department_code, addition.kind, addition.unit,
                                to_hundredths(addition.amount), event,
                                IdempotentRequest.of(body, idempotency_key))
    if outcome.name == "unit-mismatch":
        raise shared.unit_mismatch(addition.kind, outcome.detail)
    balance, replayed = created(outcome)
    return {"item": balance.as_dict(department_code), "replayed": replayed}


def get_pool(store: ResourcesStore, directory: Directory, actor: str,
             department_code: str) -> dict:
    principal = Principal.parse(actor)
    if not access.reads_pool(principal, department_code):
        raise forbidden(principal, f"read the pool of {department_code}")
    shared.department_in_path(directory, department_code)
    return {"items": [balance.as_dict(department_code)
                      for balance in store.pool(department_code)]}
