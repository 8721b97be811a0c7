"""Pools, needs and the commitment lifecycle over HTTP, against several service replicas."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import create_key
from tests.support.system import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def parties(system, county):
    with system.client() as admin:
        admin.put("/v1/departments/water", json={"name": "县水利局", "level": "county"})
        admin.post(f"/v1/departments/{county['department']}/pool",
                   json={"kind": "cement", "unit": "吨", "quantity": "100"})
        admin.post("/v1/departments/water/pool",
                   json={"kind": "cement", "unit": "吨", "quantity": "1000"})
    return {
        "department": create_key(system, f"department:{county['department']}"),
        "water": create_key(system, "department:water"),
        "township": create_key(system, f"township:{county['township']}"),
        "neighbour": create_key(system, "township:619999997"),
    }


def commit(system, key, county, quantity, department=None, need_id=None, idem=None):
    body = {"department_code": department or county["department"],
            "village_code": county["village"], "kind": "cement", "unit": "吨",
            "quantity": quantity}
    if need_id:
        body["need_id"] = need_id
    headers = {"Idempotency-Key": idem} if idem else {}
    with system.client(key) as client:
        return client.post("/v1/commitments", json=body, headers=headers)


def pool_of(system, county):
    with system.client() as admin:
        items = admin.get(f"/v1/departments/{county['department']}/pool").json()["items"]
    return next(i for i in items if i["kind"] == "cement")


def test_lifecycle_moves_forward_and_settles_the_pool(system, county, parties):
    first = commit(system, parties["department"], county, "30").json()
    second = commit(system, parties["department"], county, "20").json()
    assert pool_of(system, county)["reserved"] == "50.00"
    with system.client(parties["department"]) as department:
        partial = department.post(f"/v1/commitments/{first['id']}/deliver",
                                  json={"quantity": "25"})
        assert partial.status_code == 200, partial.text
        assert (partial.json()["status"], partial.json()["released"]) == ("delivered", "5.00")
        again = department.post(f"/v1/commitments/{first['id']}/deliver", json={})
        assert again.status_code == 409
        assert again.json()["status"] == 409  # the problem's status, not the commitment's
        assert again.json()["current_status"] == "delivered"
        late_cancel = department.post(f"/v1/commitments/{first['id']}/cancel",
                                      json={"reason": "太晚了"})
        assert late_cancel.status_code == 409
        cancelled = department.post(f"/v1/commitments/{second['id']}/cancel",
                                    json={"reason": "改拨其他村"})
        assert cancelled.json()["status"] == "cancelled"
        assert department.post(f"/v1/commitments/{second['id']}/confirm").status_code == 403
    pool = pool_of(system, county)
    assert (pool["reserved"], pool["delivered"], pool["available"]) == ("0.00", "25.00",
                                                                         "75.00")
    with system.client(parties["neighbour"]) as neighbour:
        # another township's commitment is answered as an unknown one (CONTRACT §2)
        hidden = neighbour.post(f"/v1/commitments/{first['id']}/confirm")
        missing = neighbour.post("/v1/commitments/cmt_00000000000000000000000000/confirm")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["type"] == missing.json()["type"] == "not-found"
    with system.client(parties["township"]) as township:
        confirmed = township.post(f"/v1/commitments/{first['id']}/confirm")
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
        assert township.post(f"/v1/commitments/{first['id']}/confirm").status_code == 409
        listed = township.get("/v1/commitments", params={"village": county["village"],
                                                         "status": "confirmed"})
        assert [c["id"] for c in listed.json()["items"]] == [first["id"]]

    def village_view():
        with system.client(parties["township"]) as township:
            return township.get(f"/v1/villages/{county['village']}/resources").json()

    wait_until(lambda: village_view()["items"] and village_view()["items"][0]["confirmed"]
               == "25.00", 10, what="the village's view to show the confirmed delivery")
    [line] = village_view()["items"]
    assert (line["committed"], line["delivered"], line["confirmed"]) == ("0.00", "25.00",
                                                                         "25.00")
    assert line["departments"][county["department"]]["delivered"] == "25.00"
    with system.client(parties["neighbour"]) as neighbour:
        assert neighbour.get(f"/v1/villages/{county['village']}/resources").status_code == 403

    types = {i["type"] for i in wait_until(
        lambda: [i for i in _inbox(system, county) if i["type"] in {
            "resources.commitment_delivered", "resources.commitment_confirmed",
            "resources.commitment_cancelled"}] if len({i["type"] for i in _inbox(
                system, county)}) >= 4 else None, 10, what="lifecycle notifications")}
    assert {"resources.commitment_delivered", "resources.commitment_confirmed",
            "resources.commitment_cancelled"} <= types


def _inbox(system, county):
    with system.client() as admin:
        return admin.get(f"/v1/townships/{county['township']}/notifications",
                         params={"limit": 500}).json()["items"]


def test_a_need_is_never_over_committed_and_its_status_is_derived(system, county, parties):
    with system.client(parties["township"]) as township:
        raised = township.post(f"/v1/villages/{county['village']}/needs", json={
            "kind": "cement", "unit": "吨", "quantity": "40", "category": "economy",
            "purpose": "修建花椒晾晒场"})
        assert raised.status_code == 201, raised.text
        need = raised.json()
        assert (need["status"], need["requested"], need["committed"]) == ("open", "40.00",
                                                                          "0.00")
    with system.client(parties["department"]) as department:
        assert department.post(f"/v1/villages/{county['village']}/needs", json={
            "kind": "cement", "unit": "吨", "quantity": "1", "category": "economy",
            "purpose": "x"}).status_code == 403

    def offer(args):
        key, department = args
        return commit(system, key, county, "15", department=department, need_id=need["id"])

    offers = [(parties["department"], county["department"]), (parties["water"], "water")] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(offer, offers))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 201] + [409] * 6  # 15 + 15 fit in 40; a third 15 does not
    assert {a.json()["type"] for a in answers if a.status_code == 409} == {
        "need-overcommitted"}
    rest = commit(system, parties["water"], county, "10", department="water",
                  need_id=need["id"], idem="last-ten")
    assert rest.status_code == 201
    replay = commit(system, parties["water"], county, "10", department="water",
                    need_id=need["id"], idem="last-ten")  # the need is full by now
    assert (replay.status_code, replay.json()["id"]) == (201, rest.json()["id"])
    with system.client(parties["township"]) as township:
        body = {"kind": "cement", "unit": "吨", "quantity": "2", "category": "economy",
                "purpose": "同一个键"}
        headers = {"Idempotency-Key": "need-1"}
        first = township.post(f"/v1/villages/{county['village']}/needs", json=body,
                              headers=headers)
        again = township.post(f"/v1/villages/{county['village']}/needs", json=body,
                              headers=headers)
        assert (again.status_code, again.json()["id"]) == (201, first.json()["id"])
        other = township.post(f"/v1/villages/{county['village']}/needs",
                              json={**body, "quantity": "3"}, headers=headers)
        assert (other.status_code, other.json()["type"]) == (409, "idempotency-key-reused")

    def need_now():
        with system.client(parties["township"]) as township:
            items = township.get(f"/v1/villages/{county['village']}/needs").json()["items"]
        return next(n for n in items if n["id"] == need["id"])

    assert need_now()["status"] == "covered" and need_now()["lacking"] == "0.00"
    assert need_now()["committed"] == "40.00"  # the replay held nothing more
    with system.client(parties["water"]) as water:
        water.post(f"/v1/commitments/{rest.json()['id']}/cancel", json={"reason": "调整"})
    wait_until(lambda: need_now()["status"] == "open", 10, what="the need to reopen")
    assert need_now()["committed"] == "30.00"


def test_needs_are_ranked_hardest_first(system, county, parties):
    with system.client() as admin:
        easy = f"{county['township']}301"
        admin.put(f"/v1/villages/{easy}", json={"name": "平川村",
                                                 "township_code": county["township"],
                                                 "hardship": 1})
    raised = []
    with system.client(parties["township"]) as township:
        for village, quantity in ((easy, "10"), (county["village"], "10"),
                                  (county["village"], "50")):
            response = township.post(f"/v1/villages/{village}/needs", json={
                "kind": "seedlings", "unit": "株", "quantity": quantity,
                "category": "economy", "purpose": "一村一品"})
            assert response.status_code == 201, response.text
            raised.append(response.json()["id"])
    # half of the 10 is committed: the 50 (all uncovered) ranks above it in the same village
    with system.client() as admin:
        admin.post(f"/v1/departments/{county['department']}/pool",
                   json={"kind": "seedlings", "unit": "株", "quantity": "5"})
        assert admin.post("/v1/commitments", json={
            "department_code": county["department"], "village_code": county["village"],
            "kind": "seedlings", "unit": "株", "quantity": "5",
            "need_id": raised[1]}).status_code == 201
    with system.client(parties["township"]) as township:
        ranked = township.get("/v1/needs", params={"kind": "seedlings"}).json()["items"]
    assert [n["id"] for n in ranked] == [raised[2], raised[1], raised[0]]
    with system.client(parties["neighbour"]) as neighbour:
        assert neighbour.get("/v1/needs", params={"kind": "seedlings"}).json()["items"] == []
        assert neighbour.get("/v1/needs", params={"township": county["township"]}
                             ).status_code == 403


def test_a_hundred_concurrent_commitments_against_two_replicas_never_over_commit(
        system, county, parties):
    system.start_replica("resources")
    system.wait_healthy()
    with system.client() as admin:
        admin.put("/v1/departments/roads", json={"name": "县交通局", "level": "county"})
        admin.post("/v1/departments/roads/pool",
                   json={"kind": "gravel", "unit": "方", "quantity": "37.5"})
    roads = create_key(system, "department:roads")

    def one(n):
        with system.client(roads, timeout=30) as client:
            return client.post("/v1/commitments", json={
                "department_code": "roads", "village_code": county["village"],
                "kind": "gravel", "unit": "方", "quantity": "0.75" if n % 2 else "0.50"})

    with ThreadPoolExecutor(max_workers=25) as pool:  # several clients, two replicas
        answers = list(pool.map(one, range(100)))
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 409}
    committed = sum(float(a.json()["quantity"]) for a in answers if a.status_code == 201)
    with system.client(roads) as client:
        [item] = client.get("/v1/departments/roads/pool").json()["items"]
    assert float(item["reserved"]) == committed <= 37.5
    assert float(item["available"]) == 37.5 - committed < 0.75
    assert all(a.json()["type"] == "insufficient-pool" for a in answers
               if a.status_code == 409)


def test_a_township_reading_a_department_s_commitments_pages_over_its_own_alone(
        system, county, parties):
    """A township asking for a department's commitments gets those to its own villages,
    paged over them alone: no page, count or cursor tells it of another township's (it once
    paged the department's county-wide list and filtered it, answering the last id read)."""
    neighbour_village = "619999997201"
    with system.client() as admin:
        admin.put("/v1/townships/619999997", json={"name": "邻镇", "county_code": "619999"})
        admin.put(f"/v1/villages/{neighbour_village}", json={
            "name": "邻村", "township_code": "619999997", "hardship": 2})
    own, theirs = [], []
    for n in range(5):  # the department's list begins with, and interleaves, the neighbour's
        village = county["village"] if n % 2 else neighbour_village
        with system.client(parties["department"]) as department:
            made = department.post("/v1/commitments", json={
                "department_code": county["department"], "village_code": village,
                "kind": "cement", "unit": "吨", "quantity": "1"})
        assert made.status_code == 201, made.text
        (own if n % 2 else theirs).append(made.json()["id"])

    def walk(key):
        seen, cursors, after = [], [], None
        with system.client(key) as township:
            while True:
                params = {"department": county["department"], "limit": 1,
                          **({"after": after} if after else {})}
                answer = township.get("/v1/commitments", params=params).json()
                seen.append([c["id"] for c in answer["items"]])
                if answer["next"] is None:
                    return seen, cursors
                cursors.append(answer["next"])
                after = answer["next"]

    def walked(key, count):
        """The walk once it holds `count` commitments (a township's lists are built from the
        commitments' events: a moment behind the answers)."""
        pages, cursors = walk(key)
        return (pages, cursors) if sum(map(len, pages)) == count else None

    pages, cursors = wait_until(lambda: walked(parties["township"], 2), 10,
                                what="the township's own two commitments")
    assert sorted(sum(pages, [])) == sorted(own)
    assert all(len(page) == 1 for page in pages)  # no empty page, no count of theirs
    assert set(cursors) <= set(own)  # no cursor is another township's id
    their_pages, _ = wait_until(lambda: walked(parties["neighbour"], 3), 10,
                                what="the neighbour's three")
    assert sorted(sum(their_pages, [])) == sorted(theirs)


def test_a_commitment_a_caller_may_not_see_is_answered_as_an_unknown_one(
        system, county, parties):
    made = commit(system, parties["department"], county, "1").json()
    for key in (parties["neighbour"], parties["water"]):
        with system.client(key) as outsider:
            hidden = outsider.get(f"/v1/commitments/{made['id']}")
            missing = outsider.get("/v1/commitments/cmt_00000000000000000000000000")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["type"] == missing.json()["type"] == "not-found"
        assert hidden.json().keys() == missing.json().keys()
    for key in (parties["township"], parties["department"]):
        with system.client(key) as reader:
            assert reader.get(f"/v1/commitments/{made['id']}").json() == made
