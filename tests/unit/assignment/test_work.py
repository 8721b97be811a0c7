"""Work logs (use_cases/work.py): a day within the term, not in the future, on an active
assignment; counted at once in the cadre's and the village's summaries."""
from datetime import timedelta

import pytest

from services.assignment.use_cases import assignments, work
from tests.unit.assignment.conftest import T1, T2, TODAY, V1, as_unknown, refused

YESTERDAY = (TODAY - timedelta(days=1)).isoformat()


def log(county, assignment, day=YESTERDAY, task="plan", households=3, key=None, actor=None):
    return work.log_work(county.store, actor or f"department:{assignment['department_code']}",
                         assignment["id"], {"date": day, "task": task,
                                            "households_visited": households}, key)


def test_logs_add_up_per_task_and_a_day_counts_once(county):
    cadre = county.cadre()
    assignment = county.assign(cadre, V1)
    county.clear_outbox()
    for day, task, households in [(YESTERDAY, "plan", 5), (YESTERDAY, "dispute", 2),
                                  (TODAY.isoformat(), "plan", 1)]:
        assert not log(county, assignment, day, task, households)["replayed"]
    village = work.village_work_summary(county.store, f"township:{T1}", V1)
    assert (village["days_logged"], village["entries"], village["households_visited"]) \
        == (2, 3, 8)
    assert village["entries_by_task"] == {"plan": 2, "economy": 0, "dispute": 1,
                                          "organization": 0}
    mine = work.cadre_work_summary(county.store, "department:agri", cadre["id"])
    assert {k: v for k, v in mine.items() if k != "cadre_id"} == \
        {k: v for k, v in village.items() if k != "village_code"}
    assert county.event_types() == ["assignment.work_logged"] * 3
    assert county.outbox()[0]["data"]["department_code"] == "agri"


@pytest.mark.parametrize("day, loc", [
    ((TODAY + timedelta(days=1)).isoformat(), ["body", "date"]),       # in the future
    ((TODAY - timedelta(days=201)).isoformat(), ["body", "date"]),     # before the term
    ("yesterday", ["body", "date"]),
])
def test_a_day_outside_the_term_or_to_come_is_refused(county, day, loc):
    assignment = county.assign(county.cadre(), V1)
    problem = refused(log, county, assignment, day)
    assert (problem.status, problem.errors[0]["loc"]) == (422, loc)


def test_only_the_cadres_department_logs_and_only_on_an_active_assignment(county):
    assignment = county.assign(county.cadre(), V1)
    assert refused(log, county, assignment, actor=f"township:{T1}").status == 403
    for actor in ("department:water", f"township:{T2}"):  # they do not see it
        hidden = refused(log, county, assignment, actor=actor)
        missing = refused(log, county, {**assignment, "id": "asg_none"}, actor=actor)
        assert as_unknown(hidden, missing, assignment["id"], "asg_none") and hidden.status == 404
    assert refused(work.log_work, county.store, "admin", "asg_none",
                   {"date": YESTERDAY, "task": "plan", "households_visited": 1}).status == 404
    assert refused(log, county, assignment, task="fishing").status == 422
    assignments.end_assignment(county.store, "admin", assignment["id"], {"reason": "completed"})
    ended = refused(log, county, assignment)
    assert (ended.status, ended.type) == (409, "assignment-not-active")
    assert work.village_work_summary(county.store, "admin", V1)["entries"] == 0


def test_a_repeated_key_replays_the_log_and_counts_it_once(county):
    assignment = county.assign(county.cadre(), V1)
    first = log(county, assignment, key="k1")
    again = log(county, assignment, key="k1", actor="admin")
    assert again == {"log": first["log"], "replayed": True}
    reused = refused(log, county, assignment, households=9, key="k1")
    assert (reused.status, reused.type) == (409, "idempotency-key-reused")
    assert work.village_work_summary(county.store, "admin", V1)["entries"] == 1


def test_summaries_are_read_by_those_who_read_the_village_or_the_cadre(county):
    cadre = county.cadre()
    county.assign(cadre, V1)
    assert work.village_work_summary(county.store, "department:agri", V1)["entries"] == 0
    assert refused(work.village_work_summary, county.store, "department:water", V1).status \
        == 403
    assert refused(work.village_work_summary, county.store, f"township:{T2}", V1).status == 403
    assert refused(work.village_work_summary, county.store, "admin", f"{T1}299").status == 404
    assert work.cadre_work_summary(county.store, f"township:{T1}", cadre["id"])["days_logged"] \
        == 0
    for actor in (f"township:{T2}", "department:water"):
        hidden = refused(work.cadre_work_summary, county.store, actor, cadre["id"])
        missing = refused(work.cadre_work_summary, county.store, actor, "cdr_x")
        assert as_unknown(hidden, missing, cadre["id"], "cdr_x") and hidden.status == 404
    assert refused(work.cadre_work_summary, county.store, "admin", "cdr_x").status == 404
