"""A department commits; the village's township is told, exactly once."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import create_key
from tests.support.system import wait_until

pytestmark = pytest.mark.e2e


def commitment_body(county, quantity="1"):
    return {"department_code": county["department"], "village_code": county["village"],
            "kind": "seedlings", "unit": "株", "quantity": quantity}


def inbox(system, township, key=None):
    with system.client(key) as client:
        response = client.get(f"/v1/townships/{township}/notifications", params={"limit": 500})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_commitment_reaches_the_townships_inbox_once_with_titles(system, county):
    department_key = create_key(system, f"department:{county['department']}")
    township_key = create_key(system, f"township:{county['township']}")
    with system.client(department_key) as department:
        pooled = department.post(f"/v1/departments/{county['department']}/pool",
                                 json={"kind": "seedlings", "unit": "株", "quantity": "500"})
        assert pooled.status_code == 201, pooled.text
        assert pooled.json()["available"] == "500.00"
        committed = department.post("/v1/commitments", json=commitment_body(county, "120.5"),
                                    headers={"Idempotency-Key": "first"})
        assert committed.status_code == 201, committed.text
        body = committed.json()
        assert body["status"] == "committed" and body["quantity"] == "120.50"
        replay = department.post("/v1/commitments", json=commitment_body(county, "120.5"),
                                 headers={"Idempotency-Key": "first"})
        assert (replay.status_code, replay.json()) == (201, body)
        reused = department.post("/v1/commitments", json=commitment_body(county, "3"),
                                 headers={"Idempotency-Key": "first"})
        assert reused.status_code == 409
        assert reused.json()["type"] == "idempotency-key-reused"
        pool = department.get(f"/v1/departments/{county['department']}/pool").json()["items"]
        assert pool[0]["reserved"] == "120.50" and pool[0]["available"] == "379.50"

    items = wait_until(lambda: inbox(system, county["township"], township_key), 10,
                       what="the notification")
    [item] = items
    assert item["type"] == "resources.commitment_created"
    assert item["data"]["id"] == body["id"]
    assert item["village_code"] == county["village"]
    assert "东村" in item["title_zh"] and "县农业农村局" in item["title_zh"]
    assert "120.50 株" in item["title_en"]
    assert item["acked_at"] is None


def test_fifty_concurrent_commitments_against_twenty_commit_exactly_twenty(system, county):
    department_key = create_key(system, f"department:{county['department']}")
    with system.client(department_key) as department:
        assert department.post(f"/v1/departments/{county['department']}/pool",
                               json={"kind": "seedlings", "unit": "株",
                                     "quantity": "20"}).status_code == 201

    def commit(_):
        with system.client(department_key, timeout=30) as client:
            response = client.post("/v1/commitments", json=commitment_body(county))
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(commit, range(50)))

    statuses = [status for status, _ in answers]
    assert statuses.count(201) == 20, answers
    assert statuses.count(409) == 30
    assert all(body["type"] == "insufficient-pool" for status, body in answers if status == 409)
    with system.client(department_key) as department:
        [item] = department.get(f"/v1/departments/{county['department']}/pool").json()["items"]
    assert (item["pooled"], item["reserved"], item["available"]) == ("20.00", "20.00", "0.00")
    wait_until(lambda: len(inbox(system, county["township"])) == 20, 15,
               what="20 notifications")
