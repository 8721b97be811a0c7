"""The HTTP door as an integrator meets it: keys, scoping, problems, operations endpoints."""
import json
import os
import subprocess
import sys

import httpx
import pytest

from tests.e2e.conftest import create_key
from tests.support.system import ROOT

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"


def assert_problem(response, status, type_):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"] == type_ and body["status"] == status and body["detail"]
    return body


def test_no_key_unknown_key_and_revoked_key_are_401(system):
    assert_problem(httpx.get(f"{system.base_url}/v1/townships"), 401, "unauthorized")
    with system.client("gbk_not-a-key") as stranger:
        assert_problem(stranger.get("/v1/townships"), 401, "unauthorized")
    with system.client() as admin:
        created = admin.post("/v1/api-keys", json={"principal": "inspector:省督查组"}).json()
    with system.client(created["key"]) as inspector:
        assert inspector.get("/v1/townships").status_code == 200
        with system.client() as admin:
            assert admin.delete(f"/v1/api-keys/{created['id']}").status_code == 204
            assert_problem(admin.delete(f"/v1/api-keys/{created['id']}"), 404, "not-found")
        assert_problem(inspector.get("/v1/townships"), 401, "unauthorized")


def test_only_admin_creates_keys_and_principals_are_validated(system, county):
    department_key = create_key(system, f"department:{county['department']}")
    with system.client(department_key) as department:
        assert_problem(department.post("/v1/api-keys", json={"principal": "admin"}), 403,
                       "forbidden")
    with system.client() as admin:
        body = assert_problem(admin.post("/v1/api-keys", json={"principal": "mayor"}), 422,
                              "validation-failed")
    assert body["errors"][0]["loc"] == ["body", "principal"]


def test_a_township_reads_only_its_own_inbox_and_villages(system, county):
    own = create_key(system, f"township:{county['township']}")
    other = create_key(system, "township:619999999")
    with system.client(own) as township:
        assert township.get(f"/v1/townships/{county['township']}/notifications").status_code \
            == 200
        listed = township.get("/v1/townships").json()["items"]
        assert [t["code"] for t in listed] == [county["township"]]
        assert township.get(f"/v1/villages/{county['village']}").status_code == 200
    with system.client(other) as neighbour:
        assert_problem(neighbour.get(f"/v1/townships/{county['township']}/notifications"),
                       403, "forbidden")
        assert_problem(neighbour.get(f"/v1/villages/{county['village']}"), 403, "forbidden")
        assert_problem(neighbour.get("/v1/villages", params={"township": county["township"]}),
                       403, "forbidden")


def test_a_department_acts_only_for_itself_and_a_refusal_changes_nothing(system, county):
    with system.client() as admin:
        admin.post(f"/v1/departments/{county['department']}/pool",
                   json={"kind": "cement", "unit": "吨", "quantity": "5"})
        admin.put("/v1/departments/water", json={"name": "县水利局", "level": "county"})
    water = create_key(system, "department:water")
    with system.client(water) as other:
        assert_problem(other.post(f"/v1/departments/{county['department']}/pool",
                                  json={"kind": "cement", "unit": "吨", "quantity": "5"}),
                       403, "forbidden")
        assert_problem(other.post("/v1/commitments", json={
            "department_code": county["department"], "village_code": county["village"],
            "kind": "cement", "unit": "吨", "quantity": "1"}), 403, "forbidden")
    with system.client() as admin:
        [item] = admin.get(f"/v1/departments/{county['department']}/pool").json()["items"]
    assert (item["pooled"], item["reserved"]) == ("5.00", "0.00")


def test_bad_input_gets_a_problem_that_says_what_is_wrong(system, county):
    with system.client() as admin:
        assert_problem(admin.post("/v1/commitments", content=b'{"department_code": '), 400,
                       "malformed-json")
        too_big = json.dumps({"note": "x" * (1024 * 1024 + 1)})
        assert_problem(admin.post("/v1/commitments", content=too_big), 413, "body-too-large")
        body = assert_problem(admin.post("/v1/commitments", json={
            "department_code": county["department"], "village_code": county["village"],
            "kind": "cement", "unit": "吨", "quantity": "1.005"}), 422, "validation-failed")
        assert body["errors"][0]["loc"] == ["body", "quantity"]
        assert_problem(admin.put("/v1/villages/610581888201", json={
            "name": "无名村", "township_code": "610581888", "hardship": 3}), 422,
            "unknown-township")
        assert_problem(admin.put("/v1/villages/610581100201", json={
            "name": "错村", "township_code": county["township"], "hardship": 3}), 422,
            "validation-failed")
        assert_problem(admin.post("/v1/commitments", json={
            "department_code": county["department"], "village_code": "610581888201",
            "kind": "cement", "unit": "吨", "quantity": "1"}), 422, "unknown-village")
        assert_problem(admin.get("/v1/no-such-thing"), 404, "not-found")
        assert_problem(admin.get("/v1/villages/610581777201"), 404, "not-found")
        assert_problem(admin.get("/v1/townships", params={"limit": "501"}), 422,
                       "validation-failed")


def test_chinese_names_round_trip_unchanged(system, county):
    with system.client() as admin:
        village = admin.get(f"/v1/villages/{county['village']}").json()
    assert village["name"] == "东村" and village["tags"] == ["苹果"]


def test_operations_endpoints_need_no_key(system):
    health = httpx.get(f"{system.base_url}/health")
    assert health.json() == {"status": "ok", "services": {
        "assignment": "ok", "resources": "ok", "notifications": "ok"}}
    openapi = httpx.get(f"{system.base_url}/openapi.json").json()
    assert openapi["openapi"] == "3.1.0" and "/v1/commitments" in openapi["paths"]
    metrics = httpx.get(f"{system.base_url}/metrics")
    assert 'guabang_http_requests_total{method="GET",route="/health",status="200"}' \
        in metrics.text


def test_keys_created_on_the_command_line_work_over_http(system, county):
    created = subprocess.run(
        [sys.executable, "-m", "services.cli", "keys", "create",
         f"township:{county['township']}"],
        env=system.env, cwd=ROOT, capture_output=True, text=True, timeout=30, check=True)
    key = created.stdout.strip()
    with system.client(key) as township:
        assert township.get(f"/v1/townships/{county['township']}").status_code == 200
    refused = subprocess.run([sys.executable, "-m", "services.cli", "keys", "create", "mayor"],
                             env=system.env, cwd=ROOT, capture_output=True, text=True,
                             timeout=30)
    assert refused.returncode == 2 and "not a principal" in refused.stderr


def test_a_service_says_what_to_do_when_the_broker_does_not_answer(redis_server):
    env = {**os.environ, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
           "REDIS_URL": redis_server.url}
    result = subprocess.run([sys.executable, "-m", "services.cli", "run", "assignment"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "RabbitMQ does not answer" in result.stderr and "AMQP_URI" in result.stderr
