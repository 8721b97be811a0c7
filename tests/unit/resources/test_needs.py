"""Use cases of villages' needs: raise one, read them hardest first, read a village's."""
import pytest

from services.resources.store import RANKED_NEEDS
from services.resources.use_cases import commitments, needs, pools, views
from tests.unit.resources.conftest import (
    ADMIN,
    AGRI,
    INSPECTOR,
    OTHER_TOWN,
    T1,
    T2,
    TOWN,
    V1,
    V1B,
    V2,
    commitment_body,
    directory,
    events_in,
    need_body,
    project,
    refusal,
)


def raise_need(store, village=V1, quantity="40", actor=None, key=None, **body):
    actor = actor or (OTHER_TOWN if village == V2 else TOWN)
    return needs.raise_need(store, directory, actor, village, need_body(quantity, **body),
                            key)["need"]


def test_a_need_is_raised_open_and_announced(store, redis):
    answer = needs.raise_need(store, directory, TOWN, V1, need_body("40"))
    need = answer["need"]
    assert answer["replayed"] is False
    assert {k: need[k] for k in ("status", "requested", "committed", "delivered", "lacking",
                                 "village_code", "township_code", "hardship", "raised_by")} == {
        "status": "open", "requested": "40.00", "committed": "0.00", "delivered": "0.00",
        "lacking": "40.00", "village_code": V1, "township_code": T1, "hardship": 5,
        "raised_by": TOWN}
    [event] = events_in(redis, f"village:{V1}")
    assert (event["type"], event["data"]["id"], event["data"]["requested"]) == (
        "resources.need_raised", need["id"], "40.00")
    assert needs.village_needs(store, directory, TOWN, V1)["items"] == [need]


def test_a_repeat_with_its_key_gets_the_first_need(store, redis):
    first = needs.raise_need(store, directory, TOWN, V1, need_body("2"), "need-1")
    again = needs.raise_need(store, directory, TOWN, V1, need_body("2"), "need-1")
    assert again == {**first, "replayed": True}
    problem = refusal(needs.raise_need, store, directory, TOWN, V1, need_body("3"), "need-1")
    assert (problem.status, problem.type) == (409, "idempotency-key-reused")
    # the key is the caller's: the county may use the same one
    assert needs.raise_need(store, directory, ADMIN, V1, need_body("2"), "need-1")[
        "need"]["id"] != first["need"]["id"]
    assert len(events_in(redis, f"village:{V1}")) == 2


@pytest.mark.parametrize("actor, village, body, status", [
    (AGRI, V1, need_body(), 403),
    (OTHER_TOWN, V1, need_body(), 403),
    (TOWN, "610581100299", need_body(), 404),
    (TOWN, V1, {**need_body(), "category": "party"}, 422),
    (TOWN, V1, need_body("0.001"), 422),
])
def test_a_need_the_rules_refuse_is_not_raised(store, redis, actor, village, body, status):
    assert refusal(needs.raise_need, store, directory, actor, village, body).status == status
    assert events_in(redis, f"village:{V1}") == []


def test_needs_rank_hardest_village_first_then_least_covered_then_oldest(store):
    easy = raise_need(store, V1B, "10")
    half = raise_need(store, V1, "10")
    whole = raise_need(store, V1, "50")
    elsewhere = raise_need(store, V2, "10")
    pools.add_to_pool(store, directory, ADMIN, "agri", {"kind": "cement", "unit": "吨",
                                                        "quantity": "5"})
    commitments.commit_resources(store, directory, ADMIN, commitment_body("5", need_id=half["id"]))
    ranked = needs.list_needs(store, TOWN)
    assert [n["id"] for n in ranked["items"]] == [whole["id"], half["id"], easy["id"]]
    county = needs.list_needs(store, AGRI, limit=2)
    assert [n["id"] for n in county["items"]] == [whole["id"], half["id"]]
    assert county["next"] == half["id"]
    rest = needs.list_needs(store, INSPECTOR, after=county["next"], limit=2)
    assert [n["id"] for n in rest["items"]] == [elsewhere["id"], easy["id"]]
    assert rest["next"] is None
    assert [n["id"] for n in needs.list_needs(store, ADMIN, township=T2)["items"]] == [
        elsewhere["id"]]


