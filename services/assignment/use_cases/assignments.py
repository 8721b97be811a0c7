"""Assignments (挂帮): a cadre sent to a village as its leader, first secretary or a member,
for a term; ended, the assignment stays in the cadre's history."""
from __future__ import annotations

from services.assignment import access
from services.assignment.domain import status_after_end, team_order
from services.assignment.store import AssignmentStore
from services.assignment.use_cases import shared
from services.common.contract import events
from services.common.contract.events import county_today, utc_now
from services.common.contract.http_bodies import AssignmentIn, EndAssignment
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


def start_assignment(store: AssignmentStore, actor: str, body: dict,
                     idempotency_key: str | None = None) -> dict:
    """The cadre's department (or the county) assigns it; the store refuses a cadre already
    assigned for overlapping dates and a village's leader or first secretary taken."""
    principal = Principal.parse(actor)
    request = validated(AssignmentIn, body)
    cadre = shared.cadre(store, principal, request.cadre_id, access.manages_cadre,
                         "assign this cadre", unknown=invalid(
                             f"cadre {request.cadre_id} does not exist", ["body", "cadre_id"],
                             type="unknown-cadre"))
    village = shared.village_named_in_body(store, request.village_code)
    assignment = {
        "id": new_id("asg"),
        "status": "active",
        "cadre_id": cadre["id"],
        "cadre_name": cadre["name"],
        "department_code": cadre["department_code"],
        "village_code": village["code"],
        "township_code": village["township_code"],
        "role": request.role,
        "starts_on": request.starts_on.isoformat(),
        "ends_on": request.ends_on.isoformat(),
        "created_at": utc_now(),
    }
    event = events.make_event(
        "assignment.assignment_started",
        events.AssignmentStarted.of(assignment),
        township_code=village["township_code"], village_code=village["code"])
    outcome = store.start_assignment(assignment, event,
                                     IdempotentRequest.of(body, idempotency_key))
    if outcome.name == "cadre-already-assigned":
        raise conflict("cadre-already-assigned",
                       f"cadre {cadre['id']} already has an active assignment "
                       f"({outcome.detail}) whose dates overlap",
                       assignment_id=outcome.detail)
    if outcome.name == "role-taken":
        raise conflict("role-taken",
                       f"village {village['code']} already has an active {request.role} "
                       f"({outcome.detail}) for those dates",
                       assignment_id=outcome.detail)
    stored, replayed = created(outcome)
    return {"assignment": shared.with_absences(store, [stored])[0], "replayed": replayed}


def end_assignment(store: AssignmentStore, actor: str, assignment_id: str, body: dict) -> dict:
    """Ends an active assignment (completed, recalled or replaced). Ending a village's last
    leader today also tells its township the village is leaderless."""
    principal = Principal.parse(actor)
    request = validated(EndAssignment, body)
    assignment = shared.assignment(store, principal, assignment_id, access.manages_cadre,
                                   "end this assignment")
    ended = {**assignment, "status": status_after_end(request.reason),
             "ended_at": utc_now(), "end_reason": request.reason, "end_note": request.note}
    event = events.make_event(
        "assignment.assignment_ended",
        events.AssignmentEnded.of(ended, reason=request.reason, note=request.note),
        township_code=assignment["township_code"], village_code=assignment["village_code"])
    leaderless = None
    if assignment["role"] == "leader":
        leaderless = events.make_event(
            "assignment.village_leaderless",
            events.VillageLeaderless(village_code=assignment["village_code"],
                                     township_code=assignment["township_code"],
                                     ended_assignment_id=assignment_id,
                                     since=ended["ended_at"]),
            township_code=assignment["township_code"],
            village_code=assignment["village_code"])
    outcome = store.end_assignment(ended, event, leaderless, county_today().isoformat())
    if outcome.name == "not-found":
        raise not_found("assignment", assignment_id)
    if outcome.name == "not-active":
        raise conflict("assignment-not-active", f"assignment {assignment_id} has already "
                                                f"ended ({outcome.record['status']})")
    return {**shared.with_absences(store, [outcome.record])[0],
            "village_left_leaderless": outcome.name == "ok-leaderless"}


def village_team(store: AssignmentStore, actor: str, village_code: str) -> dict:
    """The village's active assignments: leader, first secretary, then members."""
    principal = Principal.parse(actor)
    village = shared.village(store, principal, village_code)
    team = store.active_assignments(village_code)
    if not access.reads_village(principal, village,
                                lambda: {a["department_code"] for a in team}):
        raise forbidden(principal, f"read the team of {village_code}")
    return page(shared.with_absences(store, sorted(team, key=team_order)), None)


def cadre_assignments(store: AssignmentStore, actor: str, cadre_id: str,
                      after: str | None = None, limit=None) -> dict:
    """A cadre's assignments, ended ones too, newest first."""
    principal = Principal.parse(actor)
    shared.cadre(store, principal, cadre_id, access.reads_cadre_history,
                 "read this cadre's assignments")
    items, next_cursor = store.assignments_of_cadre(cadre_id, after, parse_limit(limit))
    return page(shared.with_absences(store, items), next_cursor)
