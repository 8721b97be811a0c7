"""An event published while its consumer has never run is held, and handled once it starts."""
import time

import pytest

from tests.support.system import isolated_system, wait_until

pytestmark = pytest.mark.e2e

LATE_REDIS_DB = 12


@pytest.fixture
def system_without_notifications(amqp_uri, redis_server):
    with isolated_system(amqp_uri, redis_server.flushed_url(LATE_REDIS_DB),
                         "assignment", "resources", "gateway",
                         expect=("assignment", "resources")) as system:
        yield system


def test_commitment_made_before_notifications_ever_started_arrives_exactly_once(
        system_without_notifications):
    system = system_without_notifications
    with system.client() as admin:
        admin.put("/v1/townships/610581100", json={"name": "城关街道", "county_code": "610581"})
        admin.put("/v1/villages/610581100201",
                  json={"name": "东村", "township_code": "610581100", "hardship": 4})
        admin.put("/v1/departments/agri", json={"name": "县农业农村局", "level": "county"})
        admin.post("/v1/departments/agri/pool",
                   json={"kind": "cement", "unit": "吨", "quantity": "10"})
        committed = admin.post("/v1/commitments", json={
            "department_code": "agri", "village_code": "610581100201", "kind": "cement",
            "unit": "吨", "quantity": "2"})
        assert committed.status_code == 201, committed.text
        health = admin.get("/health")
        assert health.status_code == 503
        assert health.json()["services"]["notifications"] == "down"

        system.start("notifications")
        system.wait_healthy()

        def inbox():
            return admin.get("/v1/townships/610581100/notifications").json()["items"]

        wait_until(inbox, 15, what="the held commitment to reach the inbox")
        time.sleep(1.0)  # anything delivered twice would show up by now
        items = inbox()
    assert [item["data"]["id"] for item in items] == [committed.json()["id"]]
    assert "东村" in items[0]["title_zh"]
