"""Who may do what (services/assignment/access.py), built on the shared rules."""
import pytest

from services.assignment import access
from services.common.contract.principals import Principal

T1, T2 = "610581100", "610581101"
VILLAGE = {"code": f"{T1}201", "township_code": T1}
CADRE = {"department_code": "agri"}
ADMIN, INSPECTOR = Principal.parse("admin"), Principal.parse("inspector:省督查组")
AGRI, WATER = Principal.parse("department:agri"), Principal.parse("department:water")
OWN, OTHER = Principal.parse(f"township:{T1}"), Principal.parse(f"township:{T2}")
EVERYONE = (ADMIN, INSPECTOR, AGRI, WATER, OWN, OTHER)


def who(rule) -> set[str]:
    return {str(p) for p in EVERYONE if rule(p)}


@pytest.mark.parametrize("rule, allowed", [
    (lambda p: access.manages_cadre(p, CADRE), {ADMIN, AGRI}),
    (lambda p: access.reads_cadre(p, CADRE, lambda: {T1}), {ADMIN, INSPECTOR, AGRI, OWN}),
    (lambda p: access.reads_cadre(p, CADRE, set), {ADMIN, INSPECTOR, AGRI}),
    (lambda p: access.reads_village(p, VILLAGE, lambda: {"water"}), {ADMIN, INSPECTOR, WATER, OWN}),
    (lambda p: access.reports_problem(p, VILLAGE, lambda: {"water"}), {ADMIN, WATER, OWN}),
    (lambda p: access.resolves_problem(p, VILLAGE), {ADMIN, OWN}),
    (lambda p: access.plans_inspections(p), {ADMIN, INSPECTOR}),
    (lambda p: access.sees_inspection(p, {"status": "planned", "township_code": T1}),
     {ADMIN, INSPECTOR}),
    (lambda p: access.sees_inspection(p, {"status": "filed", "township_code": T1}),
     {ADMIN, INSPECTOR, OWN}),
    (lambda p: access.reads_directory_village(p, VILLAGE["code"]),
     {ADMIN, INSPECTOR, AGRI, WATER, OWN}),
    (lambda p: access.lists_cadres(p, "agri"), {ADMIN, INSPECTOR, AGRI}),
], ids=["manages_cadre", "reads_cadre_serving", "reads_cadre_idle", "reads_village",
        "reports_problem", "resolves_problem", "plans_inspections", "sees_planned",
        "sees_filed", "reads_directory_village", "lists_cadres"])
def test_who_may(rule, allowed):
    assert who(rule) == {str(p) for p in allowed}


def test_who_serves_where_is_asked_only_when_nothing_else_decides():
    def unasked():
        raise AssertionError("the store was asked who serves")

    for principal in (ADMIN, INSPECTOR, OWN):
        assert access.reads_village(principal, VILLAGE, unasked)
    for principal in (ADMIN, INSPECTOR, AGRI):
        assert access.reads_cadre(principal, CADRE, unasked)
    assert access.reports_problem(OWN, VILLAGE, unasked)
    assert not access.reports_problem(INSPECTOR, VILLAGE, unasked)
    assert not access.reads_cadre(WATER, CADRE, unasked)  # no department reads it by serving
    assert not access.reads_village(OTHER, VILLAGE, unasked)  # nor a township by serving