def test_needs_filter_by_status_and_kind_before_the_page_is_cut(store):
    covered = raise_need(store, V1, "5")
    open_ = raise_need(store, V1, "5")
    seedlings = raise_need(store, V1, "5", kind="seedlings", unit="株")
    pools.add_to_pool(store, directory, ADMIN, "agri", {"kind": "cement", "unit": "吨",
                                                        "quantity": "5"})
    commitments.commit_resources(store, directory, ADMIN,
                                 commitment_body("5", need_id=covered["id"]))

    def listed(**query):
        return [n["id"] for n in needs.list_needs(store, TOWN, limit=1, **query)["items"]]

    assert listed(status="covered") == [covered["id"]]
    assert listed(kind="seedlings") == [seedlings["id"]]
    assert set(n["id"] for n in needs.list_needs(store, TOWN, status="unfulfilled")[
        "items"]) == {covered["id"], open_["id"], seedlings["id"]}


def test_a_fulfilled_need_leaves_the_ranking_and_stays_with_its_village(store, redis):
    need = raise_need(store, V1, "5")
    pools.add_to_pool(store, directory, ADMIN, "agri", {"kind": "cement", "unit": "吨",
                                                        "quantity": "5"})
    made = commitments.commit_resources(store, directory, ADMIN,
                                        commitment_body("5", need_id=need["id"]))["commitment"]
    commitments.deliver(store, AGRI, made["id"], {})
    assert needs.list_needs(store, TOWN, status="unfulfilled")["items"] != []
    project(store, redis)  # the delivery counts for the need once its event is applied
    assert needs.list_needs(store, TOWN, status="unfulfilled")["items"] == []
    [kept] = needs.village_needs(store, directory, TOWN, V1)["items"]
    assert (kept["status"], kept["delivered"]) == ("fulfilled", "5.00")
    # the process died after settling the need's hold, before ranking it: the ranking still
    # holds it, the listing leaves it out, and the event applied again ranks it out
    for ranking in (RANKED_NEEDS, f"{RANKED_NEEDS}:{T1}"):
        redis.zadd(ranking, {need["id"]: 1})
    assert needs.list_needs(store, TOWN, status="unfulfilled")["items"] == []
    project(store, redis)
    assert redis.zscore(f"{RANKED_NEEDS}:{T1}", need["id"]) is None


@pytest.mark.parametrize("actor, query, status", [
    (TOWN, {"township": T2}, 403),
    (TOWN, {"status": "fulfilled"}, 422),
    (ADMIN, {"status": "lost"}, 422),
    (ADMIN, {"limit": "501"}, 422),
])
def test_a_needs_listing_the_rules_refuse(store, actor, query, status):
    assert refusal(needs.list_needs, store, actor, **query).status == status


def test_a_villages_needs_are_its_township_s_and_not_another_s(store):
    raise_need(store, V1)
    assert len(needs.village_needs(store, directory, AGRI, V1)["items"]) == 1
    assert refusal(needs.village_needs, store, directory, OTHER_TOWN, V1).status == 403
    assert refusal(needs.village_needs, store, directory, TOWN, "610581100299").status == 404


@pytest.mark.parametrize("call", [
    lambda store, village: needs.village_needs(store, directory, OTHER_TOWN, village),
    lambda store, village: needs.raise_need(store, directory, OTHER_TOWN, village, need_body()),
    lambda store, village: views.village_resources(store, directory, OTHER_TOWN, village),
], ids=["village_needs", "raise_need", "village_resources"])
def test_another_township_s_village_is_refused_alike_whether_it_exists_or_not(store, call):
    """Its code names its township: the refusal comes before the lookup, so it cannot tell a
    registered village of another township from a made-up code."""
    registered, unknown = refusal(call, store, V1), refusal(call, store, f"{T1}299")
    assert (registered.status, registered.type) == (403, "forbidden")
    assert registered.to_dict() == unknown.to_dict()
