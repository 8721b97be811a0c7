"""Who may see and do what with commitments, needs and villages (CONTRACT §2)."""
import pytest

from services.common.contract.principals import Principal
from services.resources import access
from tests.unit.resources.conftest import T1, T2, V1, V2

COMMITMENT = {"department_code": "agri", "township_code": T1}
CALLERS = ("admin", "inspector:x", "department:agri", "department:water", f"township:{T1}",
           f"township:{T2}")


@pytest.mark.parametrize("rule, allowed", [
    (access.sees_commitment, {"admin", "inspector:x", "department:agri", f"township:{T1}"}),
    (access.settles_commitment, {"admin", "department:agri"}),
    (access.confirms_delivery, {"admin", f"township:{T1}"}),
])
def test_a_commitment_s_rules(rule, allowed):
    assert {c for c in CALLERS if rule(Principal.parse(c), COMMITMENT)} == allowed


def test_a_village_is_read_by_all_but_other_townships_and_its_needs_raised_by_its_own():
    village = {"code": V1, "township_code": T1}
    assert {c for c in CALLERS if access.reads_village(Principal.parse(c), V1)} == (
        set(CALLERS) - {f"township:{T2}"})
    assert {c for c in CALLERS if access.raises_need(Principal.parse(c), village)} == {
        "admin", f"township:{T1}"}


@pytest.mark.parametrize("caller, village, department, allowed", [
    ("department:agri", None, None, True), ("department:agri", None, "agri", True),
    ("department:agri", None, "water", False), ("department:agri", V2, None, True),
    (f"township:{T1}", None, "agri", True), (f"township:{T1}", V1, None, True),
    (f"township:{T1}", V2, None, False), ("inspector:x", V2, "water", True),
    ("cadre:cdr_1", None, None, False),
])
def test_who_lists_which_commitments(caller, village, department, allowed):
    assert access.lists_commitments(Principal.parse(caller), village, department) is allowed


@pytest.mark.parametrize("caller, township, allowed", [
    (f"township:{T1}", T1, True), (f"township:{T1}", T2, False),
    (f"township:{T1}", None, False), ("department:agri", None, True), ("admin", T2, True),
])
def test_who_reads_which_needs(caller, township, allowed):
    assert access.reads_needs_of(Principal.parse(caller), township) is allowed


@pytest.mark.parametrize("rule, allowed", [
    (access.acts_on_pool, {"admin", "department:agri"}),
    (access.reads_pool, {"admin", "inspector:x", "department:agri"}),
])
def test_a_pool_is_its_department_s(rule, allowed):
    assert {c for c in CALLERS if rule(Principal.parse(c), "agri")} == allowed
