"""Who may see and do what in the programme (CONTRACT §2), decided on the records involved.

Pure functions of a principal and records; the service raises the problems. An unannounced
inspection is special: whoever may not see it gets the very answer an unknown id gets.
"""
from __future__ import annotations

from services.common.contract.principals import Principal


def reads_everything(principal: Principal) -> bool:
    return principal.is_admin or principal.kind == "inspector"


def manages_cadre(principal: Principal, cadre: dict) -> bool:
    """Admin, or the cadre's own department: register, assign, end, log work."""
    return principal.is_admin or principal.is_department(cadre["department_code"])


def sees_phone(principal: Principal, cadre: dict) -> bool:
    return manages_cadre(principal, cadre)


def reads_village(principal: Principal, village: dict, serving_departments: set[str]) -> bool:
    """Team, problems and work of a village: its township, departments serving there, and
    those who read everything."""
    return (reads_everything(principal)
            or principal.is_township(village["township_code"])
            or (principal.kind == "department" and principal.code in serving_departments))


def reports_problem(principal: Principal, village: dict, serving_departments: set[str]) -> bool:
    return (principal.is_admin or principal.is_township(village["township_code"])
            or (principal.kind == "department" and principal.code in serving_departments))


def resolves_problem(principal: Principal, problem: dict) -> bool:
    return principal.is_admin or principal.is_township(problem["township_code"])


def reads_cadre(principal: Principal, cadre: dict, serving_townships: set[str]) -> bool:
    return (reads_everything(principal) or manages_cadre(principal, cadre)
            or (principal.kind == "township" and principal.code in serving_townships))


def sees_inspection(principal: Principal, inspection: dict) -> bool:
    """Planned inspections are for inspectors and admin only; a filed one is also its
    township's."""
    if reads_everything(principal):
        return True
    return inspection["status"] == "filed" and principal.is_township(inspection["township_code"])
