"""Use cases of commitments: commit (to a village, to a need), deliver, confirm, cancel."""
import time

import pytest

from services.resources import store as resources_store
from services.resources.use_cases import commitments, needs, pools, projections, views
from tests.unit.resources.conftest import (
    ADMIN,
    AGRI,
    INSPECTOR,
    OTHER_TOWN,
    TOWN,
    V1,
    V2,
    WATER,
    commitment_body,
    directory,
    events_in,
    need_body,
    refusal,
)


def commit(store, quantity="10", key=None, **extra):
    return commitments.commit_resources(store, directory, ADMIN,
                                        commitment_body(quantity, **extra), key)["commitment"]


def pool(store, department="agri"):
    return pools.get_pool(store, directory, ADMIN, department)["items"][0]


def test_a_commitment_reserves_from_the_pool_and_is_announced(pooled, redis):
    answer = commitments.commit_resources(pooled, directory, ADMIN,
                                          commitment_body("30", note="春耕"))
    made = answer["commitment"]
    assert answer["replayed"] is False
    assert {k: made[k] for k in ("status", "department_code", "village_code", "township_code",
                                 "quantity", "note")} == {
        "status": "committed", "department_code": "agri", "village_code": V1,
        "township_code": V1[:9], "quantity": "30.00", "note": "春耕"}
    assert (pool(pooled)["reserved"], pool(pooled)["available"]) == ("30.00", "70.00")
    created = events_in(redis, "dept:agri")[-1]
    assert created["type"] == "resources.commitment_created"
    assert created["data"] == made
    assert (created["township_code"], created["village_code"]) == (V1[:9], V1)


def test_a_commitment_larger_than_what_is_available_is_refused_and_changes_nothing(
        pooled, redis):
    commit(pooled, "60")
    problem = refusal(commit, pooled, "40.01")
    assert (problem.status, problem.type, problem.extra) == (409, "insufficient-pool",
                                                             {"available": "40.00"})
    assert "agri has 40.00 吨 of cement available" in problem.detail
    assert pool(pooled)["reserved"] == "60.00"
    assert len(events_in(redis, "dept:agri")) == 2  # the pool's and the first commitment's
    assert commit(pooled, "40")["quantity"] == "40.00"  # all of it, exactly


@pytest.mark.parametrize("body, status, problem_type, loc", [
    (commitment_body(unit="kg"), 422, "unit-mismatch", ["body", "unit"]),
    (commitment_body(department="roads"), 422, "unknown-department",
     ["body", "department_code"]),
    (commitment_body(village="610581100299"), 422, "unknown-village", ["body", "village_code"]),
    (commitment_body(quantity="0"), 422, "validation-failed", ["body", "quantity"]),
    (commitment_body(need_id="need_none"), 422, "unknown-need", ["body", "need_id"]),
])
def test_a_commitment_the_rules_refuse(pooled, body, status, problem_type, loc):
    problem = refusal(commitments.commit_resources, pooled, directory, ADMIN, body)
    assert (problem.status, problem.type, problem.errors[0]["loc"]) == (status, problem_type,
                                                                         loc)
    assert pool(pooled)["reserved"] == "0.00"


@pytest.mark.parametrize("actor", [WATER, TOWN, INSPECTOR])
def test_a_department_commits_only_from_its_own_pool(pooled, redis, actor):
    problem = refusal(commitments.commit_resources, pooled, directory, actor,
                      commitment_body("1"))
    assert (problem.status, problem.type) == (403, "forbidden")
    assert pool(pooled)["reserved"] == "0.00"
    assert len(events_in(redis, "dept:agri")) == 1  # the pool's addition alone
    made = commitments.commit_resources(pooled, directory, AGRI, commitment_body("1"))
    assert made["commitment"]["department_code"] == "agri"


def test_a_repeat_with_its_key_gets_the_first_commitment_and_another_body_is_refused(pooled):
    first = commitments.commit_resources(pooled, directory, ADMIN, commitment_body("10"), "k-1")
    again = commitments.commit_resources(pooled, directory, ADMIN, commitment_body("10"), "k-1")
    assert again == {"commitment": first["commitment"], "replayed": True}
    problem = refusal(commitments.commit_resources, pooled, directory, ADMIN, commitment_body("11"),
                      "k-1")
    assert (problem.status, problem.type) == (409, "idempotency-key-reused")
    assert pool(pooled)["reserved"] == "10.00"


