"""RPC entrypoints of unannounced inspections (暗访暗查), mixed into AssignmentService.

A planned inspection leaks nowhere: it publishes no event, enters no index a township or
department reads, and whoever may not see it gets exactly the answer an unknown id gets.
Filing the report is the moment it becomes known: then its township is notified.
"""
from __future__ import annotations

from services.assignment import access
from services.assignment.domain import unknown_cadres
from services.assignment.store import (
    INSPECTIONS,
    AssignmentStore,
    township_inspections_key,
    village_inspections_key,
)
from services.common.contract import events
from services.common.contract.events import utc_now
from services.common.contract.http_bodies import InspectionIn, InspectionReport
from services.common.contract.paging import page, parse_limit
from services.common.contract.principals import Principal
from services.common.contract.problems import Problem, conflict, invalid, validated
from services.common.messaging.rpc_server import rpc
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.values.ids import new_id

ALL_INSPECTIONS = "assignment:inspections:all"


def no_such_inspection(inspection_id: str) -> Problem:
    # The one answer for "does not exist" and "exists, but not for you".
    return Problem(404, "not-found", f"inspection {inspection_id!r} does not exist")


class InspectionsRpc:
    store: AssignmentStore

    @rpc
    def plan_inspection(self, actor: str, body: dict,
                        idempotency_key: str | None = None) -> dict:
        principal = Principal.parse(actor)
        if not access.reads_everything(principal):
            raise Problem(403, "forbidden", f"{principal} may not plan inspections")
        request = validated(InspectionIn, body)
        village = self.store.get("village", request.village_code)
        if village is None:
            raise invalid(f"village {request.village_code} is not registered",
                          ["body", "village_code"], type="unknown-village")
        inspection = {"id": new_id("isp"), "status": "planned",
                      "village_code": village["code"], "township_code": village["township_code"],
                      "planned_for": request.planned_for.isoformat(), "planned_by": actor,
                      "created_at": utc_now(), "report": None, "filed_at": None}
        stored, replayed = self.store.create(
            INSPECTIONS, inspection,
            [ALL_INSPECTIONS, village_inspections_key(village["code"], filed_only=False)],
            None, f"inspection:{actor}", IdempotentRequest.of(body, idempotency_key))
        return {"inspection": stored, "replayed": replayed}

    @rpc
    def file_report(self, actor: str, inspection_id: str, body: dict) -> dict:
        principal = Principal.parse(actor)
        if not access.reads_everything(principal):
            raise no_such_inspection(inspection_id)
        request = validated(InspectionReport, body)
        inspection = self.store.record(INSPECTIONS, inspection_id)
        if inspection is None:
            raise no_such_inspection(inspection_id)
        if inspection["status"] == "filed":
            raise conflict("inspection-filed", f"inspection {inspection_id} was filed; "
                                               "a filed report cannot change")
        team = {a["cadre_id"]: a for a in self.store.active_assignments(
            inspection["village_code"])}
        named = [*request.cadres_present, *request.cadres_absent]
        strangers = unknown_cadres(named, team)
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
        absent_assignments = [team[cadre]["id"] for cadre in request.cadres_absent]
        outcome = self.store.transition(
            INSPECTIONS, inspection_id, "planned", filed, event,
            add_to=(village_inspections_key(inspection["village_code"], filed_only=True),
                    township_inspections_key(inspection["township_code"])),
            absences=absent_assignments)
        if outcome == "wrong-status":
            raise conflict("inspection-filed", f"inspection {inspection_id} was filed; "
                                               "a filed report cannot change")
        return filed

    @rpc
    def get_inspection(self, actor: str, inspection_id: str) -> dict:
        principal = Principal.parse(actor)
        inspection = self.store.record(INSPECTIONS, inspection_id)
        if inspection is None or not access.sees_inspection(principal, inspection):
            raise no_such_inspection(inspection_id)
        return inspection

    @rpc
    def list_inspections(self, actor: str, village: str | None = None, after=None,
                         limit=None) -> dict:
        principal = Principal.parse(actor)
        limit = parse_limit(limit)
        if access.reads_everything(principal):
            index = (village_inspections_key(village, filed_only=False) if village
                     else ALL_INSPECTIONS)
        elif principal.kind == "township":
            if village is not None and not village.startswith(principal.code):
                raise Problem(403, "forbidden", "a township reads only its own villages")
            index = (village_inspections_key(village, filed_only=True) if village
                     else township_inspections_key(principal.code))
        else:
            raise Problem(403, "forbidden", f"{principal} may not list inspections")
        items, next_cursor = self.store.page(INSPECTIONS, index, after, limit)
        return page(items, next_cursor)
