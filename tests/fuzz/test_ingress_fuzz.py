"""The AMQP ingress fuzzed with malformed bodies: every message is answered with a status (never
a 5xx), what is refused is parked, and the consumer goes on consuming."""
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kombu import Connection, Exchange, Queue

from tests.fuzz.conftest import EXAMPLES
from tests.support.infra import run_department
from tests.support.system import department_account, wait_until

pytestmark = pytest.mark.fuzz

INGRESS = Exchange("guabang.ingress", type="topic", durable=True, passive=True)
VILLAGE = "610581100201"
DEPARTMENT = run_department("fuzz")  # its broker account is this run's own
ACCOUNT = f"dept-{DEPARTMENT}"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                               max_size=4),
    max_leaves=10)
requestish = st.fixed_dictionaries({}, optional={
    "department_code": st.sampled_from([DEPARTMENT, "other", ""]) | st.text(max_size=8),
    "village_code": st.sampled_from([VILLAGE, "610581100299", "x"]),
    "kind": st.sampled_from(["cement", "CEMENT", ""]) | st.text(max_size=8),
    "unit": st.sampled_from(["吨", ""]) | st.text(max_size=5),
    "quantity": st.sampled_from(["1", "0", "-1", "1.001", "1e9", "abc"]) | json_values,
    "need_id": json_values, "note": json_values, "extra": json_values})
bodies = (st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode())
          | requestish.map(lambda v: json.dumps(v).encode()))


@pytest.fixture(scope="module")
def department_connection(fuzz_system, broker_admin):
    with fuzz_system.client() as admin:
        admin.put("/v1/townships/610581100", json={"name": "龙门镇", "county_code": "610581"})
        admin.put(f"/v1/villages/{VILLAGE}", json={"name": "东村",
                                                   "township_code": "610581100", "hardship": 3})
        admin.put(f"/v1/departments/{DEPARTMENT}", json={"name": "测试局", "level": "county"})
        admin.post(f"/v1/departments/{DEPARTMENT}/pool",
                   json={"kind": "cement", "unit": "吨", "quantity": "1000000"})
    with department_account(fuzz_system, broker_admin, DEPARTMENT) as uri, \
            Connection(uri) as connection:
        channel = connection.channel()
        replies = Queue(f"{ACCOUNT}.replies.{uuid.uuid4().hex[:6]}", exclusive=True)(channel)
        replies.declare()
        yield connection, channel, replies


def send(connection, channel, replies, body: bytes, content_type: str) -> dict:
    correlation = uuid.uuid4().hex
    connection.Producer(channel).publish(
        body, exchange=INGRESS, routing_key="commitment.create", user_id=ACCOUNT,
        message_id=uuid.uuid4().hex, reply_to=replies.name, correlation_id=correlation,
        content_type=content_type, content_encoding="binary")
    message = wait_until(lambda: replies.get(no_ack=True), 10, 0.02, "a reply")
    assert message.properties["correlation_id"] == correlation, (body, message.body)
    return json.loads(message.body)


@settings(max_examples=EXAMPLES * 20, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(body=bodies, content_type=st.sampled_from(["application/json", "text/plain",
                                                  "application/x-nonsense"]))
def test_any_message_gets_an_answer_and_never_a_server_error(department_connection, body,
                                                             content_type):
    reply = send(*department_connection, body, content_type)
    assert reply["status"] in (201, 400, 403, 409, 422), reply
    if reply["status"] != 201:
        assert reply["body"]["type"] and reply["body"]["detail"]


def test_the_consumer_still_consumes_after_the_fuzzing(department_connection):
    good = json.dumps({"department_code": DEPARTMENT, "village_code": VILLAGE, "kind": "cement",
                       "unit": "吨", "quantity": "1"}).encode()
    assert send(*department_connection, good, "application/json")["status"] == 201