def test_a_commitment_to_a_need_never_over_commits_it(pooled):
    need = needs.raise_need(pooled, directory, TOWN, V1, need_body("40"))["need"]
    commit(pooled, "25", need_id=need["id"])
    problem = refusal(commit, pooled, "16", None, need_id=need["id"], department="water")
    assert (problem.status, problem.type, problem.extra) == (409, "need-overcommitted",
                                                             {"lacking": "15.00"})
    assert "still lacks 15.00 吨" in problem.detail
    assert pool(pooled, "water")["reserved"] == "0.00"  # the pool was never touched
    commit(pooled, "15", need_id=need["id"], department="water")
    assert needs.village_needs(pooled, directory, TOWN, V1)["items"][0]["status"] == "covered"


def test_a_need_is_held_only_for_its_own_village_kind_and_unit(pooled):
    need = needs.raise_need(pooled, directory, TOWN, V1, need_body())["need"]
    elsewhere = refusal(commit, pooled, "1", None, need_id=need["id"], village=V2)
    assert (elsewhere.type, elsewhere.errors[0]["loc"]) == ("need-mismatch",
                                                           ["body", "need_id"])
    assert V1 in elsewhere.detail
    pools.add_to_pool(pooled, directory, ADMIN, "agri", {"kind": "seedlings", "unit": "株",
                                                         "quantity": "5"})
    other_kind = refusal(commitments.commit_resources, pooled, directory, ADMIN, {
        **commitment_body("1", need_id=need["id"]), "kind": "seedlings", "unit": "株"})
    assert (other_kind.type, other_kind.errors[0]["loc"]) == ("need-mismatch", ["body", "kind"])
    assert needs.village_needs(pooled, directory, TOWN, V1)["items"][0]["committed"] == "0.00"


def test_a_commitment_the_pool_refuses_gives_its_need_hold_back(pooled):
    need = needs.raise_need(pooled, directory, TOWN, V1, need_body("500"))["need"]
    problem = refusal(commit, pooled, "101", None, need_id=need["id"])
    assert problem.type == "insufficient-pool"
    assert needs.village_needs(pooled, directory, TOWN, V1)["items"][0]["committed"] == "0.00"


def test_a_repeat_to_a_need_full_by_now_gets_the_first_commitment_and_holds_nothing(pooled):
    need = needs.raise_need(pooled, directory, TOWN, V1, need_body("10"))["need"]
    first = commitments.commit_resources(pooled, directory,
                                         ADMIN, commitment_body("10", need_id=need["id"]), "last")
    again = commitments.commit_resources(pooled, directory,
                                         ADMIN, commitment_body("10", need_id=need["id"]), "last")
    assert again == {"commitment": first["commitment"], "replayed": True}
    reused = refusal(commitments.commit_resources, pooled, directory,
                     ADMIN, commitment_body("9", need_id=need["id"]), "last")
    assert reused.type == "idempotency-key-reused"
    [held] = needs.village_needs(pooled, directory, TOWN, V1)["items"]
    assert (held["committed"], held["lacking"]) == ("10.00", "0.00")


def test_a_commitment_stalled_past_its_hold_s_deadline_is_503_and_never_over_commits(
        pooled, monkeypatch):
    """The process stalls between holding the need and reserving; meanwhile the sweeper gives
    its hold back and another department covers the need. The stalled commitment is refused,
    not stored over the need's requested amount; retried, it holds the need afresh."""
    need = needs.raise_need(pooled, directory, TOWN, V1, need_body("40"))["need"]
    stalled = [resources_store.SWEEP_AFTER_MS + 1]  # how long ago its hold is, once taken
    monkeypatch.setattr(resources_store, "_now_ms",
                        lambda: int(time.time() * 1000) - stalled[0])
    hold_need = pooled.hold_need

    def hold_then_stall(*args):
        held = hold_need(*args)
        if stalled[0]:
            stalled[0] = 0  # the rest happens now
            assert projections.give_back_need_holds(pooled) == 1
            commit(pooled, "40", need_id=need["id"], department="water")
        return held

    monkeypatch.setattr(pooled, "hold_need", hold_then_stall)
    problem = refusal(commit, pooled, "25", "k-1", need_id=need["id"])
    assert (problem.status, problem.type) == (503, "service-unavailable")
    assert "Idempotency-Key" in problem.detail
    [now] = needs.village_needs(pooled, directory, TOWN, V1)["items"]
    assert (now["requested"], now["committed"]) == ("40.00", "40.00")
    assert pool(pooled)["reserved"] == "0.00"
    retried = refusal(commit, pooled, "25", "k-1", need_id=need["id"])
    assert retried.type == "need-overcommitted"


def test_a_delivery_settles_the_pool_and_gives_back_what_did_not_arrive(pooled, redis):
    made = commit(pooled, "30")
    delivered = commitments.deliver(pooled, AGRI, made["id"], {"quantity": "25"})
    assert (delivered["status"], delivered["delivered_quantity"], delivered["released"]) == (
        "delivered", "25.00", "5.00")
    balance = pool(pooled)
    assert (balance["reserved"], balance["delivered"], balance["available"]) == (
        "0.00", "25.00", "75.00")
    event = events_in(redis, "dept:agri")[-1]
    assert event["type"] == "resources.commitment_delivered"
    assert {k: event["data"][k] for k in delivered} == delivered
    whole = commitments.deliver(pooled, ADMIN, commit(pooled, "5")["id"], {})
    assert (whole["delivered_quantity"], whole["released"]) == ("5.00", "0.00")


