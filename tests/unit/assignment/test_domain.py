"""The programme's pure rules (services/assignment/domain.py)."""
from datetime import date

import pytest

from services.assignment import domain
from services.common.contract.codes import TASKS


@pytest.mark.parametrize("township, county, belongs", [
    ("610581100", "610581", True),
    ("610582100", "610581", False),
])
def test_a_township_code_starts_with_its_county_s(township, county, belongs):
    assert domain.township_in_county(township, county) is belongs


@pytest.mark.parametrize("village, township, belongs", [
    ("610581100201", "610581100", True),
    ("610581101201", "610581100", False),
    ("610581100201", "610581101", False),
])
def test_a_village_code_starts_with_its_townships(village, township, belongs):
    assert domain.village_belongs(village, township) is belongs


@pytest.mark.parametrize("reason, status", [
    ("completed", "ended"), ("replaced", "ended"), ("recalled", "recalled")])
def test_a_recall_is_recorded_as_such(reason, status):
    assert domain.status_after_end(reason) == status


@pytest.mark.parametrize("day, within", [
    (date(2025, 12, 31), False), (date(2026, 1, 1), True), (date(2026, 6, 1), True),
    (date(2026, 12, 31), True), (date(2027, 1, 1), False)])
def test_a_term_includes_its_first_and_last_day(day, within):
    assert domain.within_term({"starts_on": "2026-01-01", "ends_on": "2026-12-31"},
                              day) is within


def test_the_phone_is_shown_only_when_allowed_and_always_named():
    cadre = {"id": "cdr_1", "name": "王", "phone": "13800138000"}
    assert domain.public_cadre(cadre, True)["phone"] == "13800138000"
    assert domain.public_cadre(cadre, False) == {"id": "cdr_1", "name": "王", "phone": None}


def test_a_work_summary_counts_every_task_even_those_never_logged():
    summary = domain.work_summary({"entries:plan": "2", "households:plan": "7",
                                   "entries:dispute": "1", "households:dispute": "3"}, days=2)
    assert summary["entries_by_task"] == {"plan": 2, "economy": 0, "dispute": 1,
                                          "organization": 0}
    assert set(summary["households_by_task"]) == set(TASKS)
    assert (summary["entries"], summary["households_visited"], summary["days_logged"]) \
        == (3, 10, 2)


def test_a_report_may_name_only_cadres_serving_in_the_village():
    assert domain.unknown_cadres(["c1", "c9", "c9", "c0"], {"c1", "c2"}) == ["c0", "c9"]
    assert domain.unknown_cadres([], {"c1"}) == []


def test_a_team_lists_its_leader_first_secretary_then_members_by_start():
    team = [{"role": "member", "starts_on": "2026-02-01"},
            {"role": "member", "starts_on": "2026-01-01"},
            {"role": "first_secretary", "starts_on": "2026-03-01"},
            {"role": "leader", "starts_on": "2026-04-01"}]
    assert [(a["role"], a["starts_on"]) for a in sorted(team, key=domain.team_order)] == [
        ("leader", "2026-04-01"), ("first_secretary", "2026-03-01"),
        ("member", "2026-01-01"), ("member", "2026-02-01")]
