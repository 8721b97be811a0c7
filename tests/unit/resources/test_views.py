"""Use cases that read commitments: one, a page of them, a village's totals."""
import pytest

from services.resources.use_cases import commitments, views
from tests.unit.resources.conftest import (
    ADMIN,
    AGRI,
    INSPECTOR,
    OTHER_TOWN,
    TOWN,
    V1,
    V1B,
    V2,
    WATER,
    commitment_body,
    directory,
    project,
    refusal,
)


def commit(store, quantity="1", **extra):
    return commitments.commit_resources(store, directory,
                                        ADMIN, commitment_body(quantity, **extra))["commitment"]


def ids(answer):
    return [c["id"] for c in answer["items"]]


def walk(store, actor, limit, **query):
    """Every page of a listing: (ids seen, the cursors answered)."""
    seen, cursors, after = [], [], None
    while True:
        answer = views.list_commitments(store, actor, after=after, limit=limit, **query)
        seen += ids(answer)
        if answer["next"] is None:
            return seen, cursors
        cursors.append(answer["next"])
        after = answer["next"]


@pytest.mark.parametrize("actor", [ADMIN, INSPECTOR, AGRI, TOWN])
def test_a_commitment_is_read_by_its_department_its_township_and_the_county(pooled, actor):
    made = commit(pooled)
    assert views.get_commitment(pooled, actor, made["id"]) == made


@pytest.mark.parametrize("actor", [OTHER_TOWN, WATER])
def test_a_commitment_is_unknown_to_whoever_may_not_see_it(pooled, actor):
    """Another township's (or department's) commitment gets the very answer a missing one
    gets: its id cannot be told from a made-up one."""
    made = commit(pooled)
    hidden = refusal(views.get_commitment, pooled, actor, made["id"])
    missing = refusal(views.get_commitment, pooled, actor, "cmt_none")
    assert (hidden.status, hidden.type) == (404, "not-found")
    assert hidden.to_dict() == {**missing.to_dict(),
                                "detail": missing.detail.replace("cmt_none", made["id"])}


def test_a_township_listing_by_department_pages_over_its_own_commitments_alone(pooled, redis):
    """A township reading a department's commitments gets those to its own villages, paged
    over them alone: no page, count or cursor tells it of another township's."""
    own = []
    for n in range(9):  # the department's list interleaves the two townships' commitments
        made = commit(pooled, village=V2 if n % 3 else V1)
        if n % 3 == 0:
            own.append(made["id"])
    commit(pooled, department="water")
    project(pooled, redis)
    project(pooled, redis, "dept:water")
    seen, cursors = walk(pooled, TOWN, 1, department="agri")
    # (the township's index is in the order events were applied, the same millisecond's by id)
    assert sorted(seen) == sorted(own) and cursors == seen[:-1]
    first = views.list_commitments(pooled, TOWN, department="agri", limit=50)
    assert ids(first) == seen and first["next"] is None
    others, _ = walk(pooled, OTHER_TOWN, 2, department="agri")
    assert len(others) == 6 and not set(others) & set(own)
    assert views.list_commitments(pooled, TOWN, department="roads")["items"] == []


def test_a_department_lists_its_own_commitments_and_no_other(pooled):
    mine = [commit(pooled, village=v)["id"] for v in (V1, V2, V1B)]
    commit(pooled, department="water")
    seen, cursors = walk(pooled, AGRI, 2)
    assert sorted(seen) == sorted(mine) and cursors == [seen[1]]
    assert ids(views.list_commitments(pooled, AGRI, department="agri", village=V2)) == [mine[1]]
    problem = refusal(views.list_commitments, pooled, AGRI, department="water")
    assert (problem.status, problem.type) == (403, "forbidden")


def test_filters_apply_before_the_page_is_cut(pooled, redis):
    made = [commit(pooled) for _ in range(5)]
    for c in made[:4]:
        commitments.cancel(pooled, AGRI, c["id"], {"reason": "调整"})
    project(pooled, redis)
    for actor, query in ((TOWN, {}), (ADMIN, {}), (AGRI, {}), (TOWN, {"village": V1})):
        answer = views.list_commitments(pooled, actor, status="committed", limit=1, **query)
        assert (ids(answer), answer["next"]) == ([made[4]["id"]], None), (actor, query)
    seen, cursors = walk(pooled, TOWN, 3, status="cancelled")
    assert sorted(seen) == sorted(c["id"] for c in made[:4]) and cursors == [seen[2]]


def test_a_township_lists_its_own_villages_and_no_other(pooled, redis):
    own = [commit(pooled, village=v)["id"] for v in (V1, V1B)]
    commit(pooled, village=V2)
    project(pooled, redis)
    assert sorted(ids(views.list_commitments(pooled, TOWN))) == sorted(own)
    assert ids(views.list_commitments(pooled, TOWN, village=V1B)) == [own[1]]
    assert refusal(views.list_commitments, pooled, TOWN, village=V2).status == 403
    assert len(ids(views.list_commitments(pooled, INSPECTOR))) == 3


@pytest.mark.parametrize("actor, query, status", [
    (ADMIN, {"status": "lost"}, 422),
    (ADMIN, {"limit": "0"}, 422),
    ("cadre:cdr_1", {}, 403),
])
def test_a_listing_the_rules_refuse(pooled, actor, query, status):
    assert refusal(views.list_commitments, pooled, actor, **query).status == status


def test_a_village_shows_who_gives_what_once_its_events_are_applied(pooled, redis):
    delivered = commit(pooled, "30")
    commit(pooled, "5")
    commit(pooled, "2", department="water")
    commitments.deliver(pooled, AGRI, delivered["id"], {"quantity": "25"})
    commitments.confirm(pooled, TOWN, delivered["id"])
    project(pooled, redis)
    project(pooled, redis)  # redelivered events count once
    project(pooled, redis, "dept:water")
    [line] = views.village_resources(pooled, directory, TOWN, V1)["items"]
    assert (line["kind"], line["unit"], line["committed"], line["delivered"],
            line["confirmed"]) == ("cement", "吨", "7.00", "25.00", "25.00")
    assert line["departments"] == {
        "agri": {"committed": "5.00", "delivered": "25.00", "confirmed": "25.00"},
        "water": {"committed": "2.00", "delivered": "0.00", "confirmed": "0.00"}}
    assert views.village_resources(pooled, directory, AGRI, V2) == {"village_code": V2,
                                                                    "items": []}
    assert refusal(views.village_resources, pooled, directory, OTHER_TOWN, V1).status == 403
    assert refusal(views.village_resources, pooled, directory, TOWN, "610581100299"
                   ).status == 404

