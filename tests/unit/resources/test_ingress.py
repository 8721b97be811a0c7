"""The AMQP ingress of department systems, without a broker: what a message is answered,
and which messages are parked."""
import json

import pytest

from services.common.contract.problems import Problem
from services.resources.use_cases import ingress, pools
from tests.unit.resources.conftest import ADMIN, V1, commitment_body, directory, events_in


def message(body, sender="dept-agri", message_id="order-1"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw, {"sender": sender, "message_id": message_id}


def test_a_commitment_over_amqp_is_answered_201_and_its_message_id_is_the_key(pooled, redis):
    answer = ingress.receive_commitment(pooled, directory, *message(commitment_body("2.5")))
    assert (answer.status, answer.park_reason) == (201, None)
    assert (answer.body["quantity"], answer.body["village_code"]) == ("2.50", V1)
    again = ingress.receive_commitment(pooled, directory, *message(commitment_body("2.5")))
    assert again.body == answer.body
    assert [e["type"] for e in events_in(redis, "dept:agri")].count(
        "resources.commitment_created") == 1


@pytest.mark.parametrize("body, sender, status, problem_type, parked", [
    (commitment_body("1000"), "dept-agri", 409, "insufficient-pool", False),
    (commitment_body("1"), "dept-agri", 409, "idempotency-key-reused", False),  # order-1 again
    (b"{not json", "dept-agri", 400, "malformed-json", True),
    ([1, 2], "dept-agri", 422, "validation-failed", True),
    (commitment_body("-3"), "dept-agri", 422, "validation-failed", True),
    (commitment_body("1", department="water"), "dept-agri", 403, "forbidden", True),
    (commitment_body("1"), "guest", 403, "not-a-department-account", True),
    (commitment_body("1"), None, 403, "not-a-department-account", True),
])
def test_a_refused_message_is_answered_and_parked_only_when_the_sender_is_at_fault(
        pooled, body, sender, status, problem_type, parked):
    ingress.receive_commitment(pooled, directory, *message(commitment_body("2")))
    reused = problem_type == "idempotency-key-reused"
    answer = ingress.receive_commitment(pooled, directory, *message(
        body, sender, "order-1" if reused else "order-2"))
    assert (answer.status, answer.body["type"]) == (status, problem_type)
    assert answer.body["status"] == status
    assert (answer.park_reason is not None) == parked
    assert pools.get_pool(pooled, directory, ADMIN, "agri")["items"][0]["reserved"] == "2.00"


def test_a_problem_of_ours_sends_the_message_back_to_be_tried_again(pooled):
    def directory_away(kind, code):
        raise Problem(503, "service-unavailable", "assignment did not answer")

    with pytest.raises(Problem) as raised:
        ingress.receive_commitment(pooled, directory_away, *message(commitment_body("1")))
    assert raised.value.status == 503