def test_a_delivery_of_more_than_committed_is_refused(pooled):
    made = commit(pooled, "10")
    problem = refusal(commitments.deliver, pooled, AGRI, made["id"], {"quantity": "10.01"})
    assert (problem.status, problem.errors[0]["loc"]) == (422, ["body", "quantity"])


def test_lifecycles_only_move_forward(pooled):
    made = commit(pooled, "10")
    commitments.deliver(pooled, AGRI, made["id"], {})
    again = refusal(commitments.deliver, pooled, AGRI, made["id"], {})
    assert (again.status, again.type, again.extra) == (409, "commitment-not-committed",
                                                       {"current_status": "delivered"})
    assert again.detail.endswith("lifecycles only move forward (committed → delivered → "
                                 "confirmed, or committed → cancelled)")
    late = refusal(commitments.cancel, pooled, AGRI, made["id"], {"reason": "太晚了"})
    assert late.type == "commitment-not-committed"
    confirmed = commitments.confirm(pooled, TOWN, made["id"])
    assert (confirmed["status"], confirmed["confirmed_by"]) == ("confirmed", TOWN)
    twice = refusal(commitments.confirm, pooled, TOWN, made["id"])
    assert (twice.type, twice.extra) == ("commitment-not-delivered",
                                         {"current_status": "confirmed"})
    assert pool(pooled)["delivered"] == "10.00"  # confirming changes no pool


def test_a_cancellation_gives_the_reservation_back(pooled, redis):
    made = commit(pooled, "20")
    cancelled = commitments.cancel(pooled, AGRI, made["id"], {"reason": "改拨其他村"})
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "改拨其他村")
    assert pool(pooled)["available"] == "100.00"
    assert events_in(redis, "dept:agri")[-1]["type"] == "resources.commitment_cancelled"
    not_delivered = refusal(commitments.confirm, pooled, TOWN, made["id"])
    assert not_delivered.extra == {"current_status": "cancelled"}


def step(pooled, name: str, actor: str, commitment_id: str):
    """deliver, cancel or confirm, as `actor`."""
    return {"deliver": lambda: commitments.deliver(pooled, actor, commitment_id, {}),
            "cancel": lambda: commitments.cancel(pooled, actor, commitment_id, {"reason": "x"}),
            "confirm": lambda: commitments.confirm(pooled, actor, commitment_id)}[name]()


# Who sees a commitment but may not take the step gets 403; whoever may not see it (another
# township, another department) gets exactly what an unknown id gets.
@pytest.mark.parametrize("name, actor, status", [
    ("deliver", TOWN, 403), ("deliver", INSPECTOR, 403),
    ("deliver", WATER, 404), ("deliver", OTHER_TOWN, 404),
    ("cancel", TOWN, 403), ("cancel", INSPECTOR, 403),
    ("cancel", WATER, 404), ("cancel", OTHER_TOWN, 404),
    ("confirm", AGRI, 403), ("confirm", INSPECTOR, 403),
    ("confirm", WATER, 404), ("confirm", OTHER_TOWN, 404),
])
def test_only_the_department_settles_and_only_the_township_confirms(pooled, name, actor,
                                                                    status):
    made = commit(pooled, "10")
    if name == "confirm":
        commitments.deliver(pooled, AGRI, made["id"], {})
    problem = refusal(step, pooled, name, actor, made["id"])
    if status == 403:
        assert (problem.status, problem.type) == (403, "forbidden")
    else:
        unknown = refusal(step, pooled, name, actor, "cmt_00000000000000000000000000")
        assert problem.to_dict() == {**unknown.to_dict(),
                                     "detail": unknown.detail.replace(
                                         "cmt_00000000000000000000000000", made["id"])}
        assert (problem.status, problem.type) == (404, "not-found")
    assert pool(pooled)["reserved"] == ("10.00" if name != "confirm" else "0.00")
    assert views.get_commitment(pooled, ADMIN, made["id"])["status"] == (
        "delivered" if name == "confirm" else "committed")


def test_a_step_of_an_unknown_commitment_is_not_found(pooled):
    for call in (lambda: commitments.deliver(pooled, AGRI, "cmt_none", {}),
                 lambda: commitments.confirm(pooled, TOWN, "cmt_none"),
                 lambda: commitments.cancel(pooled, AGRI, "cmt_none", {"reason": "x"})):
        assert refusal(call).status == 404
