"""The problems ledger (问题清单): what a village's township, county or serving departments
report, and its township resolves."""
from __future__ import annotations

from services.assignment import access
from services.assignment.store import AssignmentStore
from services.assignment.use_cases import shared
from services.common.contract import events
from services.common.contract.events import utc_now
from services.common.contract.http_bodies import PROBLEM_STATUSES, ProblemIn, ResolveProblem
from services.common.contract.paging import page, parse_limit
from services.common.contract.principals import Principal
from services.common.contract.problems import (
    conflict,
    invalid,
    not_found,
    validated,
)
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.use_cases import created
from services.common.values.ids import new_id


def report_problem(store: AssignmentStore, actor: str, village_code: str, body: dict,
                   idempotency_key: str | None = None) -> dict:
    """An Idempotency-Key repeats for the same reporter in the same village: the same key and
    body for another village report a problem there."""
    principal = Principal.parse(actor)
    request = validated(ProblemIn, body)  # first, as the gateway does
    village = shared.village(store, principal, village_code, access.reports_problem,
                             f"report problems in {village_code}")
    problem = {"id": new_id("prb"), "status": "open", "village_code": village_code,
               "township_code": village["township_code"], **request.model_dump(),
               "reported_by": actor, "reported_at": utc_now(), "resolution": None,
               "resolved_by": None, "resolved_at": None}
    event = events.make_event("assignment.problem_reported", events.ProblemReported(
        id=problem["id"], village_code=village_code, township_code=village["township_code"],
        category=request.category, title=request.title, reported_by=actor),
        township_code=village["township_code"], village_code=village_code)
    stored, replayed = created(store.add_problem(
        problem, event, IdempotentRequest.of(body, idempotency_key)))
    return {"problem": stored, "replayed": replayed}


def list_problems(store: AssignmentStore, actor: str, village_code: str,
                  status: str | None = None, after: str | None = None, limit=None) -> dict:
    principal = Principal.parse(actor)
    shared.village(store, principal, village_code, access.reads_village,
                   f"read the problems of {village_code}")
    if status not in (None, "", *PROBLEM_STATUSES):
        raise invalid("status is open or resolved", ["query", "status"])
    items, next_cursor = store.problems_of_village(village_code, status or None, after,
                                                   parse_limit(limit))
    return page(items, next_cursor)


def resolve_problem(store: AssignmentStore, actor: str, problem_id: str, body: dict) -> dict:
    """The village's township (or the county) resolves an open problem, once."""
    principal = Principal.parse(actor)
    request = validated(ResolveProblem, body)
    problem = shared.problem(store, principal, problem_id, access.resolves_problem,
                             "resolve this problem")
    resolved = {**problem, "status": "resolved", "resolution": request.resolution,
                "resolved_by": actor, "resolved_at": utc_now()}
    event = events.make_event(
        "assignment.problem_resolved", events.ProblemResolved.of(resolved),
        township_code=problem["township_code"], village_code=problem["village_code"])
    outcome = store.resolve_problem(resolved, event)
    if outcome.name == "wrong-status":
        raise conflict("problem-already-resolved", f"problem {problem_id} is resolved")
    if outcome.name == "not-found":
        raise not_found("problem", problem_id)
    return outcome.record
