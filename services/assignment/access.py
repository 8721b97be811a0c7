"""Who may see and do what in the programme (CONTRACT §2), decided on the records involved.

Pure functions of a principal and records (who serves where, read from the store, comes as a
`Serving` asked last, only when nothing else has decided), built on the shared rules of
`contract/principals.py` (who reads everything, a township's own villages, acting for a
township or a department); the use cases raise the problems. Whoever may not see a record
(a cadre, an assignment, a problem, an unannounced inspection) gets the very answer an unknown
id gets (`problems.record_for`); 403 is for a record the caller sees.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from services.common.contract.codes import township_of_village_code
from services.common.contract.principals import (
    Principal,
    acts_for_department,
    acts_for_township,
    reads_everything,
    reads_township,
    reads_unless_another_township,
)

# Who serves where now (the departments serving in a village, the townships a cadre serves
# in): asked of the store only when a rule comes to it, after every rule that needs no store.
Serving = Callable[[], Iterable[str]]

# --- the directory ----------------------------------------------------------------------------


def reads_directory_township(principal: Principal, township_code: str) -> bool:
    """Townships, villages and departments are open to every key, but a township's key sees
    its own township and villages only."""
    return reads_unless_another_township(principal, township_code)


def reads_directory_village(principal: Principal, village_code: str) -> bool:
    return reads_directory_township(principal, township_of_village_code(village_code))


# --- cadres and assignments -------------------------------------------------------------------


def manages_cadre(principal: Principal, cadre: dict) -> bool:
    """Admin, or the cadre's own department: register, assign, end, log work (`cadre` is the
    cadre or one of its assignments)."""
    return acts_for_department(principal, cadre["department_code"])


def sees_phone(principal: Principal, cadre: dict) -> bool:
    return manages_cadre(principal, cadre)


def lists_cadres(principal: Principal, department_code: str | None) -> bool:
    return reads_everything(principal) or principal.is_department(department_code)


def reads_cadre(principal: Principal, cadre: dict, serving_townships: Serving) -> bool:
    """Its department, those who read everything, and the townships it serves in now."""
    return (reads_everything(principal) or manages_cadre(principal, cadre)
            or (principal.kind == "township"
                and any(principal.is_township(code) for code in serving_townships())))


def reads_cadre_history(principal: Principal, cadre: dict) -> bool:
    return reads_everything(principal) or manages_cadre(principal, cadre)


def sees_assignment(principal: Principal, assignment: dict,
                    serving_departments: Serving) -> bool:
    """Its cadre's department, and whoever reads its village's team."""
    return (manages_cadre(principal, assignment)
            or reads_village(principal, assignment, serving_departments))


def _serves_in(principal: Principal, serving_departments: Serving) -> bool:
    return (principal.kind == "department"
            and any(principal.is_department(code) for code in serving_departments()))


def reads_village(principal: Principal, village: dict, serving_departments: Serving) -> bool:
    """Team, problems and work of a village: its township, the departments serving there now,
    and those who read everything."""
    return (reads_township(principal, village["township_code"])
            or _serves_in(principal, serving_departments))


# --- the problems ledger ----------------------------------------------------------------------


def reports_problem(principal: Principal, village: dict, serving_departments: Serving) -> bool:
    """The village's township, the county, and the departments serving there (not inspectors)."""
    return (acts_for_township(principal, village["township_code"])
            or _serves_in(principal, serving_departments))


def resolves_problem(principal: Principal, problem: dict) -> bool:
    return acts_for_township(principal, problem["township_code"])


# --- inspections ------------------------------------------------------------------------------


def plans_inspections(principal: Principal) -> bool:
    """Inspection teams and the county plan inspections and file their reports."""
    return reads_everything(principal)


def sees_inspection(principal: Principal, inspection: dict) -> bool:
    """Planned inspections are for inspectors and admin only; a filed one is also its
    township's."""
    if reads_everything(principal):
        return True
    return inspection["status"] == "filed" and reads_township(principal,
                                                              inspection["township_code"])
