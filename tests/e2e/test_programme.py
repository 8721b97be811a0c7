"""The programme over HTTP: cadres, assignments, work, problems and unannounced inspections."""
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import httpx
import pytest

from tests.e2e.conftest import create_key
from tests.support.system import wait_until

pytestmark = pytest.mark.e2e

PHONE = "13800138000"


@pytest.fixture
def keys(system, county):
    return {
        "department": create_key(system, f"department:{county['department']}"),
        "township": create_key(system, f"township:{county['township']}"),
        "neighbour": create_key(system, "township:619999998"),
        "inspector": create_key(system, "inspector:省委督查组"),
    }


def register_cadre(system, county, key, name="王建国"):
    with system.client(key) as client:
        response = client.post("/v1/cadres", json={
            "name": name, "department_code": county["department"], "phone": PHONE,
            "title": "副局长"})
    assert response.status_code == 201, response.text
    return response.json()


def assign(system, key, cadre_id, village, role="member", starts="2026-01-01",
           ends="2026-12-31"):
    with system.client(key) as client:
        return client.post("/v1/assignments", json={
            "cadre_id": cadre_id, "village_code": village, "role": role,
            "starts_on": starts, "ends_on": ends})


def inbox(system, county, key=None):
    with system.client(key) as client:
        response = client.get(f"/v1/townships/{county['township']}/notifications",
                              params={"limit": 500})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def second_village(system, county, number="202"):
    code = f"{county['township']}{number}"
    with system.client() as admin:
        assert admin.put(f"/v1/villages/{code}", json={
            "name": "西村", "township_code": county["township"], "hardship": 3}).status_code \
            in (200, 201)
    return code


def test_phone_is_shown_only_to_admin_and_the_cadres_department(system, county, keys):
    cadre = register_cadre(system, county, keys["department"])
    assert cadre["phone"] == PHONE
    assert assign(system, keys["department"], cadre["id"], county["village"]).status_code == 201
    with system.client() as admin:
        assert admin.get(f"/v1/cadres/{cadre['id']}").json()["phone"] == PHONE
    with system.client(keys["township"]) as township:
        seen = township.get(f"/v1/cadres/{cadre['id']}")
        assert seen.status_code == 200 and seen.json()["phone"] is None
        team = township.get(f"/v1/villages/{county['village']}/team").json()["items"]
        assert [a["cadre_name"] for a in team] == ["王建国"]
    with system.client(keys["neighbour"]) as neighbour:
        # a cadre it may not see is answered as an unknown one (CONTRACT §2)
        assert neighbour.get(f"/v1/cadres/{cadre['id']}").status_code == 404
    items = wait_until(lambda: inbox(system, county), 10, what="the assignment notification")
    assert items[0]["type"] == "assignment.assignment_started"
    assert "王建国" in items[0]["title_zh"]
    assert PHONE not in str(items)


def test_assignment_rules(system, county, keys):
    dept = keys["department"]
    first = register_cadre(system, county, dept, "李明")
    second = register_cadre(system, county, dept, "张华")
    other_village = second_village(system, county)

    assert assign(system, dept, first["id"], county["village"], "leader").status_code == 201
    overlapping = assign(system, dept, first["id"], other_village, starts="2026-06-01",
                         ends="2027-05-31")
    assert overlapping.status_code == 409
    assert overlapping.json()["type"] == "cadre-already-assigned"
    taken = assign(system, dept, second["id"], county["village"], "leader")
    assert taken.status_code == 409 and taken.json()["type"] == "role-taken"
    backwards = assign(system, dept, second["id"], other_village, starts="2026-05-01",
                       ends="2026-04-30")
    assert backwards.status_code == 422
    assert assign(system, dept, second["id"], county["village"], "first_secretary"
                  ).status_code == 201

    with system.client(create_key(system, "department:water")) as other_department:
        stranger = other_department.post("/v1/assignments", json={
            "cadre_id": first["id"], "village_code": other_village, "role": "member",
            "starts_on": "2027-01-01", "ends_on": "2027-12-31"})
        # another department's cadre is answered as an unknown one (CONTRACT §2)
        assert (stranger.status_code, stranger.json()["type"]) == (422, "unknown-cadre")


