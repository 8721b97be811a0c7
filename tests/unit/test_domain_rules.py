"""Rules that hold without anything running: principals, codes, problems."""
import pytest
from nameko.exceptions import deserialize, serialize

from services.common.contract.principals import Principal
from services.common.contract.problems import Problem, not_found, record_for, valid_code
from services.common.values.fingerprints import request_fingerprint


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


def test_problem_survives_an_rpc_hop_as_itself():
    problem = Problem(409, "insufficient-pool", "only 3 left", extra={"available": "3.00"})
    back = deserialize(serialize(problem))
    assert isinstance(back, Problem)
    assert back.to_dict() == problem.to_dict()
    assert back.to_dict()["status"] == 409


RECORD = {"id": "rec_1", "township_code": "610581100"}


def _sees(principal: Principal, record: dict) -> bool:
    return principal.is_admin or principal.is_township(record["township_code"])


def _may(principal: Principal, record: dict) -> bool:
    return principal.is_admin


@pytest.mark.parametrize("caller, record, may, answer", [
    ("admin", RECORD, _may, "record"),
    ("township:610581100", RECORD, None, "record"),  # reading: seeing is enough
    ("township:610581100", RECORD, _may, 403),  # sees it, may not do this to it
    ("township:610581101", RECORD, _may, 404),  # may not see it: as if it did not exist
    ("township:610581101", RECORD, None, 404),
    ("admin", None, _may, 404),
])
def test_a_record_a_caller_may_not_see_is_answered_as_an_unknown_one(caller, record, may,
                                                                     answer):
    unknown = not_found("record", "rec_1")
    if answer == "record":
        assert record_for(Principal.parse(caller), record, unknown, _sees, may, "act") is record
        return
    with pytest.raises(Problem) as refused:
        record_for(Principal.parse(caller), record, unknown, _sees, may, "act on it")
    if answer == 404:
        assert refused.value is unknown
    else:
        assert (refused.value.status, refused.value.type, refused.value.detail) == (
            403, "forbidden", f"{caller} may not act on it")


@pytest.mark.parametrize("kind, code, ok, rule", [
    ("township", "610581100", True, "a township code is 9 digits"),
    ("township", "61058110", False, "a township code is 9 digits"),
    ("village", "610581100201", True, "a village code is 12 digits"),
    ("village", "6105811002x1", False, "a village code is 12 digits"),
    ("department", "agri", True, "a department code matches"),
    ("department", "Agri", False, "a department code matches"),
])
def test_a_code_is_checked_once_for_every_service(kind, code, ok, rule):
    if ok:
        assert valid_code(kind, code, ["path", "code"]) == code
        return
    with pytest.raises(Problem) as refused:
        valid_code(kind, code, ["query", "township"])
    assert (refused.value.status, refused.value.type) == (422, "validation-failed")
    assert refused.value.detail.startswith(rule)
    assert refused.value.errors == [{"loc": ["query", "township"], "msg": refused.value.detail}]
