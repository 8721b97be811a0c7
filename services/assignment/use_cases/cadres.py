"""Cadres (干部): registered by their department; their phone number is their department's and
the county's to see."""
from __future__ import annotations

from services.assignment import access
from services.assignment.domain import public_cadre
from services.assignment.store import AssignmentStore
from services.assignment.use_cases import shared
from services.common.contract import events
from services.common.contract.events import utc_now
from services.common.contract.http_bodies import CadreIn
from services.common.contract.paging import page, parse_limit
from services.common.contract.principals import Principal
from services.common.contract.problems import forbidden, invalid, validated
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.use_cases import created
from services.common.values.ids import new_id


def register_cadre(store: AssignmentStore, actor: str, body: dict,
                   idempotency_key: str | None = None) -> dict:
    principal = Principal.parse(actor)
    request = validated(CadreIn, body)
    if not access.manages_cadre(principal, {"department_code": request.department_code}):
        raise forbidden(principal, f"register cadres of {request.department_code}")
    if store.get("department", request.department_code) is None:
        raise invalid(f"department {request.department_code} is not registered",
                      ["body", "department_code"], type="unknown-department")
    cadre = {"id": new_id("cdr"), **request.model_dump(), "created_at": utc_now()}
    event = events.make_event("assignment.cadre_registered", events.CadreRegistered(
        id=cadre["id"], name=cadre["name"], department_code=cadre["department_code"],
        title=cadre["title"]))
    stored, replayed = created(store.add_cadre(
        cadre, event, IdempotentRequest.of(body, idempotency_key)))
    return {"cadre": public_cadre(stored, True), "replayed": replayed}


def get_cadre(store: AssignmentStore, actor: str, cadre_id: str) -> dict:
    principal = Principal.parse(actor)
    cadre = shared.cadre(store, principal, cadre_id)
    return public_cadre(cadre, access.sees_phone(principal, cadre))


def list_cadres(store: AssignmentStore, actor: str, department: str | None = None,
                after: str | None = None, limit=None) -> dict:
    """A department's cadres; a department's key lists its own when it names none."""
    principal = Principal.parse(actor)
    if principal.kind == "department":
        department = department or principal.code
    if not access.lists_cadres(principal, department):
        raise forbidden(principal, f"list the cadres of {department}" if department
                        else "list cadres")
    if department is None:
        raise invalid("name the department: ?department=<code>", ["query", "department"])
    items, next_cursor = store.cadres_of_department(department, after, parse_limit(limit))
    may_see = access.sees_phone(principal, {"department_code": department})
    return page([public_cadre(c, may_see) for c in items], next_cursor)