def test_ending_keeps_history_and_a_leaderless_village_is_flagged(system, county, keys):
    dept = keys["department"]
    cadre = register_cadre(system, county, dept)
    leader = assign(system, dept, cadre["id"], county["village"], "leader").json()
    with system.client(dept) as department:
        ended = department.post(f"/v1/assignments/{leader['id']}/end",
                                json={"reason": "recalled", "note": "工作调整"})
        assert ended.status_code == 200 and ended.json()["status"] == "recalled"
        again = department.post(f"/v1/assignments/{leader['id']}/end",
                                json={"reason": "completed"})
        assert again.status_code == 409
        later = assign(system, dept, cadre["id"], county["village"], "member",
                       starts="2027-01-01", ends="2027-06-30")
        assert later.status_code == 201
        history = department.get(f"/v1/cadres/{cadre['id']}/assignments").json()["items"]
    assert [a["status"] for a in history] == ["active", "recalled"]
    assert history[1]["end_note"] == "工作调整"

    def types():
        return [item["type"] for item in inbox(system, county)]

    wait_until(lambda: "assignment.village_leaderless" in types(), 10,
               what="the leaderless flag")
    assert types().count("assignment.village_leaderless") == 1


def test_twenty_simultaneous_assignments_of_one_cadre_one_wins(system, county, keys):
    cadre = register_cadre(system, county, keys["department"])
    villages = [second_village(system, county, f"{300 + n}") for n in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(
            lambda village: assign(system, keys["department"], cadre["id"], village), villages))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * 19
    with system.client() as admin:
        history = admin.get(f"/v1/cadres/{cadre['id']}/assignments").json()["items"]
    assert len(history) == 1


def test_simultaneous_leaders_for_one_village_one_wins(system, county, keys):
    cadres = [register_cadre(system, county, keys["department"], f"干部{n}") for n in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda c: assign(system, keys["department"], c["id"],
                                                 county["village"], "leader"), cadres))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 9
    assert {a.json()["type"] for a in answers if a.status_code == 409} == {"role-taken"}


def test_work_logs_add_up_in_the_summaries(system, county, keys):
    dept = keys["department"]
    cadre = register_cadre(system, county, dept)
    assignment = assign(system, dept, cadre["id"], county["village"]).json()
    logs = [("2026-03-01", "plan", 5), ("2026-03-01", "dispute", 2),
            ("2026-03-02", "economy", 12)]
    with system.client(dept) as department:
        for day, task, households in logs:
            logged = department.post(f"/v1/assignments/{assignment['id']}/logs", json={
                "date": day, "task": task, "households_visited": households,
                "note": "走访农户"})
            assert logged.status_code == 201, logged.text
        outside = department.post(f"/v1/assignments/{assignment['id']}/logs", json={
            "date": "2025-12-31", "task": "plan", "households_visited": 1, "note": ""})
        assert outside.status_code == 422
    with system.client(keys["township"]) as township:
        village = township.get(f"/v1/villages/{county['village']}/work-summary").json()
        person = township.get(f"/v1/cadres/{cadre['id']}/work-summary").json()
    for summary in (village, person):
        assert summary["days_logged"] == 2
        assert summary["households_visited"] == 19
        assert summary["entries_by_task"] == {"plan": 1, "economy": 1, "dispute": 1,
                                              "organization": 0}
    with system.client(keys["neighbour"]) as neighbour:
        assert neighbour.get(f"/v1/villages/{county['village']}/work-summary"
                             ).status_code == 403


def test_problems_ledger(system, county, keys):
    with system.client(keys["township"]) as township:
        reported = township.post(f"/v1/villages/{county['village']}/problems", json={
            "category": "dispute", "title": "宅基地边界纠纷", "detail": "两户争议三米"})
        assert reported.status_code == 201 and reported.json()["status"] == "open"
        problem = reported.json()
    with system.client(keys["department"]) as department:
        # the department has no cadre serving there yet
        assert department.post(f"/v1/villages/{county['village']}/problems", json={
            "category": "economy", "title": "苹果销路"}).status_code == 403
    cadre = register_cadre(system, county, keys["department"])
    assign(system, keys["department"], cadre["id"], county["village"])
    with system.client(keys["department"]) as department:
        assert department.post(f"/v1/villages/{county['village']}/problems", json={
            "category": "economy", "title": "苹果销路"}).status_code == 201
        assert department.post(f"/v1/problems/{problem['id']}/resolve",
                               json={"resolution": "已调解"}).status_code == 403
    with system.client(keys["township"]) as township:
        resolved = township.post(f"/v1/problems/{problem['id']}/resolve",
                                 json={"resolution": "村委会调解，双方签字"})
        assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
        assert township.post(f"/v1/problems/{problem['id']}/resolve",
                             json={"resolution": "again"}).status_code == 409
        listed = township.get(f"/v1/villages/{county['village']}/problems",
                              params={"status": "open"}).json()["items"]
        assert [p["title"] for p in listed] == ["苹果销路"]
    wait_until(lambda: {"assignment.problem_reported", "assignment.problem_resolved"} <= {
        item["type"] for item in inbox(system, county)}, 10, what="problem notifications")


