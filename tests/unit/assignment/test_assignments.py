"""Assignments (use_cases/assignments.py): the store refuses a cadre assigned twice for
overlapping dates and a second leader or first secretary; ending keeps history."""
import pytest

from services.assignment.use_cases import assignments, inspections
from tests.unit.assignment.conftest import T1, T2, TERM, V1, V1B, as_unknown, refused


def body(cadre, village=V1, role="member", term=TERM) -> dict:
    return {"cadre_id": cadre["id"], "village_code": village, "role": role,
            "starts_on": term[0], "ends_on": term[1]}


def test_a_department_assigns_its_cadre_and_the_township_is_told(county):
    cadre = county.cadre()
    answer = assignments.start_assignment(county.store, "department:agri",
                                          body(cadre, role="leader"))
    assignment = answer["assignment"]
    assert not answer["replayed"]
    assert (assignment["status"], assignment["township_code"], assignment["cadre_name"],
            assignment["inspections_absent"]) == ("active", T1, "王建国", 0)
    [event] = county.outbox()
    assert (event["type"], event["township_code"], event["data"]["id"]) \
        == ("assignment.assignment_started", T1, assignment["id"])


def test_who_may_assign_and_what_must_exist(county):
    cadre = county.cadre()
    start = assignments.start_assignment
    assert refused(start, county.store, "admin", {**body(cadre), "cadre_id": "cdr_x"}).type \
        == "unknown-cadre"
    # whoever may not see the cadre is told it does not exist; who sees it may not assign it
    for actor in ("department:water", f"township:{T1}"):
        hidden = refused(start, county.store, actor, body(cadre))
        missing = refused(start, county.store, actor, {**body(cadre), "cadre_id": "cdr_x"})
        assert (hidden.status, hidden.type) == (422, "unknown-cadre")
        assert as_unknown(hidden, missing, cadre["id"], "cdr_x")
    assert refused(start, county.store, "inspector:组", body(cadre)).status == 403
    unknown = refused(start, county.store, "admin", body(cadre, village=f"{T1}299"))
    assert (unknown.status, unknown.type, unknown.errors[0]["loc"]) \
        == (422, "unknown-village", ["body", "village_code"])
    backwards = refused(start, county.store, "admin", body(cadre, term=(TERM[1], TERM[0])))
    assert backwards.status == 422
    assert county.outbox() == []


@pytest.mark.parametrize("first, second, refusal", [
    # (village, role, term) of the first and second assignment, and the second's refusal
    ((V1, "member", ("2026-01-01", "2026-06-30")), (V1B, "member", ("2026-06-30", "2026-12-31")),
     "cadre-already-assigned"),
    ((V1, "member", ("2026-01-01", "2026-06-30")), (V1B, "member", ("2026-07-01", "2026-12-31")),
     None),
], ids=["one-shared-day", "back-to-back"])
def test_a_cadre_serves_in_one_village_at_a_time(county, first, second, refusal):
    cadre = county.cadre()
    held = county.assign(cadre, first[0], first[1], first[2])
    if refusal is None:
        assert county.assign(cadre, second[0], second[1], second[2])["status"] == "active"
        return
    problem = refused(county.assign, cadre, second[0], second[1], second[2])
    assert (problem.status, problem.type, problem.extra["assignment_id"]) \
        == (409, refusal, held["id"])


@pytest.mark.parametrize("role, refusal", [
    ("leader", "role-taken"), ("first_secretary", "role-taken"), ("member", None)])
def test_a_village_has_one_leader_and_one_first_secretary_but_any_members(county, role,
                                                                          refusal):
    first, second = county.cadre(name="甲"), county.cadre("water", name="乙")
    held = county.assign(first, V1, role)
    if refusal is None:
        county.assign(second, V1, role)
        return
    problem = refused(county.assign, second, V1, role)
    assert (problem.type, problem.extra["assignment_id"]) == (refusal, held["id"])
    assert county.event_types() == ["assignment.assignment_started"]


def test_a_repeated_key_replays_the_assignment(county):
    cadre = county.cadre()
    first = assignments.start_assignment(county.store, "department:agri", body(cadre), "k1")
    again = assignments.start_assignment(county.store, "admin", body(cadre), "k1")
    assert again == {"assignment": first["assignment"], "replayed": True}
    reused = refused(assignments.start_assignment, county.store, "department:agri",
                     body(cadre, village=V1B), "k1")
    assert (reused.status, reused.type) == (409, "idempotency-key-reused")
    assert len(county.outbox()) == 1


