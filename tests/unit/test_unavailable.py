"""A store or a service that does not answer is 503 `service-unavailable`, never 500: Redis
gone under a domain service (mapped once, at the `@rpc` edge), under the gateway itself
(API keys, rate counts), and `/health` naming which dependency is down."""
import json

import pytest
import redis
from nameko.exceptions import RemoteError
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder

from services.common.contract.problems import Problem
from services.common.messaging.rpc_server import rpc
from services.gateway.service import GatewayService


def request(path: str, method: str = "GET", key: str | None = "some-key"):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return EnvironBuilder(path=path, method=method, headers=headers).get_request()


def answer(response) -> tuple[int, dict]:
    return response.status_code, json.loads(response.get_data(as_text=True))


class Ledger:
    name = "ledger"

    @rpc
    def lost_store(self, code: str) -> dict:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    @rpc
    def slow_store(self) -> dict:
        raise redis.TimeoutError("Timeout reading from socket")

    @rpc
    def refusal(self) -> dict:
        raise Problem(409, "role-taken", "taken")


@pytest.mark.parametrize("call", [lambda s: s.lost_store("610581"), lambda s: s.slow_store()])
def test_an_rpc_entrypoint_whose_redis_does_not_answer_answers_503(call):
    with pytest.raises(Problem) as raised:
        call(Ledger())
    assert raised.value.status == 503
    assert raised.value.type == "service-unavailable"
    assert "ledger" in raised.value.detail and "Redis" in raised.value.detail


def test_the_rpc_edge_leaves_other_answers_and_the_signature_alone():
    import inspect

    with pytest.raises(Problem) as raised:
        Ledger().refusal()
    assert raised.value.status == 409
    assert list(inspect.signature(Ledger.lost_store).parameters) == ["self", "code"]


def test_the_gateways_own_redis_gone_is_503_not_500():
    gateway = worker_factory(GatewayService)
    gateway.keys.authenticate.side_effect = redis.ConnectionError("Connection refused")
    status, body = answer(gateway.list_departments(request("/v1/departments")))
    assert status == 503
    assert body["type"] == "service-unavailable" and "gateway" in body["detail"]


def test_health_names_a_service_whose_check_failed_as_down_with_503():
    gateway = worker_factory(GatewayService)
    gateway.assignment.call_within.side_effect = RemoteError("ConnectionError", "refused")
    gateway.resources.call_within.side_effect = Problem(
        503, "service-unavailable", "the resources service did not answer within 2.0s")
    gateway.notifications.call_within.return_value = "ok"
    status, body = answer(gateway.health(request("/health", key=None)))
    assert status == 503
    assert body["status"] == "degraded"
    assert body["services"] == {"assignment": "down", "resources": "down",
                                "notifications": "ok"}
    assert body["causes"]["resources"] == "the resources service did not answer within 2.0s"
    assert "assignment" in body["causes"]["assignment"]


def test_health_is_503_when_the_gateways_own_redis_does_not_answer():
    gateway = worker_factory(GatewayService)
    for name in ("assignment", "resources", "notifications"):
        getattr(gateway, name).call_within.return_value = "ok"
    gateway.keys.redis.ping.side_effect = redis.ConnectionError("Connection refused")
    status, body = answer(gateway.health(request("/health", key=None)))
    assert status == 503
    assert body["services"] == {"assignment": "ok", "resources": "ok", "notifications": "ok"}
    assert "Redis" in body["causes"]["gateway"]


def test_health_is_200_with_the_contracts_body_when_everything_answers():
    gateway = worker_factory(GatewayService)
    for name in ("assignment", "resources", "notifications"):
        getattr(gateway, name).call_within.return_value = "ok"
    status, body = answer(gateway.health(request("/health", key=None)))
    assert (status, body) == (200, {"status": "ok", "services": {
        "assignment": "ok", "resources": "ok", "notifications": "ok"}})


class _BrokerGone:
    """An RPC proxy whose request cannot be published: the broker went away."""

    def __getattr__(self, method):
        return self

    def call_async(self, *args, **kwargs):
        from kombu.exceptions import OperationalError
        raise OperationalError("[Errno 111] Connection refused")


def test_an_rpc_the_broker_cannot_take_is_503_not_500():
    from services.common.messaging.rpc_client import BoundedService

    with pytest.raises(Problem) as refused:
        BoundedService(_BrokerGone(), "resources", timeout=1.0).commit_resources({})
    assert (refused.value.status, refused.value.type) == (503, "service-unavailable")
    assert "broker" in refused.value.detail