def test_a_planned_inspection_leaks_nowhere_until_its_report_is_filed(system, county, keys):
    cadre = register_cadre(system, county, keys["department"])
    assignment = assign(system, keys["department"], cadre["id"], county["village"]).json()
    with system.client(keys["inspector"]) as inspector:
        planned = inspector.post("/v1/inspections", json={
            "village_code": county["village"], "planned_for": "2026-11-30"})
        assert planned.status_code == 201 and planned.json()["status"] == "planned"
    inspection_id = planned.json()["id"]

    for key in (keys["township"], keys["department"], keys["neighbour"]):
        with system.client(key) as outsider:
            hidden = outsider.get(f"/v1/inspections/{inspection_id}")
            unknown = outsider.get("/v1/inspections/isp_doesnotexist000000000000")
            assert hidden.status_code == unknown.status_code == 404
            assert hidden.json()["title"] == unknown.json()["title"]
            assert hidden.json()["type"] == unknown.json()["type"]
            listed = outsider.get("/v1/inspections", params={"village": county["village"]})
            assert listed.status_code in (200, 403)
            if listed.status_code == 200:
                assert listed.json()["items"] == []
            report = outsider.post(f"/v1/inspections/{inspection_id}/report", json={
                "visited_on": "2026-11-30", "score": 10, "findings": []})
            assert report.status_code in (403, 404)
    assert all(item["type"] != "assignment.inspection_filed" for item in inbox(system, county))
    assert "inspections" not in httpx.get(f"{system.base_url}/metrics").text  # no count either

    with system.client(keys["inspector"]) as inspector:
        filed = inspector.post(f"/v1/inspections/{inspection_id}/report", json={
            "visited_on": "2026-11-30", "score": 72, "findings": ["台账不全"],
            "cadres_present": [], "cadres_absent": [cadre["id"]]})
        assert filed.status_code == 200, filed.text
        assert filed.json()["status"] == "filed"
        refiled = inspector.post(f"/v1/inspections/{inspection_id}/report", json={
            "visited_on": "2026-11-30", "score": 99, "findings": []})
        assert refiled.status_code == 409
    with system.client(keys["township"]) as township:
        seen = township.get(f"/v1/inspections/{inspection_id}")
        assert seen.status_code == 200 and seen.json()["report"]["score"] == 72
        assert [i["id"] for i in township.get("/v1/inspections").json()["items"]] == [
            inspection_id]
    with system.client(keys["department"]) as department:
        history = department.get(f"/v1/cadres/{cadre['id']}/assignments").json()["items"]
    assert history[0]["id"] == assignment["id"] and history[0]["inspections_absent"] == 1
    items = wait_until(lambda: [i for i in inbox(system, county, keys["township"])
                                if i["type"] == "assignment.inspection_filed"], 10,
                       what="the filed inspection in the inbox")
    assert len(items) == 1 and "72" in items[0]["title_zh"]


def test_a_successor_booked_for_later_does_not_lead_the_village_today(system, county, keys):
    dept = keys["department"]
    today = date.today()
    current, successor = (register_cadre(system, county, dept, name) for name in ("甲", "乙"))
    leading = assign(system, dept, current["id"], county["village"], "leader",
                     starts=(today - timedelta(days=10)).isoformat(),
                     ends=(today + timedelta(days=10)).isoformat()).json()
    booked = assign(system, dept, successor["id"], county["village"], "leader",
                    starts=(today + timedelta(days=11)).isoformat(),
                    ends=(today + timedelta(days=300)).isoformat())
    assert booked.status_code == 201  # dates do not overlap: a successor may be booked ahead
    with system.client(dept) as department:
        ended = department.post(f"/v1/assignments/{leading['id']}/end",
                                json={"reason": "recalled"}).json()
    assert ended["village_left_leaderless"] is True
