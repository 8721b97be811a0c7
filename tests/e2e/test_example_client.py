"""The example department client (examples/department_client.py) against the whole system.

It runs as a department's IT staff would run it: its own process, the department's broker
account made by `guabang broker add-department`, the password in the environment.
"""
import json
import os
import subprocess
import sys
import uuid
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import create_key
from tests.support.system import ROOT

pytestmark = pytest.mark.e2e

CLIENT = ROOT / "examples" / "department_client.py"


@pytest.fixture
def department(system, county, broker_admin):
    """The department's broker account (deleted afterwards) and a pool of 10 吨 of fertiliser,
    added over HTTP."""
    key = create_key(system, f"department:{county['department']}")
    with system.client(key) as client:
        pooled = client.post(f"/v1/departments/{county['department']}/pool",
                             json={"kind": "fertiliser", "unit": "吨", "quantity": "10"})
    assert pooled.status_code == 201, pooled.text
    try:
        made = subprocess.run([sys.executable, "-m", "services.cli", "broker", "add-department",
                               county["department"]], env=system.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        broker = urlparse(system.env["AMQP_URI"])
        yield {"code": county["department"], "key": key, "password": made.stdout.strip(),
               # what the county operator hands over: where the broker is, without credentials
               "amqp_uri": f"amqp://{broker.hostname}:{broker.port}{broker.path}"}
    finally:
        broker_admin.delete_user(f"dept-{county['department']}")


def run_client(department, county, quantity, idempotency_key, *extra):
    env = {**os.environ, "GUABANG_BROKER_PASSWORD": department["password"]}
    return subprocess.run(
        [sys.executable, str(CLIENT), "--amqp-uri", department["amqp_uri"],
         "--department", department["code"], "--village", county["village"],
         "--kind", "fertiliser", "--unit", "吨", "--quantity", quantity,
         "--idempotency-key", idempotency_key, "--timeout", "15", *extra],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_the_example_client_commits_replays_and_reports_a_refusal(system, county, department):
    key = f"order-{uuid.uuid4().hex[:8]}"
    first = run_client(department, county, "2.5", key)
    assert first.returncode == 0, first.stdout + first.stderr
    reply = json.loads(first.stdout)
    assert reply["status"] == 201
    commitment = reply["body"]
    assert (commitment["status"], commitment["quantity"]) == ("committed", "2.50")
    assert commitment["department_code"] == department["code"]

    again = run_client(department, county, "2.5", key)  # a retry with the same key
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["body"]["id"] == commitment["id"]

    too_much = run_client(department, county, "100", f"order-{uuid.uuid4().hex[:8]}")
    assert too_much.returncode == 1, too_much.stdout + too_much.stderr
    assert "insufficient-pool" in too_much.stdout
    refused = json.loads(too_much.stdout)
    assert (refused["status"], refused["body"]["available"]) == (409, "7.50")

    with system.client(department["key"]) as client:
        [item] = client.get(f"/v1/departments/{department['code']}/pool").json()["items"]
    assert (item["reserved"], item["available"]) == ("2.50", "7.50")  # reserved once


def test_direct_reply_to_works_with_a_department_account(system, county, department):
    answered = run_client(department, county, "1", f"order-{uuid.uuid4().hex[:8]}",
                          "--direct-reply-to")
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert json.loads(answered.stdout)["body"]["status"] == "committed"
