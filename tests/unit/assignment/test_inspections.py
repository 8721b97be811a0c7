"""Unannounced inspections (use_cases/inspections.py): a planned one leaks nowhere, whoever
may not see it gets the answer an unknown id gets; filing it tells its township."""
import pytest

from services.assignment.use_cases import assignments, inspections
from tests.unit.assignment.conftest import T1, T2, TERM, V1, V1B, V2, as_unknown, refused

INSPECTOR = "inspector:省委督查组"


def plan(county, village=V1, actor=INSPECTOR, key=None):
    return inspections.plan_inspection(county.store, actor,
                                       {"village_code": village, "planned_for": TERM[1]}, key)


def report(present=(), absent=()) -> dict:
    return {"visited_on": TERM[0], "score": 80, "findings": ["台账齐全"],
            "cadres_present": list(present), "cadres_absent": list(absent)}


def test_a_planned_inspection_is_seen_only_by_inspectors_and_admin(county):
    answer = plan(county)
    planned = answer["inspection"]
    assert not answer["replayed"] and planned["status"] == "planned"
    assert planned["township_code"] == T1 and planned["planned_by"] == INSPECTOR
    assert county.outbox() == []  # announced to nobody
    assert inspections.get_inspection(county.store, "admin", planned["id"]) == planned
    for outsider in (f"township:{T1}", "department:agri"):
        hidden = refused(inspections.get_inspection, county.store, outsider, planned["id"])
        unknown = refused(inspections.get_inspection, county.store, outsider, "isp_none")
        assert as_unknown(hidden, unknown, planned["id"], "isp_none")
        assert (hidden.status, hidden.type) == (404, "not-found")
    assert inspections.list_inspections(county.store, f"township:{T1}")["items"] == []
    assert inspections.list_inspections(county.store, f"township:{T1}", V1)["items"] == []
    assert [i["id"] for i in inspections.list_inspections(county.store, "admin")["items"]] \
        == [planned["id"]]


def test_only_inspectors_and_admin_plan_a_known_village(county):
    assert refused(plan, county, actor=f"township:{T1}").status == 403
    assert refused(plan, county, actor="department:agri").status == 403
    unknown = refused(plan, county, village=f"{T1}299")
    assert (unknown.status, unknown.type) == (422, "unknown-village")
    assert plan(county, actor="admin")["inspection"]["planned_by"] == "admin"


def test_a_repeated_key_replays_the_plan(county):
    first = plan(county, key="k1")
    assert plan(county, key="k1") == {"inspection": first["inspection"], "replayed": True}
    assert refused(plan, county, village=V1B, key="k1").type == "idempotency-key-reused"


def test_filing_tells_the_township_counts_absences_and_cannot_change(county):
    present = county.assign(county.cadre(name="甲"), V1, "leader")
    absent = county.assign(county.cadre("water", name="乙"), V1)
    county.clear_outbox()
    planned = plan(county)["inspection"]
    filed = inspections.file_report(county.store, INSPECTOR, planned["id"],
                                    report([present["cadre_id"]], [absent["cadre_id"]]))
    assert filed["status"] == "filed" and filed["report"]["score"] == 80
    [event] = county.outbox()
    assert (event["type"], event["township_code"], event["data"]["cadres_absent"]) \
        == ("assignment.inspection_filed", T1, [absent["cadre_id"]])
    team = {a["id"]: a["inspections_absent"]
            for a in assignments.village_team(county.store, "admin", V1)["items"]}
    assert team == {present["id"]: 0, absent["id"]: 1}
    # now its township sees it, in its list and by id; another township does not
    assert inspections.get_inspection(county.store, f"township:{T1}", planned["id"]) == filed
    assert [i["id"] for i in inspections.list_inspections(county.store, f"township:{T1}")
            ["items"]] == [planned["id"]]
    assert refused(inspections.get_inspection, county.store, f"township:{T2}",
                   planned["id"]).status == 404
    # its township sees the filed one but may not report on it; another township is told it
    # does not exist
    assert refused(inspections.file_report, county.store, f"township:{T1}", planned["id"],
                   report()).status == 403
    assert refused(inspections.file_report, county.store, f"township:{T2}", planned["id"],
                   report()).status == 404
    again = refused(inspections.file_report, county.store, INSPECTOR, planned["id"], report())
    assert (again.status, again.type) == (409, "inspection-filed")
    assert len(county.outbox()) == 1


@pytest.mark.parametrize("actor, inspection_id, body, status, type", [
    (f"township:{T1}", None, report(), 404, "not-found"),   # as if it did not exist
    (INSPECTOR, "isp_none", report(), 404, "not-found"),
    (INSPECTOR, None, report(absent=["cdr_stranger"]), 422, "unknown-cadre"),
    (INSPECTOR, None, {"score": 80}, 422, "validation-failed"),
])
def test_a_report_is_refused(county, actor, inspection_id, body, status, type):
    planned = plan(county)["inspection"]
    problem = refused(inspections.file_report, county.store, actor,
                      inspection_id or planned["id"], body)
    assert (problem.status, problem.type) == (status, type)
    assert inspections.get_inspection(county.store, "admin", planned["id"])["status"] \
        == "planned"


def test_lists_by_village_and_who_may_list(county):
    first, second = plan(county)["inspection"], plan(county, V2)["inspection"]
    listed = inspections.list_inspections(county.store, "admin", limit=1)
    assert [i["id"] for i in listed["items"]] == [first["id"]] and listed["next"] == first["id"]
    rest = inspections.list_inspections(county.store, "admin", after=listed["next"])
    assert [i["id"] for i in rest["items"]] == [second["id"]]
    assert [i["id"] for i in inspections.list_inspections(county.store, INSPECTOR, V2)
            ["items"]] == [second["id"]]
    other = refused(inspections.list_inspections, county.store, f"township:{T1}", V2)
    assert (other.status, other.type, other.detail) == (
        403, "forbidden", f"township:{T1} may not read another township's villages")
    assert refused(inspections.list_inspections, county.store, "department:agri").status == 403
