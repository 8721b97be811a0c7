"""The pure rules: balances, needs, their ranking, and the commitment lifecycle."""
import pytest

from services.common.contract.http_bodies import COMMITMENT_STATUSES, NEED_STATUSES
from services.resources.domain import (
    FORWARD_PATHS,
    LIFECYCLE,
    STATUSES,
    STEPS,
    PoolBalance,
    VillageTotalsChange,
    lacking,
    need_hold_after,
    need_status,
    need_view,
    pool_change,
    ranking_score,
    resource_lines,
    totals_change,
)


def test_available_is_what_is_neither_reserved_nor_delivered():
    balance = PoolBalance("cement", "吨", pooled=2000, reserved=500, delivered=300)
    assert balance.available == 1200
    assert balance.as_dict("agri") == {"department_code": "agri", "kind": "cement",
                                       "unit": "吨", "pooled": "20.00", "reserved": "5.00",
                                       "delivered": "3.00", "available": "12.00"}


def test_the_lifecycle_is_the_contract_s_statuses_and_reads_as_it_moves():
    assert STATUSES == COMMITMENT_STATUSES
    assert FORWARD_PATHS == "committed → delivered → confirmed, or committed → cancelled"
    assert {s.name: (s.from_status, s.to_status) for s in LIFECYCLE} == {
        "commit": (None, "committed"), "deliver": ("committed", "delivered"),
        "confirm": ("delivered", "confirmed"), "cancel": ("committed", "cancelled")}
    for step in LIFECYCLE:  # each step's event carries the status it leads to
        assert step.event_model.model_fields["status"].annotation.__args__ == (
            step.to_status,)


COMMITMENT = {"quantity": "30.00", "delivered_quantity": "25.00"}


@pytest.mark.parametrize("step, pool, totals, need", [
    ("commit", (0, 0), VillageTotalsChange(committed=3000), None),
    ("deliver", (-3000, 2500), VillageTotalsChange(committed=-3000, delivered=2500),
     (2500, 2500)),
    ("confirm", (0, 0), VillageTotalsChange(confirmed=2500), None),
    ("cancel", (-3000, 0), VillageTotalsChange(committed=-3000), (0, 0)),
])
def test_what_each_step_changes(step, pool, totals, need):
    step = STEPS[step]
    assert pool_change(step, COMMITMENT, 2500) == pool
    assert totals_change(step.event_type, COMMITMENT) == totals
    assert need_hold_after(step.event_type, COMMITMENT) == need


def test_an_event_that_is_no_step_is_refused():
    with pytest.raises(ValueError):
        totals_change("resources.need_raised", COMMITMENT)


@pytest.mark.parametrize("requested, committed, delivered, status, lacks", [
    (1000, 0, 0, "open", 1000), (1000, 400, 0, "open", 600), (1000, 1000, 0, "covered", 0),
    (1000, 1000, 1000, "fulfilled", 0), (1000, 1200, 0, "covered", 0),
])
def test_a_need_s_status_and_what_it_lacks_are_derived(requested, committed, delivered,
                                                       status, lacks):
    assert need_status(requested, committed, delivered) == status
    assert lacking(requested, committed) == lacks
    view = need_view({"id": "need_1"}, requested, committed, delivered)
    assert (view["status"], view["lacking"]) == (status, f"{lacks / 100:.2f}")


def test_a_need_s_derived_statuses_are_the_contract_s():
    assert {need_status(100, committed, delivered) for committed, delivered in
            ((0, 0), (100, 0), (100, 100))} == set(NEED_STATUSES)


def test_needs_rank_by_hardship_then_uncovered_share_then_age():
    def need(hardship, requested, lacking, created):
        return {"hardship": hardship, "requested": requested, "lacking": lacking,
                "created_at": created}

    hard_old = need(5, "10.00", "5.00", "2026-01-01T00:00:00Z")
    hard_uncovered = need(5, "10.00", "10.00", "2026-06-01T00:00:00Z")
    hard_new = need(5, "10.00", "5.00", "2026-03-01T00:00:00.000Z")
    easy = need(4, "10.00", "10.00", "2025-01-01T00:00:00Z")
    ranked = sorted([easy, hard_new, hard_old, hard_uncovered], key=ranking_score,
                    reverse=True)
    assert ranked == [hard_uncovered, hard_old, hard_new, easy]


def test_a_village_s_totals_read_as_lines_per_kind_with_their_departments():
    lines = resource_lines({"seed|株|committed": "500", "cement|吨|delivered": "2500",
                            "cement|吨|delivered|agri": "2500",
                            "cement|吨|committed|water": "0"})
    assert lines == [
        {"kind": "cement", "unit": "吨", "committed": "0.00", "delivered": "25.00",
         "confirmed": "0.00", "departments": {
             "agri": {"committed": "0.00", "delivered": "25.00", "confirmed": "0.00"},
             "water": {"committed": "0.00", "delivered": "0.00", "confirmed": "0.00"}}},
        {"kind": "seed", "unit": "株", "committed": "5.00", "delivered": "0.00",
         "confirmed": "0.00", "departments": {}}]
