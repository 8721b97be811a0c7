"""Work logs (驻村日志): a day's work on an active assignment, counted at once in the cadre's
and the village's summaries."""
from __future__ import annotations

from services.assignment import access
from services.assignment.domain import within_term, work_summary
from services.assignment.store import AssignmentStore
from services.assignment.use_cases import shared
from services.common.contract import events
from services.common.contract.events import county_today, utc_now
from services.common.contract.http_bodies import WorkLogIn
from services.common.contract.principals import Principal
from services.common.contract.problems import conflict, invalid, validated
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.use_cases import created
from services.common.values.ids import new_id


def log_work(store: AssignmentStore, actor: str, assignment_id: str, body: dict,
             idempotency_key: str | None = None) -> dict:
    """The cadre's department logs a day within the term and not in the future; the store
    refuses an assignment no longer active."""
    principal = Principal.parse(actor)
    request = validated(WorkLogIn, body)
    assignment = shared.assignment(store, principal, assignment_id, access.manages_cadre,
                                   "log work on this assignment")
    day = request.date.isoformat()
    if not within_term(assignment, request.date):
        raise invalid(f"{day} is outside the assignment ({assignment['starts_on']} to "
                      f"{assignment['ends_on']})", ["body", "date"])
    if request.date > county_today():
        raise invalid(f"{day} is in the future", ["body", "date"])
    log = {"id": new_id("wlg"), "assignment_id": assignment_id,
           "cadre_id": assignment["cadre_id"], "village_code": assignment["village_code"],
           "date": day, "task": request.task,
           "households_visited": request.households_visited, "note": request.note,
           "created_at": utc_now()}
    event = events.make_event("assignment.work_logged", events.WorkLogged(
        id=log["id"], assignment_id=assignment_id, cadre_id=log["cadre_id"],
        department_code=assignment["department_code"], village_code=log["village_code"],
        date=day, task=request.task, households_visited=request.households_visited),
        township_code=assignment["township_code"], village_code=log["village_code"])
    outcome = store.log_work(log, event, IdempotentRequest.of(body, idempotency_key))
    if outcome.name == "not-active":
        raise conflict("assignment-not-active",
                       f"assignment {assignment_id} has ended; work is logged on an active "
                       "assignment")
    stored, replayed = created(outcome)
    return {"log": stored, "replayed": replayed}


def village_work_summary(store: AssignmentStore, actor: str, village_code: str) -> dict:
    principal = Principal.parse(actor)
    shared.village(store, principal, village_code, access.reads_village,
                   f"read the work of {village_code}")
    counters, days = store.work_counters("village", village_code)
    return {"village_code": village_code, **work_summary(counters, days)}


def cadre_work_summary(store: AssignmentStore, actor: str, cadre_id: str) -> dict:
    shared.cadre(store, Principal.parse(actor), cadre_id)
    counters, days = store.work_counters("cadre", cadre_id)
    return {"cadre_id": cadre_id, **work_summary(counters, days)}
