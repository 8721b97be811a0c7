"""RPC entrypoints of the programme: cadres, assignments, work logs and the problems ledger.

Mixed into AssignmentService. Each entrypoint receives the caller (`actor`, a principal string)
from the gateway, because who may act depends on the records involved.
"""
from __future__ import annotations

from services.assignment import access
from services.assignment.domain import public_cadre, status_after_end, work_summary
from services.assignment.store import (
    ASSIGNMENTS,
    CADRES,
    PROBLEMS,
    AssignmentStore,
    cadre_history_key,
    department_cadres_key,
    village_problems_key,
)
from services.common.contract import events
from services.common.contract.events import county_today, utc_now
from services.common.contract.http_bodies import (
    AssignmentIn,
    CadreIn,
    EndAssignment,
    ProblemIn,
    ResolveProblem,
    WorkLogIn,
)
from services.common.contract.paging import page, parse_limit
from services.common.contract.principals import Principal
from services.common.contract.problems import Problem, conflict, invalid, not_found, validated
from services.common.messaging.rpc_server import rpc
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.values.fingerprints import request_fingerprint
from services.common.values.ids import new_id


def forbidden(principal: Principal, doing: str) -> Problem:
    return Problem(403, "forbidden", f"{principal} may not {doing}")


class ProgrammeRpc:
    store: AssignmentStore

    # --- lookups shared by the entrypoints ---------------------------------------------------

    def _village(self, code: str, loc=("body", "village_code")) -> dict:
        village = self.store.get("village", code)
        if village is None:
            raise invalid(f"village {code} is not registered", list(loc), type="unknown-village")
        return village

    def _village_or_404(self, code: str) -> dict:
        village = self.store.get("village", code)
        if village is None:
            raise not_found("village", code)
        return village

    def _cadre(self, cadre_id: str) -> dict:
        cadre = self.store.record(CADRES, cadre_id)
        if cadre is None:
            raise not_found("cadre", cadre_id)
        return cadre

    def _assignment(self, assignment_id: str) -> dict:
        assignment = self.store.record(ASSIGNMENTS, assignment_id)
        if assignment is None:
            raise not_found("assignment", assignment_id)
        return assignment

    def _serving_departments(self, village_code: str) -> set[str]:
        return {a["department_code"] for a in self.store.active_assignments(village_code)}

    def _with_absences(self, assignments: list[dict]) -> list[dict]:
        counts = self.store.absences([a["id"] for a in assignments])
        return [{**a, "inspections_absent": counts.get(a["id"], 0)} for a in assignments]

    # --- cadres ------------------------------------------------------------------------------

    @rpc
    def register_cadre(self, actor: str, body: dict, idempotency_key: str | None = None) -> dict:
        principal = Principal.parse(actor)
        request = validated(CadreIn, body)
        if not access.manages_cadre(principal, {"department_code": request.department_code}):
            raise forbidden(principal, f"register cadres of {request.department_code}")
        if self.store.get("department", request.department_code) is None:
            raise invalid(f"department {request.department_code} is not registered",
                          ["body", "department_code"], type="unknown-department")
        cadre = {"id": new_id("cdr"), **request.model_dump(), "created_at": utc_now()}
        event = events.make_event("assignment.cadre_registered", events.CadreRegistered(
            id=cadre["id"], name=cadre["name"], department_code=cadre["department_code"],
            title=cadre["title"]))
        stored, replayed = self.store.create(
            CADRES, cadre, [department_cadres_key(request.department_code)], event,
            f"cadre:{request.department_code}", IdempotentRequest.of(body, idempotency_key))
        return {"cadre": public_cadre(stored, True), "replayed": replayed}

    @rpc
    def get_cadre(self, actor: str, cadre_id: str) -> dict:
        principal = Principal.parse(actor)
        cadre = self._cadre(cadre_id)
        townships = {a["township_code"] for a in self._active_of_cadre(cadre_id)}
        if not access.reads_cadre(principal, cadre, townships):
            raise forbidden(principal, "read this cadre")
        return public_cadre(cadre, access.sees_phone(principal, cadre))

    def _active_of_cadre(self, cadre_id: str) -> list[dict]:
        return self.store.active_assignments_of_cadre(cadre_id)

    @rpc
    def list_cadres(self, actor: str, department: str | None = None, after=None,
                    limit=None) -> dict:
        principal = Principal.parse(actor)
        if principal.kind == "department":
            department = department or principal.code
            if department != principal.code:
                raise forbidden(principal, f"list the cadres of {department}")
        elif not access.reads_everything(principal):
            raise forbidden(principal, "list cadres")
        if department is None:
            raise invalid("name the department: ?department=<code>", ["query", "department"])
        items, next_cursor = self.store.page(CADRES, department_cadres_key(department), after,
                                             parse_limit(limit))
        may_see = access.sees_phone(principal, {"department_code": department})
        return page([public_cadre(c, may_see) for c in items], next_cursor)

    # --- assignments -------------------------------------------------------------------------

    @rpc
    def start_assignment(self, actor: str, body: dict,
                         idempotency_key: str | None = None) -> dict:
        principal = Principal.parse(actor)
        request = validated(AssignmentIn, body)
        cadre = self.store.record(CADRES, request.cadre_id)
        if cadre is None:
            raise invalid(f"cadre {request.cadre_id} does not exist", ["body", "cadre_id"],
                          type="unknown-cadre")
        if not access.manages_cadre(principal, cadre):
            raise forbidden(principal, f"assign cadres of {cadre['department_code']}")
        village = self._village(request.village_code)
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
            events.AssignmentStarted(**{k: assignment[k] for k in
                                        events.AssignmentStarted.model_fields}),
            township_code=village["township_code"], village_code=village["code"])
        stored, replayed = self.store.start_assignment(
            assignment, event, request_fingerprint(body),
            f"{cadre['department_code']}:{idempotency_key}" if idempotency_key else None)
        return {"assignment": self._with_absences([stored])[0], "replayed": replayed}

    @rpc
    def end_assignment(self, actor: str, assignment_id: str, body: dict) -> dict:
        principal = Principal.parse(actor)
        request = validated(EndAssignment, body)
        assignment = self._assignment(assignment_id)
        if not access.manages_cadre(principal, assignment):
            raise forbidden(principal, "end this assignment")
        if assignment["status"] != "active":
            raise conflict("assignment-not-active", f"assignment {assignment_id} has already "
                                                    f"ended ({assignment['status']})")
        ended = {**assignment, "status": status_after_end(request.reason),
                 "ended_at": utc_now(), "end_reason": request.reason, "end_note": request.note}
        fields = events.AssignmentEnded.model_fields
        event = events.make_event(
            "assignment.assignment_ended",
            events.AssignmentEnded(**{k: ended[k] for k in fields if k in ended},
                                   reason=request.reason, note=request.note),
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
        stored, left_leaderless = self.store.end_assignment(ended, event, leaderless)
        return {**self._with_absences([stored])[0], "village_left_leaderless": left_leaderless}

    @rpc
    def village_team(self, actor: str, village_code: str) -> dict:
        principal = Principal.parse(actor)
        village = self._village_or_404(village_code)
        team = self.store.active_assignments(village_code)
        if not access.reads_village(principal, village, {a["department_code"] for a in team}):
            raise forbidden(principal, f"read the team of {village_code}")
        team.sort(key=lambda a: (["leader", "first_secretary", "member"].index(a["role"]),
                                 a["starts_on"]))
        return {"items": self._with_absences(team), "next": None}

    @rpc
    def cadre_assignments(self, actor: str, cadre_id: str, after=None, limit=None) -> dict:
        principal = Principal.parse(actor)
        cadre = self._cadre(cadre_id)
        if not (access.reads_everything(principal) or access.manages_cadre(principal, cadre)):
            raise forbidden(principal, "read this cadre's assignments")
        items, next_cursor = self.store.page(ASSIGNMENTS, cadre_history_key(cadre_id), after,
                                             parse_limit(limit), newest_first=True)
        return page(self._with_absences(items), next_cursor)

    # --- work logs ---------------------------------------------------------------------------

    @rpc
    def log_work(self, actor: str, assignment_id: str, body: dict,
                 idempotency_key: str | None = None) -> dict:
        principal = Principal.parse(actor)
        request = validated(WorkLogIn, body)
        assignment = self._assignment(assignment_id)
        if not access.manages_cadre(principal, assignment):
            raise forbidden(principal, "log work on this assignment")
        day = request.date.isoformat()
        if not assignment["starts_on"] <= day <= assignment["ends_on"]:
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
        stored, replayed = self.store.log_work(
            log, event, request_fingerprint(body),
            f"{assignment_id}:{idempotency_key}" if idempotency_key else None)
        return {"log": stored, "replayed": replayed}

    @rpc
    def village_work_summary(self, actor: str, village_code: str) -> dict:
        principal = Principal.parse(actor)
        village = self._village_or_404(village_code)
        if not access.reads_village(principal, village,
                                    self._serving_departments(village_code)):
            raise forbidden(principal, f"read the work of {village_code}")
        counters, days = self.store.work_counters("village", village_code)
        return {"village_code": village_code, **work_summary(counters, days)}

    @rpc
    def cadre_work_summary(self, actor: str, cadre_id: str) -> dict:
        principal = Principal.parse(actor)
        cadre = self._cadre(cadre_id)
        townships = {a["township_code"] for a in self._active_of_cadre(cadre_id)}
        if not access.reads_cadre(principal, cadre, townships):
            raise forbidden(principal, "read this cadre's work")
        counters, days = self.store.work_counters("cadre", cadre_id)
        return {"cadre_id": cadre_id, **work_summary(counters, days)}

    # --- problems ledger (问题清单) ------------------------------------------------------------

    @rpc
    def report_problem(self, actor: str, village_code: str, body: dict,
                       idempotency_key: str | None = None) -> dict:
        principal = Principal.parse(actor)
        village = self._village_or_404(village_code)
        request = validated(ProblemIn, body)
        if not access.reports_problem(principal, village,
                                      self._serving_departments(village_code)):
            raise forbidden(principal, f"report problems in {village_code}")
        problem = {"id": new_id("prb"), "status": "open", "village_code": village_code,
                   "township_code": village["township_code"], **request.model_dump(),
                   "reported_by": actor, "reported_at": utc_now(), "resolution": None,
                   "resolved_by": None, "resolved_at": None}
        event = events.make_event("assignment.problem_reported", events.ProblemReported(
            id=problem["id"], village_code=village_code, township_code=village["township_code"],
            category=request.category, title=request.title, reported_by=actor),
            township_code=village["township_code"], village_code=village_code)
        stored, replayed = self.store.create(
            PROBLEMS, problem, [village_problems_key(village_code, "open"),
                                village_problems_key(village_code, "all")],
            event, f"problem:{actor}", IdempotentRequest.of(body, idempotency_key))
        return {"problem": stored, "replayed": replayed}

    @rpc
    def list_problems(self, actor: str, village_code: str, status: str | None = None,
                      after=None, limit=None) -> dict:
        principal = Principal.parse(actor)
        village = self._village_or_404(village_code)
        if not access.reads_village(principal, village,
                                    self._serving_departments(village_code)):
            raise forbidden(principal, f"read the problems of {village_code}")
        if status not in (None, "", "open", "resolved"):
            raise invalid("status is open or resolved", ["query", "status"])
        index = village_problems_key(village_code, status or "all")
        items, next_cursor = self.store.page(PROBLEMS, index, after, parse_limit(limit))
        return page(items, next_cursor)

    @rpc
    def resolve_problem(self, actor: str, problem_id: str, body: dict) -> dict:
        principal = Principal.parse(actor)
        request = validated(ResolveProblem, body)
        problem = self.store.record(PROBLEMS, problem_id)
        if problem is None:
            raise not_found("problem", problem_id)
        if not access.resolves_problem(principal, problem):
            raise forbidden(principal, "resolve this problem")
        resolved = {**problem, "status": "resolved", "resolution": request.resolution,
                    "resolved_by": actor, "resolved_at": utc_now()}
        event = events.make_event("assignment.problem_resolved", events.ProblemResolved(
            **{k: resolved[k] for k in events.ProblemResolved.model_fields}),
            township_code=problem["township_code"], village_code=problem["village_code"])
        village = problem["village_code"]
        outcome = self.store.transition(
            PROBLEMS, problem_id, "open", resolved, event,
            add_to=(village_problems_key(village, "resolved"),),
            remove_from=(village_problems_key(village, "open"),))
        if outcome == "wrong-status":
            raise conflict("problem-already-resolved", f"problem {problem_id} is resolved")
        return resolved
