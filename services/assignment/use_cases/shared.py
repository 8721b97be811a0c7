"""What the use cases share: a record or the problem its absence is, what a record's access
depends on (who serves in a village, where a cadre serves), and the refusal of another
township's village. A create's answer is `services/common/use_cases.created`."""
from __future__ import annotations

from services.assignment.store import AssignmentStore
from services.common.contract.principals import Principal
from services.common.contract.problems import Problem, forbidden, invalid, not_found


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


def village(store: AssignmentStore, code: str) -> dict:
    """A village a path names: 404 when not registered."""
    found = store.get("village", code)
    if found is None:
        raise not_found("village", code)
    return found


def cadre(store: AssignmentStore, cadre_id: str) -> dict:
    found = store.cadre(cadre_id)
    if found is None:
        raise not_found("cadre", cadre_id)
    return found


def assignment(store: AssignmentStore, assignment_id: str) -> dict:
    found = store.assignment(assignment_id)
    if found is None:
        raise not_found("assignment", assignment_id)
    return found


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

