"""Unannounced inspections (暗访暗查).

A planned inspection leaks nowhere: it publishes no event, enters no index a township or
department reads, and whoever may not see it gets exactly the answer an unknown id gets.
Filing the report is the moment it becomes known: then its township is notified.
"""
from __future__ import annotations

from services.assignment import access
from services.assignment.domain import unknown_cadres
from services.assignment.store import AssignmentStore
from services.assignment.use_cases import shared
from services.common.contract import events
from services.common.contract.events import utc_now
from services.common.contract.http_bodies import InspectionIn, InspectionReport
from services.common.contract.paging import page, parse_limit
from services.common.contract.principals import Principal
from services.common.contract.problems import (
    conflict,
    forbidden,
    invalid,
    not_found,
    validated,
)
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.use_cases import created
from services.common.values.ids import new_id


def plan_inspection(store: AssignmentStore, actor: str, body: dict,
                    idempotency_key: str | None = None) -> dict:
    principal = Principal.parse(actor)
    if not access.plans_inspections(principal):
        raise forbidden(principal, "plan inspections")
    request = validated(InspectionIn, body)
    village = shared.village_named_in_body(store, request.village_code)
    inspection = {"id": new_id("isp"), "status": "planned",
                  "village_code": village["code"], "township_code": village["township_code"],
                  "planned_for": request.planned_for.isoformat(), "planned_by": actor,
                  "created_at": utc_now(), "report": None, "filed_at": None}
    stored, replayed = created(store.add_inspection(
        inspection, IdempotentRequest.of(body, idempotency_key)))
    return {"inspection": stored, "replayed": replayed}


def file_report(store: AssignmentStore, actor: str, inspection_id: str, body: dict) -> dict:
    """The report names cadres serving in the village, present or absent; each absence counts
    against the cadre's assignment. A filed report cannot change (the store refuses it)."""
    request = validated(InspectionReport, body)
    inspection = shared.inspection(store, Principal.parse(actor), inspection_id,
                                   lambda who, _: access.plans_inspections(who),
                                   "file this inspection's report")
    team = {a["cadre_id"]: a for a in store.active_assignments(inspection["village_code"])}
    strangers = unknown_cadres([*request.cadres_present, *request.cadres_absent], team)
    if strangers:
        raise invalid(f"not serving in {inspection['village_code']}: "
                      f"{', '.join(strangers)}", ["body", "cadres_absent"],
                      type="unknown-cadre")
    filed_at = utc_now()
    report = request.model_dump(mode="json")
    filed = {**inspection, "status": "filed", "report": report, "filed_at": filed_at}
    event = events.make_event("assignment.inspection_filed", events.InspectionFiled(
        id=inspection_id, village_code=inspection["village_code"],
        township_code=inspection["township_code"], planned_for=inspection["planned_for"],
        filed_at=filed_at, **report),
        township_code=inspection["township_code"], village_code=inspection["village_code"])
    outcome = store.file_inspection(filed, event,
                                    [team[cadre]["id"] for cadre in request.cadres_absent])
    if outcome.name == "wrong-status":
        raise conflict("inspection-filed", f"inspection {inspection_id} was filed; "
                                           "a filed report cannot change")
    if outcome.name == "not-found":
        raise not_found("inspection", inspection_id)
    return outcome.record


def get_inspection(store: AssignmentStore, actor: str, inspection_id: str) -> dict:
    return shared.inspection(store, Principal.parse(actor), inspection_id)


def list_inspections(store: AssignmentStore, actor: str, village: str | None = None,
                     after: str | None = None, limit=None) -> dict:
    """Inspectors and the county list every inspection (or a village's); a township lists the
    filed ones of its own villages; nobody else lists any."""
    principal = Principal.parse(actor)
    limit = parse_limit(limit)
    if access.plans_inspections(principal):
        items, next_cursor = (store.all_inspections(after, limit) if village is None
                              else store.village_inspections(village, False, after, limit))
    elif principal.kind == "township":
        if village is None:
            items, next_cursor = store.township_filed_inspections(principal.code, after, limit)
        elif access.reads_directory_village(principal, village):
            items, next_cursor = store.village_inspections(village, True, after, limit)
        else:
            raise shared.not_own_village(principal)
    else:
        raise forbidden(principal, "list inspections")
    return page(items, next_cursor)