def test_ending_keeps_history_and_flags_a_leaderless_village(county):
    leader = county.assign(county.cadre(), V1, "leader")
    county.clear_outbox()
    ended = assignments.end_assignment(county.store, "department:agri", leader["id"],
                                       {"reason": "recalled", "note": "调回"})
    assert (ended["status"], ended["end_reason"], ended["village_left_leaderless"]) \
        == ("recalled", "recalled", True)
    assert county.event_types() == ["assignment.assignment_ended",
                                    "assignment.village_leaderless"]
    assert assignments.village_team(county.store, "admin", V1)["items"] == []
    again = refused(assignments.end_assignment, county.store, "admin", leader["id"],
                    {"reason": "completed"})
    assert (again.status, again.type) == (409, "assignment-not-active")
    history = assignments.cadre_assignments(county.store, "department:agri",
                                            leader["cadre_id"])["items"]
    assert [(a["id"], a["status"]) for a in history] == [(leader["id"], "recalled")]


def test_a_leader_leaving_while_another_leads_today_flags_nothing(county):
    old = county.assign(county.cadre(name="甲"), V1, "leader", ("2025-01-01", "2025-12-31"))
    county.assign(county.cadre(name="乙"), V1, "leader")
    county.clear_outbox()
    ended = assignments.end_assignment(county.store, "admin", old["id"],
                                       {"reason": "completed"})
    assert ended["status"] == "ended" and not ended["village_left_leaderless"]
    assert county.event_types() == ["assignment.assignment_ended"]


def test_ending_is_for_the_cadres_department_and_a_known_assignment(county):
    member = county.assign(county.cadre(), V1)
    # its township and inspectors see it (the village's team) but may not end it; another
    # township or a department not serving there is told it does not exist
    for actor in (f"township:{T1}", "inspector:组"):
        assert refused(assignments.end_assignment, county.store, actor, member["id"],
                       {"reason": "completed"}).status == 403
    for actor in ("department:water", f"township:{T2}"):
        hidden = refused(assignments.end_assignment, county.store, actor, member["id"],
                         {"reason": "completed"})
        missing = refused(assignments.end_assignment, county.store, actor, "asg_none",
                          {"reason": "completed"})
        assert as_unknown(hidden, missing, member["id"], "asg_none") and hidden.status == 404
    county.assign(county.cadre("water", name="丙"), V1)  # now water serves there: it sees
    assert refused(assignments.end_assignment, county.store, "department:water", member["id"],
                   {"reason": "completed"}).status == 403
    assert refused(assignments.end_assignment, county.store, "admin", "asg_none",
                   {"reason": "completed"}).status == 404
    assert refused(assignments.end_assignment, county.store, "admin", member["id"],
                   {"reason": "bored"}).status == 422


def test_a_team_is_ordered_and_read_by_its_township_and_serving_departments(county):
    member = county.assign(county.cadre("water", name="丙"), V1, "member")
    leader = county.assign(county.cadre(name="甲"), V1, "leader")
    team = assignments.village_team(county.store, f"township:{T1}", V1)
    assert [a["id"] for a in team["items"]] == [leader["id"], member["id"]]
    assert team["next"] is None
    assert assignments.village_team(county.store, "department:water", V1)["items"]
    assert refused(assignments.village_team, county.store, f"township:{T2}", V1).status == 403
    assert refused(assignments.village_team, county.store, "admin", f"{T1}299").status == 404


def test_a_teams_assignments_carry_the_inspections_their_cadre_missed(county):
    absent = county.assign(county.cadre(), V1)
    planned = inspections.plan_inspection(county.store, "inspector:组",
                                          {"village_code": V1, "planned_for": TERM[0]})
    inspections.file_report(county.store, "inspector:组", planned["inspection"]["id"],
                            {"visited_on": TERM[0], "score": 60, "findings": ["不在岗"],
                             "cadres_absent": [absent["cadre_id"]]})
    [seen] = assignments.village_team(county.store, "admin", V1)["items"]
    assert seen["inspections_absent"] == 1


def test_a_cadres_history_is_newest_first_for_its_department_and_readers(county):
    cadre = county.cadre()
    older = county.assign(cadre, V1, term=("2025-01-01", "2025-06-30"))
    newer = county.assign(cadre, V1B, term=("2025-07-01", "2025-12-31"))
    page = assignments.cadre_assignments(county.store, "inspector:组", cadre["id"], limit=1)
    assert [a["id"] for a in page["items"]] == [newer["id"]] and page["next"] == newer["id"]
    rest = assignments.cadre_assignments(county.store, "admin", cadre["id"], after=page["next"])
    assert [a["id"] for a in rest["items"]] == [older["id"]]
    assert refused(assignments.cadre_assignments, county.store, f"township:{T1}",
                   cadre["id"]).status == 403  # it serves there: T1 sees it, not its history
    for actor in (f"township:{T2}", "department:water"):
        hidden = refused(assignments.cadre_assignments, county.store, actor, cadre["id"])
        missing = refused(assignments.cadre_assignments, county.store, actor, "cdr_x")
        assert as_unknown(hidden, missing, cadre["id"], "cdr_x") and hidden.status == 404
    assert refused(assignments.cadre_assignments, county.store, "admin", "cdr_x").status == 404
