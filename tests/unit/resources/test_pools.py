"""Use cases of a department's pool: add to it, read it."""
import pytest

from services.common.contract.problems import Problem
from services.resources.use_cases import pools
from tests.unit.resources.conftest import (
    ADMIN,
    AGRI,
    INSPECTOR,
    TOWN,
    WATER,
    directory,
    events_in,
    refusal,
)

CEMENT = {"kind": "cement", "unit": "吨", "quantity": "20.5", "note": "第一批"}


def test_an_addition_answers_the_item_and_announces_it(store, redis):
    added = pools.add_to_pool(store, directory, ADMIN, "agri", CEMENT)
    assert added == {"replayed": False, "item": {
        "department_code": "agri", "kind": "cement", "unit": "吨", "pooled": "20.50",
        "reserved": "0.00", "delivered": "0.00", "available": "20.50"}}
    again = pools.add_to_pool(store, directory, ADMIN, "agri", {**CEMENT, "quantity": "0.5"})
    assert again["item"]["pooled"] == "21.00"
    [first, _] = events_in(redis, "dept:agri")
    assert first["type"] == "resources.pool_increased"
    assert first["data"] == {"department_code": "agri", "kind": "cement", "unit": "吨",
                             "quantity": "20.50", "note": "第一批"}


def test_a_repeat_with_its_key_gets_the_first_answer_and_adds_nothing(store, redis):
    first = pools.add_to_pool(store, directory, ADMIN, "agri", CEMENT, "k-1")
    pools.add_to_pool(store, directory, ADMIN, "agri", {**CEMENT, "quantity": "1"})
    again = pools.add_to_pool(store, directory, ADMIN, "agri", CEMENT, "k-1")
    assert again == {**first, "replayed": True}  # the first answer, not today's pool
    assert pools.get_pool(store, directory, ADMIN, "agri")["items"][0]["pooled"] == "21.50"
    assert len(events_in(redis, "dept:agri")) == 2


@pytest.mark.parametrize("department, body, key, status, problem_type", [
    ("agri", {**CEMENT, "quantity": "3"}, "k-1", 409, "idempotency-key-reused"),
    ("agri", {**CEMENT, "unit": "kg"}, None, 422, "unit-mismatch"),
    ("agri", {**CEMENT, "quantity": "-1"}, None, 422, "validation-failed"),
    ("roads", CEMENT, None, 404, "not-found"),
    ("Not A Code", CEMENT, None, 422, "validation-failed"),
])
def test_a_refused_addition_changes_nothing(store, redis, department, body, key, status,
                                            problem_type):
    pools.add_to_pool(store, directory, ADMIN, "agri", CEMENT, "k-1")
    with pytest.raises(Problem) as refused:
        pools.add_to_pool(store, directory, ADMIN, department, body, key)
    assert (refused.value.status, refused.value.type) == (status, problem_type)
    assert pools.get_pool(store, directory, ADMIN, "agri")["items"][0]["pooled"] == "20.50"
    assert len(events_in(redis, "dept:agri")) == 1


def test_a_unit_mismatch_names_the_unit_the_pool_counts_in(store):
    pools.add_to_pool(store, directory, ADMIN, "agri", CEMENT)
    with pytest.raises(Problem) as refused:
        pools.add_to_pool(store, directory, ADMIN, "agri", {**CEMENT, "unit": "kg"})
    assert "'吨'" in refused.value.detail
    assert refused.value.errors == [{"loc": ["body", "unit"], "msg": refused.value.detail}]


def test_a_pool_lists_its_kinds_in_order(store):
    pools.add_to_pool(store, directory, ADMIN, "agri", {"kind": "seedlings", "unit": "株",
                                                        "quantity": "500"})
    pools.add_to_pool(store, directory, ADMIN, "agri", CEMENT)
    items = pools.get_pool(store, directory, ADMIN, "agri")["items"]
    assert [(i["kind"], i["available"]) for i in items] == [("cement", "20.50"),
                                                           ("seedlings", "500.00")]
    assert pools.get_pool(store, directory, ADMIN, "water") == {"items": []}
    with pytest.raises(Problem) as unknown:
        pools.get_pool(store, directory, ADMIN, "roads")
    assert unknown.value.status == 404


@pytest.mark.parametrize("actor", [WATER, TOWN, INSPECTOR])
def test_only_its_department_or_the_county_adds_to_a_pool(store, redis, actor):
    problem = refusal(pools.add_to_pool, store, directory, actor, "agri", CEMENT)
    assert (problem.status, problem.type) == (403, "forbidden")
    assert events_in(redis, "dept:agri") == []
    assert pools.add_to_pool(store, directory, AGRI, "agri", CEMENT)["item"]["pooled"] == "20.50"


def test_a_pool_is_read_by_its_department_and_whoever_reads_everything(store):
    pools.add_to_pool(store, directory, AGRI, "agri", CEMENT)
    for actor in (AGRI, ADMIN, INSPECTOR):
        assert pools.get_pool(store, directory, actor, "agri")["items"][0]["pooled"] == "20.50"
    for actor in (WATER, TOWN):
        problem = refusal(pools.get_pool, store, directory, actor, "agri")
        assert (problem.status, problem.type) == (403, "forbidden")
