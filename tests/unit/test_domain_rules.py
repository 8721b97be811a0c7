"""Rules that hold without anything running: principals, codes, problems."""
import pytest
from nameko.exceptions import deserialize, serialize

from services.common.contract.principals import Principal
from services.common.contract.problems import Problem
from services.common.values.fingerprints import request_fingerprint
from services.gateway.access import (
    any_of,
    department_in_body,
    department_in_path,
    inspector,
)


def test_fingerprint_ignores_key_order_but_not_values():
    assert request_fingerprint({"a": 1, "b": "二"}) == request_fingerprint({"b": "二", "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


@pytest.mark.parametrize("text, kind, code", [
    ("admin", "admin", None), ("department:agri", "department", "agri"),
    ("township:610581100", "township", "610581100"),
    ("inspector:省督查组", "inspector", "省督查组"),
])
def test_principals_parse_and_print_back(text, kind, code):
    principal = Principal.parse(text)
    assert (principal.kind, principal.code) == (kind, code)
    assert str(principal) == text


def test_access_rules_follow_the_contract():
    admin, agri, water = (Principal.parse(p) for p in ("admin", "department:agri",
                                                        "department:water"))
    township = Principal.parse("township:610581100")
    path = {"code": "agri"}
    assert department_in_path(agri, path, None) and department_in_path(admin, path, None)
    assert not department_in_path(water, path, None)

    class Body:
        department_code = "agri"

    assert department_in_body(agri, {}, Body()) and not department_in_body(water, {}, Body())
    own_pool = any_of(department_in_path, inspector)
    assert own_pool(agri, path, None) and own_pool(Principal.parse("inspector:x"), path, None)
    assert not own_pool(water, path, None)
    assert not own_pool(township, path, None)


def test_problem_survives_an_rpc_hop_as_itself():
    problem = Problem(409, "insufficient-pool", "only 3 left", extra={"available": "3.00"})
    back = deserialize(serialize(problem))
    assert isinstance(back, Problem)
    assert back.to_dict() == problem.to_dict()
    assert back.to_dict()["status"] == 409
