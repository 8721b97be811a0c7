"""What the use cases share: a record or the problem its absence is, what a record's access
depends on (who serves in a village, where a cadre serves), and the refusal of another
township's village. A create's answer is `services/common/use_cases.created`."""
from __future__ import annotations

from collections.abc import Callable

from services.assignment import access
from services.assignment.store import AssignmentStore
from services.common.contract.principals import Principal
from services.common.contract.problems import (
    Problem,
    forbidden,
    invalid,
    not_found,
    record_for,
)

Rule = Callable[[Principal, dict], bool]  # an access.py rule on one record
# an access.py rule on a village and who serves there (reads_village, reports_problem)
VillageRule = Callable[[Principal, dict, access.Serving], bool]


def not_own_village(township: Principal) -> Problem:
    """A township asked for another township's village."""
    return forbidden(township, "read another township's villages")


def village_named_in_body(store: AssignmentStore, code: str) -> dict:
    """A village a request names: one not registered is the request's fault (422)."""
    village = store.get("village", code)
    if village is None:
        raise invalid(f"village {code} is not registered", ["body", "village_code"],
                      type="unknown-village")
    return village


def village(store: AssignmentStore, principal: Principal, code: str,
            may: VillageRule | None = None, doing: str = "") -> dict:
    """A village a path names: 404 when not registered. Another township's is refused on its
    code before it is looked up, so the 403 is the same whether it exists or not. `may`: what
    the caller asks of the village's records (`access.reads_village`, ...), refused 403 as
    `doing`; who serves there is read only if the rule comes to it."""
    if not access.reads_directory_village(principal, code):
        raise not_own_village(principal)
    found = store.get("village", code)
    if found is None:
        raise not_found("village", code)
    if may is not None and not may(principal, found, lambda: serving_departments(store, code)):
        raise forbidden(principal, doing)
    return found


# The records an id names, if the caller may do with them what it asks (by default, read
# them); one it may not see is answered as an unknown id is (`record_for`).

def cadre(store: AssignmentStore, principal: Principal, cadre_id: str,
          may: Rule | None = None, doing: str = "", unknown: Problem | None = None) -> dict:
    """`unknown`: the answer to an unknown id, if not 404 (a cadre a body names)."""
    return record_for(
        principal, store.cadre(cadre_id), unknown or not_found("cadre", cadre_id),
        lambda who, cadre: access.reads_cadre(
            who, cadre, lambda: serving_townships(store, cadre_id)),
        may, doing)


def assignment(store: AssignmentStore, principal: Principal, assignment_id: str,
               may: Rule | None = None, doing: str = "") -> dict:
    return record_for(
        principal, store.assignment(assignment_id), not_found("assignment", assignment_id),
        lambda who, assignment: access.sees_assignment(
            who, assignment, lambda: serving_departments(store, assignment["village_code"])),
        may, doing)


def problem(store: AssignmentStore, principal: Principal, problem_id: str,
            may: Rule | None = None, doing: str = "") -> dict:
    """A problem is seen by whoever reads its village's ledger."""
    return record_for(
        principal, store.problem(problem_id), not_found("problem", problem_id),
        lambda who, problem: access.reads_village(
            who, problem, lambda: serving_departments(store, problem["village_code"])),
        may, doing)


def inspection(store: AssignmentStore, principal: Principal, inspection_id: str,
               may: Rule | None = None, doing: str = "") -> dict:
    """A planned inspection is seen by inspectors and the county only: to anyone else it is
    an id that does not exist."""
    return record_for(principal, store.inspection(inspection_id),
                      not_found("inspection", inspection_id), access.sees_inspection, may, doing)


def serving_departments(store: AssignmentStore, village_code: str) -> set[str]:
    """The departments with a cadre actively assigned to the village."""
    return {a["department_code"] for a in store.active_assignments(village_code)}


def serving_townships(store: AssignmentStore, cadre_id: str) -> set[str]:
    """The townships where the cadre is actively assigned."""
    return {a["township_code"] for a in store.active_assignments_of_cadre(cadre_id)}


def with_absences(store: AssignmentStore, assignments: list[dict]) -> list[dict]:
    """Assignments as answered: each with the inspections its cadre was absent from."""
    counts = store.absences([a["id"] for a in assignments])
    return [{**a, "inspections_absent": counts.get(a["id"], 0)} for a in assignments]

